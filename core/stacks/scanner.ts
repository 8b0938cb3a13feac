// The cheap pass of the source index: one linear walk over a C/C++ file that skips comments,
// strings and preprocessor lines, matches braces, tracks namespaces and classes, and at each
// `{` opened at namespace or class level decides from the text before it (the "header")
// whether a function body starts. Function bodies are skipped brace by brace, never parsed:
// that is where a full parser spends its time and where no definition we index can be.
// The real parser (tree-sitter, see ./cppParse.ts) is used later only for what this pass
// cannot decide: which lambda of a function a frame means, and signatures left ambiguous.

export interface Definition {
  /** Last name component: `dispatch`, `TcpListenerImpl` (ctor), `~Foo`, `operator()`. */
  name: string;
  /** Fully qualified, template arguments stripped, anonymous namespaces dropped. */
  qname: string;
  /** Parameter list text, whitespace collapsed, without the parentheses. */
  params: string;
  /** Smallest and largest argument count a call can pass (defaults, `...`). */
  minArgs: number;
  maxArgs: number;
  /** 1-based line and 0-based column of the name. */
  line: number;
  column: number;
  /** Offsets of the header start, the body's `{` and `}`: the slice a parser needs later. */
  start: number;
  bodyStart: number;
  bodyEnd: number;
  endLine: number;
}

type Scope =
  | { kind: 'ns'; names: string[] }
  | { kind: 'class'; names: string[] }
  | { kind: 'extern'; names: string[] }
  | { kind: 'func'; def: Definition }
  | { kind: 'block' }
  | { kind: 'init'; resume: number };

const KEYWORDS_NOT_NAMES = new Set([
  'if',
  'for',
  'while',
  'switch',
  'catch',
  'return',
  'sizeof',
  'decltype',
  'alignas',
  'alignof',
  'static_assert',
  '__attribute__',
  'throw',
  'new',
  'delete',
  'noexcept',
  'typeid',
  'defined',
  '__declspec',
  'requires',
  'do',
  'else',
  'case',
  'asm',
  '__asm__',
]);
const TAIL_WORDS = new Set(['const', 'volatile', 'override', 'final', 'noexcept', 'mutable', 'try', 'throw']);

/** Scans one file's text. Never throws on odd input: unbalanced code yields fewer definitions. */
export function scanDefinitions(text: string): Definition[] {
  const defs: Definition[] = [];
  const n = text.length;
  const stack: Scope[] = [{ kind: 'ns', names: [] }];
  let headerStart = 0;
  let dirty = false; // a comment or directive inside the current header
  let i = 0;
  // Jump from one character that matters to the next: the regex engine skips identifiers and
  // whitespace natively, far faster than a JavaScript loop over every character.
  const special = /[/"'#;{}]/g;
  while (i < n) {
    special.lastIndex = i;
    if (!special.exec(text)) break;
    i = special.lastIndex - 1;
    const c = text.charCodeAt(i);
    switch (c) {
      case 47: {
        // '/'
        const d = text.charCodeAt(i + 1);
        if (d === 47) {
          const e = text.indexOf('\n', i + 2);
          const end = e < 0 ? n : e;
          // A comment before any code of the header (a doc comment) just moves the header's start:
          // only comments inside a signature need the header cleaned.
          if (onlySpace(text, headerStart, i)) headerStart = end;
          else dirty = true;
          i = end;
          continue;
        }
        if (d === 42) {
          const e = text.indexOf('*/', i + 2);
          const end = e < 0 ? n : e + 2;
          if (onlySpace(text, headerStart, i)) headerStart = end;
          else dirty = true;
          i = end;
          continue;
        }
        break;
      }
      case 34: // '"'
        i = skipString(text, i);
        continue;
      case 39: // '\''
        i = skipChar(text, i);
        continue;
      case 35: {
        // '#': a directive only when first on its line
        let j = i - 1;
        while (j >= 0 && (text.charCodeAt(j) === 32 || text.charCodeAt(j) === 9)) j--;
        if (j < 0 || text.charCodeAt(j) === 10) {
          const end = skipDirective(text, i);
          if (onlySpace(text, headerStart, i)) headerStart = end;
          else dirty = true;
          i = end;
          continue;
        }
        break;
      }
      case 59: {
        // ';'
        const top = stack[stack.length - 1];
        if (top.kind === 'ns' || top.kind === 'class' || top.kind === 'extern') {
          headerStart = i + 1;
          dirty = false;
        }
        break;
      }
      case 123: {
        // '{'
        const top = stack[stack.length - 1];
        if (top.kind === 'ns' || top.kind === 'class' || top.kind === 'extern') {
          const scope = classify(text, headerStart, i, dirty, stack, defs);
          stack.push(scope);
          if (scope.kind !== 'init') {
            headerStart = i + 1;
            dirty = false;
          }
        } else {
          stack.push({ kind: 'block' });
        }
        break;
      }
      case 125: {
        // '}'
        if (stack.length > 1) {
          const top = stack.pop()!;
          if (top.kind === 'func') top.def.bodyEnd = i;
          if (top.kind === 'init') break; // the header continues after a member's brace initializer
        }
        const parent = stack[stack.length - 1];
        if (parent.kind === 'ns' || parent.kind === 'class' || parent.kind === 'extern') {
          headerStart = i + 1;
          dirty = false;
        }
        break;
      }
    }
    i++;
  }
  assignLines(text, defs);
  return defs;
}

function onlySpace(text: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (c !== 32 && c !== 10 && c !== 9 && c !== 13) return false;
  }
  return true;
}

function skipString(text: string, i: number): number {
  // Raw string: R"delim( … )delim", also u8R, uR, UR, LR.
  if (text.charCodeAt(i - 1) === 82 /* R */) {
    let j = i - 2;
    while (j >= 0 && isIdent(text.charCodeAt(j))) j--;
    const prefix = text.slice(j + 1, i - 1);
    if (prefix === '' || prefix === 'u8' || prefix === 'u' || prefix === 'U' || prefix === 'L') {
      const open = text.indexOf('(', i + 1);
      if (open > 0 && open - i <= 17) {
        const delim = `)${text.slice(i + 1, open)}"`;
        const e = text.indexOf(delim, open + 1);
        return e < 0 ? text.length : e + delim.length;
      }
    }
  }
  let j = i + 1;
  const n = text.length;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 92) j += 2;
    else if (c === 34 || c === 10) return j + 1;
    else j++;
  }
  return n;
}

function skipChar(text: string, i: number): number {
  // A digit separator (1'000'000, 0xFF'FF) is not a character literal.
  let j = i - 1;
  while (j >= 0 && isIdent(text.charCodeAt(j))) j--;
  const first = text.charCodeAt(j + 1);
  if (j + 1 < i && first >= 48 && first <= 57) return i + 1;
  let k = i + 1;
  const n = text.length;
  while (k < n && k < i + 12) {
    const c = text.charCodeAt(k);
    if (c === 92) k += 2;
    else if (c === 39 || c === 10) return k + 1;
    else k++;
  }
  return i + 1;
}

function skipDirective(text: string, i: number): number {
  const n = text.length;
  let j = i;
  while (j < n) {
    const e = text.indexOf('\n', j);
    if (e < 0) return n;
    // Comments may hide a line end: `#define X /* … \n … */` is rare enough to ignore.
    let k = e - 1;
    if (text.charCodeAt(k) === 13) k--;
    if (text.charCodeAt(k) !== 92) return e;
    j = e + 1;
  }
  return n;
}

function isIdent(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Replaces comments and directives by spaces, keeping offsets and newlines. */
function cleanHeader(h: string): string {
  return h.replace(/\/\/[^\n]*|\/\*[\s\S]*?\*\/|^[ \t]*#(?:[^\n]*\\\r?\n)*[^\n]*/gm, (m) =>
    m.replace(/[^\n]/g, ' '),
  );
}

const MAX_HEADER = 4000;
const ACCESS = /^(?:\s*(?:public|private|protected)\s*(?:slots\s*)?:(?!:))+/;
const ATTRS = /\[\[[^\]]*\]\]/g;

function classify(
  text: string,
  start: number,
  brace: number,
  dirty: boolean,
  stack: Scope[],
  defs: Definition[],
): Scope {
  // Headers after macro calls without semicolons can grow long; a signature never needs more.
  let from = start;
  if (brace - start > MAX_HEADER) {
    const nl = text.indexOf('\n', brace - MAX_HEADER);
    from = nl >= 0 && nl < brace ? nl + 1 : brace - MAX_HEADER;
  }
  let h = text.slice(from, brace);
  if (dirty) h = cleanHeader(h);
  const access = ACCESS.exec(h);
  let base = from;
  if (access) {
    base += access[0].length;
    h = h.slice(access[0].length);
  }
  const trimmed = h.trim();
  if (trimmed === '') return { kind: 'block' };
  const first = trimmed.charCodeAt(0);
  if (first === 110 /* n */ || first === 105 /* i */) {
    const ns = /^(?:inline\s+)?namespace\b([\s\S]*)$/.exec(trimmed);
    if (ns) {
      const names = ns[1]
        .replace(ATTRS, '')
        .split('::')
        .map((s) => s.replace(/^\s*inline\s+/, '').trim())
        .filter((s) => /^[A-Za-z_]\w*$/.test(s));
      return { kind: 'ns', names };
    }
  }
  if (first === 101 /* e */) {
    if (/^extern\s+"C(\+\+)?"$/.test(trimmed)) return { kind: 'extern', names: [] };
    if (/^enum\b/.test(trimmed)) return { kind: 'block' };
  }
  // An unclosed parenthesis: the brace opens an expression (a lambda in an initializer list).
  if (parenBalance(h) > 0) return { kind: 'init', resume: start };
  // `Foo::Foo() : a_{1}, b_{2} {` — the brace after a member name belongs to the initializer list.
  const fn = functionHeader(h);
  if (fn) {
    const tail = h.slice(fn.close + 1);
    if (/^\s*:(?!:)/.test(tail)) {
      const lastWord = /([A-Za-z_]\w*|>)\s*$/.exec(tail);
      if (lastWord && !TAIL_WORDS.has(lastWord[1])) return { kind: 'init', resume: start };
    }
    const outer = enclosingNames(stack);
    const quals = fn.qualifiers;
    const qname = outer.concat(quals, fn.name).join('::');
    const params = fn.params.replace(/\s+/g, ' ').trim();
    const [minArgs, maxArgs] = argCounts(params);
    const def: Definition = {
      name: detach(fn.name),
      qname,
      params: detach(params),
      minArgs,
      maxArgs,
      line: 0,
      column: 0,
      start: base + fn.nameOffset,
      bodyStart: brace,
      bodyEnd: brace,
      endLine: 0,
    };
    defs.push(def);
    return { kind: 'func', def };
  }
  const cls = /^(?:typedef\s+)?(?:class|struct|union)\b([\s\S]*)$/.exec(stripTemplatePrefix(trimmed));
  if (cls) return { kind: 'class', names: className(cls[1]) };
  return { kind: 'block' };
}

/** Removes leading `template <…>` clauses (balanced angle brackets). */
function stripTemplatePrefix(s: string): string {
  let t = s;
  while (t.startsWith('template')) {
    const open = t.indexOf('<');
    if (open < 0 || t.slice(8, open).trim() !== '') return t;
    let depth = 0;
    let i = open;
    for (; i < t.length; i++) {
      if (t[i] === '<') depth++;
      else if (t[i] === '>' && --depth === 0) break;
    }
    t = t.slice(i + 1).trimStart();
  }
  return t;
}

/** `ABSL_LOCKABLE Foo final : public Bar<T>` → [`Foo`]; `Outer::Inner` → both. */
function className(head: string): string[] {
  let h = head
    .replace(ATTRS, '')
    .replace(/\b(?:alignas|__attribute__|__declspec)\s*\((?:[^()]|\([^()]*\))*\)/g, '');
  let depth = 0;
  for (let i = 0; i < h.length; i++) {
    const c = h[i];
    if (c === '<') depth++;
    else if (c === '>') depth--;
    else if (c === ':' && depth === 0) {
      if (h[i + 1] === ':') i++;
      else {
        h = h.slice(0, i);
        break;
      }
    }
  }
  h = h.replace(/\bfinal\s*$/, '').trim();
  // Template arguments of a specialization are not part of the name we match.
  h = h.replace(new RegExp(TPL, 'g'), '').trim();
  const last = /([A-Za-z_][\w:]*)$/.exec(h);
  return last ? last[1].split('::').filter(Boolean) : [];
}

/**
 * A copy of a substring that does not keep the whole file's text alive (V8 represents long
 * substrings as slices of their parent): the index would otherwise hold every file it read.
 */
function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

function parenBalance(h: string): number {
  let d = 0;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (c === 40) d++;
    else if (c === 41) d--;
  }
  return d;
}

function enclosingNames(stack: Scope[]): string[] {
  const out: string[] = [];
  for (const s of stack) if (s.kind === 'ns' || s.kind === 'class') out.push(...s.names);
  return out;
}

interface FnHeader {
  name: string;
  qualifiers: string[];
  params: string;
  /** Offset of the name in the header; of the parameter list's closing parenthesis. */
  nameOffset: number;
  close: number;
}

const TPL = '<(?:[^;{}<>]|<(?:[^;{}<>]|<[^;{}<>]*>)*>)*>';
const NAME_BEFORE_PARAMS = new RegExp(
  `((?:[A-Za-z_]\\w*\\s*(?:${TPL})?\\s*::\\s*)*)` +
    /(~\s*[A-Za-z_]\w*|operator\s*(?:\(\s*\)|\[\s*\]|new(?:\s*\[\])?|delete(?:\s*\[\])?|""\s*[A-Za-z_]\w*|[^\w\s()]+|[A-Za-z_][\w\s:*&<>]*?)|[A-Za-z_]\w*)\s*$/
      .source,
);

/** Finds the parameter list of a function definition header, or undefined when it is none. */
function functionHeader(h: string): FnHeader | undefined {
  let depth = 0;
  let angle = 0;
  let open = -1;
  for (let i = 0; i < h.length; i++) {
    const c = h.charCodeAt(i);
    if (depth === 0 && c === 60) angle++;
    else if (depth === 0 && c === 62 && angle > 0 && h.charCodeAt(i - 1) !== 45) angle--;
    else if (c === 40) {
      if (depth === 0) open = i;
      depth++;
    } else if (c === 41) {
      depth--;
      if (depth === 0 && open >= 0) {
        if (validTail(h.slice(i + 1))) return nameAt(h, open, i);
        open = -1;
      } else if (depth < 0) {
        // A cut header may start inside a parenthesis: what came before does not matter.
        depth = 0;
        open = -1;
      }
    } else if (c === 61 && depth === 0 && angle === 0) {
      // `x = …` at top level: an initializer, unless it is part of `operator=`/`==`/`<=` etc.
      const before = h.slice(Math.max(0, i - 12), i);
      if (
        !/operator\s*[=!<>+\-*/%^&|]*$/.test(before) &&
        h.charCodeAt(i + 1) !== 61 &&
        !/[=!<>]$/.test(before)
      )
        return undefined;
    }
  }
  return undefined;
}

const TAIL_TOKENS = [
  /(?:const|volatile|override|final|mutable|try)\b/y,
  /&&|&/y,
  /noexcept\b(?:\s*\([^)]*\))?/y,
  /throw\s*\([^)]*\)/y,
  /\[\[[^\]]*\]\]/y,
  /__attribute__\s*\(\([^)]*\)\)/y,
  // A macro such as ABSL_LOCKS_EXCLUDED(mu_) or ENVOY_OVERRIDE.
  /[A-Z_][A-Z0-9_]*\b(?:\s*\([^)]*\))?/y,
];

/** What may follow a parameter list before the body: qualifiers, an initializer list, a trailing return. */
function validTail(tail: string): boolean {
  // A token loop, not one regex: nested quantifiers over macro names backtrack exponentially.
  let i = 0;
  const n = tail.length;
  for (;;) {
    while (i < n && /\s/.test(tail[i])) i++;
    if (i >= n) return true;
    if (tail[i] === ':' && tail[i + 1] !== ':') return true; // constructor initializer list
    if (tail.startsWith('->', i) || tail.startsWith('requires', i)) return true;
    let matched = false;
    for (const re of TAIL_TOKENS) {
      re.lastIndex = i;
      const m = re.exec(tail);
      if (m && m[0].length) {
        i += m[0].length;
        matched = true;
        break;
      }
    }
    if (!matched) return false;
  }
}

function nameAt(h: string, open: number, close: number): FnHeader | undefined {
  const from = Math.max(0, open - 400);
  const prefix = h.slice(from, open);
  const m = NAME_BEFORE_PARAMS.exec(prefix);
  if (!m) return undefined;
  const raw = m[2];
  const name =
    raw.charCodeAt(0) === 111 /* o */ || raw.charCodeAt(0) === 126 /* ~ */
      ? raw
          .replace(/\s+/g, raw.startsWith('operator') ? ' ' : '')
          .replace(/^operator ([^\w])/, 'operator$1')
          .trim()
      : raw;
  if (KEYWORDS_NOT_NAMES.has(name)) return undefined;
  // A macro call like `TEST_F(A, B)` is indexed too: it is what a frame of a test shows.
  const before = prefix.slice(0, m.index).trimEnd();
  if (/[=.]$|->$/.test(before) || /\breturn$/.test(before)) return undefined;
  const qualifiers = m[1]
    .split('::')
    .map((s) => s.replace(/<[\s\S]*$/, '').trim())
    .filter(Boolean);
  return {
    name: name.startsWith('operator') ? name.replace(/\s+(?=[^\w\s])/g, '') : name,
    qualifiers,
    params: h.slice(open + 1, close),
    nameOffset: from + m.index + m[1].length,
    close,
  };
}

function argCounts(params: string): [number, number] {
  const p = params.trim();
  if (p === '' || p === 'void') return [0, 0];
  let depth = 0;
  let min = 0;
  let max = 0;
  let hasDefault = false;
  const finish = (end: number, startAt: number): boolean => {
    // `...` (C varargs or a parameter pack) takes any number of arguments.
    if (p.lastIndexOf('...', end) >= startAt) return false;
    max++;
    if (!hasDefault) min++;
    return true;
  };
  let startAt = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 60 || c === 40 || c === 91 || c === 123) depth++;
    else if (c === 62 || c === 41 || c === 93 || c === 125) depth--;
    else if (depth === 0 && c === 61) {
      // `=` of a default argument, not `==`, `<=`, `>=`, `!=`.
      const prev = p.charCodeAt(i - 1);
      const next = p.charCodeAt(i + 1);
      if (next !== 61 && prev !== 61 && prev !== 33 && prev !== 60 && prev !== 62) hasDefault = true;
    } else if (c === 44 && depth === 0) {
      if (!finish(i, startAt)) return [min, Infinity];
      startAt = i + 1;
      hasDefault = false;
    }
  }
  if (!finish(p.length, startAt)) return [min, Infinity];
  return [min, max];
}

function assignLines(text: string, defs: Definition[]): void {
  if (!defs.length) return;
  // One walk over the newlines serves both the name and the end offsets, sorted together.
  const points: Array<{ off: number; set: (line: number, col: number) => void }> = [];
  for (const d of defs) {
    points.push({ off: d.start, set: (l, c) => ((d.line = l), (d.column = c)) });
    points.push({ off: d.bodyEnd, set: (l) => (d.endLine = l) });
  }
  points.sort((a, b) => a.off - b.off);
  let line = 1;
  let lineStart = 0;
  let k = 0;
  let nl = text.indexOf('\n');
  while (k < points.length) {
    const p = points[k];
    if (nl >= 0 && nl < p.off) {
      line++;
      lineStart = nl + 1;
      nl = text.indexOf('\n', nl + 1);
      continue;
    }
    p.set(line, p.off - lineStart);
    k++;
  }
}
