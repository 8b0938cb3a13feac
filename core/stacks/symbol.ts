// Structure of a demangled C++ (or C) symbol, as far as finding its definition needs it:
// the scope (namespaces and classes, template arguments stripped), the function name, the
// parameter types, and for a lambda the function that encloses it. Written as a small
// bracket-aware splitter over the demangler's output, not as a regex: names nest (lambdas in
// constructors of nested classes, templates of lambdas) and operators contain brackets.

export type SymbolKind = 'function' | 'constructor' | 'destructor' | 'operator' | 'lambda' | 'c';

export interface ParsedSymbol {
  /** The demangled text the structure was read from. */
  text: string;
  /** Namespaces and classes, outermost first, template arguments stripped, anonymous namespaces dropped. */
  scope: string[];
  /** Function name: `dispatch`, `ConnectionImpl` (ctor), `~ConnectionImpl`, `operator()`. */
  name: string;
  /** Parameter types as printed; undefined when the symbol carries none (C functions). */
  params?: string[];
  kind: SymbolKind;
  /** `virtual thunk to`, `non-virtual thunk to`, … when the frame is a thunk. */
  thunk?: string;
  /** For a lambda: the enclosing function and how the compiler named the closure. */
  lambda?: {
    enclosing: ParsedSymbol;
    /** `$_22` (clang), `#1` (GCC numbering of `{lambda(void*)#1}`). */
    id: string;
    /** Closure parameter types when the name spells them (`{lambda(void*)#1}`), else the invoker's. */
    params?: string[];
    /** 1-based ordinal among closures of the same signature (`#N`), when known. */
    ordinal?: number;
  };
  /** Set when the frame is a library wrapper (std::function) around the user lambda or function. */
  via?: string;
}

const THUNK_PREFIXES = [
  'virtual thunk to ',
  'non-virtual thunk to ',
  'covariant return thunk to ',
  'transaction clone for ',
];

interface Component {
  /** Name without template arguments. */
  name: string;
  /** Text including template arguments. */
  full: string;
  /** Template arguments, split at top level. */
  templateArgs?: string[];
  /** Parameter list when this component is a function (`f(int)` in `f(int)::$_1`). */
  params?: string[];
}

/** Parses a demangled symbol. Never throws: unknown shapes come back as kind `c` with the text as name. */
export function parseSymbol(input: string): ParsedSymbol {
  let text = input.trim();
  let thunk: string | undefined;
  for (const p of THUNK_PREFIXES) {
    if (text.startsWith(p)) {
      thunk = p.trim();
      text = text.slice(p.length);
    }
  }
  // GCC clones and ABI tags change nothing about where the source is.
  text = text
    .replace(/\s*\[clone [^\]]*\]/g, '')
    .replace(/\[abi:[^\]]*\]/g, '')
    .replace(/\.(cold|part\.\d+|constprop\.\d+|isra\.\d+|lto_priv\.\d+)+$/g, '');
  const comps = splitComponents(text);
  const sym = fromComponents(input.trim(), comps);
  if (thunk) sym.thunk = thunk;
  const via = libraryWrapperTarget(sym);
  if (via) return { ...via, text: input.trim(), via: sym.scope.concat(sym.name).join('::'), thunk };
  return sym;
}

function fromComponents(text: string, comps: Component[]): ParsedSymbol {
  if (comps.length === 0) return { text, scope: [], name: text, kind: 'c' };
  // The last lambda marker splits the symbol into enclosing function and closure.
  for (let i = comps.length - 1; i >= 0; i--) {
    const lam = lambdaMarker(comps[i].full);
    if (!lam) continue;
    const enclosing = fromComponents(
      comps
        .slice(0, i)
        .map((c) => c.full + (c.params ? `(${c.params.join(', ')})` : ''))
        .join('::'),
      comps.slice(0, i),
    );
    const invoker = comps[comps.length - 1];
    return {
      text,
      scope: enclosing.scope.concat(enclosing.name),
      name: invoker.name,
      params: lam.params ?? invoker.params,
      kind: 'lambda',
      lambda: { enclosing, id: lam.id, params: lam.params ?? invoker.params, ordinal: lam.ordinal },
    };
  }
  const last = comps[comps.length - 1];
  const scope = comps
    .slice(0, -1)
    .map((c) => c.name)
    .filter((n) => n !== '(anonymous namespace)' && n !== '');
  const name = last.name;
  let kind: SymbolKind;
  if (!last.params && scope.length === 0) kind = 'c';
  else if (name.startsWith('~')) kind = 'destructor';
  else if (name.startsWith('operator')) kind = 'operator';
  else if (scope.length && scope[scope.length - 1] === name) kind = 'constructor';
  else kind = 'function';
  return { text, scope, name, params: last.params, kind };
}

/** `$_22`, `{lambda(void*)#1}`, `'lambda'(void*)`, `'lambda0'()`. */
function lambdaMarker(s: string): { id: string; params?: string[]; ordinal?: number } | undefined {
  let m = /^\$_(\d+)$/.exec(s);
  if (m) return { id: s };
  m = /^\{lambda\((.*)\)#(\d+)\}$/.exec(s);
  if (m) return { id: `#${m[2]}`, params: splitTopLevel(m[1]), ordinal: Number(m[2]) };
  m = /^'lambda(\d*)'\((.*)\)$/.exec(s);
  if (m) return { id: `'lambda${m[1]}'`, params: splitTopLevel(m[2]), ordinal: m[1] ? Number(m[1]) + 1 : 1 };
  return undefined;
}

/**
 * `std::__1::__function::__func<Envoy::…::addListener(…)::$_2, …>::operator()()` is libc++
 * calling a lambda through std::function; libstdc++ spells it `_Function_handler<…>::_M_invoke`.
 * The source a reader wants is the lambda, so the wrapper resolves to its first template argument.
 */
function libraryWrapperTarget(sym: ParsedSymbol): ParsedSymbol | undefined {
  if (sym.scope[0] !== 'std' && sym.scope[0] !== '__gnu_cxx') return undefined;
  const comps = splitComponents(sym.text.replace(/^(virtual |non-virtual )?thunk to /, ''));
  for (const c of comps) {
    for (const arg of c.templateArgs ?? []) {
      // `std::__invoke<…::$_1&>` passes the closure by reference.
      const a = arg.trim().replace(/(\s*const)?\s*[&*]+$/, '');
      if (/::(\$_\d+|\{lambda\(.*\)#\d+\}|'lambda\d*'\(.*\))$/.test(a) || /^[\w:]+::[\w~]+\(.*\)$/.test(a)) {
        const inner = parseSymbol(a);
        if (inner.kind === 'lambda' || inner.scope[0] !== 'std') return inner;
      }
    }
  }
  return undefined;
}

/**
 * Splits `A::B<x::y>::f(int)::$_1::__invoke(void*) const` into components at top-level `::`,
 * removing a leading return type (templates print one) and trailing cv/ref qualifiers.
 */
function splitComponents(text: string): Component[] {
  const comps: Component[] = [];
  let i = 0;
  const n = text.length;
  let cur = '';
  let templateArgs: string[] | undefined;
  let params: string[] | undefined;
  const push = () => {
    comps.push({
      name: cur.trim(),
      full: cur.trim() + (templateArgs ? `<${templateArgs.join(', ')}>` : ''),
      templateArgs,
      params,
    });
    cur = '';
    templateArgs = undefined;
    params = undefined;
  };
  while (i < n) {
    const c = text[i];
    if (
      text.startsWith('operator', i) &&
      /^[\s(]?$|[^\w]/.test(text[i + 8] ?? '') &&
      (i === 0 || /[\s:~]/.test(text[i - 1]))
    ) {
      const op = readOperator(text, i);
      cur += op.text;
      i = op.end;
      continue;
    }
    if (c === ':' && text[i + 1] === ':') {
      push();
      i += 2;
      continue;
    }
    if (c === '<') {
      const end = matchClose(text, i, '<', '>');
      templateArgs = splitTopLevel(text.slice(i + 1, end));
      i = end + 1;
      continue;
    }
    if (c === '(') {
      const end = matchClose(text, i, '(', ')');
      const inner = text.slice(i + 1, end);
      if (cur.trim() === '' && inner === 'anonymous namespace') {
        cur = '(anonymous namespace)';
      } else if (cur.trim() === '' && comps.length === 0 && !params) {
        // A function-pointer return type or similar: not a name we can use.
        cur += text.slice(i, end + 1);
      } else if (/^'lambda\d*'$/.test(cur.trim())) {
        cur += text.slice(i, end + 1);
      } else {
        params = inner.trim() === '' || inner.trim() === 'void' ? [] : splitTopLevel(inner);
      }
      i = end + 1;
      continue;
    }
    if (c === '{') {
      const end = matchClose(text, i, '{', '}');
      cur += text.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    if (c === ' ') {
      // A space at top level: either trailing qualifiers after the parameters, or a return type
      // before the name (`void Envoy::f<int>(int)`).
      if (params) break;
      if (!params && cur.trim() !== '' && !/^(unsigned|signed|long|short)$/.test(cur.trim())) {
        // Drop what came before: it was a return type.
        comps.length = 0;
        cur = '';
        templateArgs = undefined;
      }
      i++;
      continue;
    }
    cur += c;
    i++;
  }
  if (cur.trim() !== '' || templateArgs || params) push();
  return comps;
}

function readOperator(text: string, i: number): { text: string; end: number } {
  let j = i + 8;
  while (text[j] === ' ') j++;
  if (text.startsWith('()', j)) return { text: 'operator()', end: j + 2 };
  if (text.startsWith('[]', j)) return { text: 'operator[]', end: j + 2 };
  const sym =
    /^(new\[\]|delete\[\]|new|delete|->\*|->|<<=|>>=|<=>|<<|>>|<=|>=|==|!=|&&|\|\||\+\+|--|[-+*/%^&|~!=<>,]=?|"" ?\w+)/.exec(
      text.slice(j),
    );
  if (sym) return { text: `operator${/^\w/.test(sym[1]) ? ' ' : ''}${sym[1]}`, end: j + sym[1].length };
  // Conversion operator: `operator unsigned long`, up to the parameter list.
  let k = j;
  let depth = 0;
  while (k < text.length) {
    const ch = text[k];
    if (ch === '<') depth++;
    else if (ch === '>') depth--;
    else if (ch === '(' && depth === 0) break;
    k++;
  }
  return { text: `operator ${text.slice(j, k).trim()}`, end: k };
}

/** Index of the bracket closing the one at `start`, counting nesting of all bracket kinds. */
function matchClose(text: string, start: number, open: string, close: string): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === open) depth++;
    else if (c === close) {
      depth--;
      if (depth === 0) return i;
    } else if (open === '<' && c === '(') {
      i = matchClose(text, i, '(', ')');
    }
  }
  return text.length - 1;
}

/** Splits at commas not nested in any bracket. */
export function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '<' || c === '(' || c === '[' || c === '{') depth++;
    else if (c === '>' || c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  const last = s.slice(start).trim();
  if (last || out.length) out.push(last);
  return out;
}

/** `Envoy::Network::Foo::bar` — the qualified function name, the key the index is searched by. */
export function qualifiedName(sym: ParsedSymbol): string {
  return sym.scope.concat(sym.name).join('::');
}
