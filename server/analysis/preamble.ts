// What comes before the probes: #include and #define, C definitions (their enum constants),
// the `config = { }` block, `import`; and the 0.17-0.25 lexer's trailing-comment quirk.
import type { Program } from '../syntax/ast';
import type { Checker } from './checker';
import { CONFIG_KEYS } from './dialects';
import { closest } from './suggest';

/** bpftrace 0.17's lexer reads `//...` at the very end of a file with no newline as `/`. */
export function trailingComment(cx: Checker): void {
  if (!cx.dialect.has('trailingCommentQuirk') || cx.text.endsWith('\n')) return;
  const last = cx.parsed.comments[cx.parsed.comments.length - 1];
  if (last && !last.block && last.end === cx.text.length) {
    cx.report(
      last,
      'error',
      'syntax',
      `syntax error: bpftrace ${cx.dialect.name} reads a // comment on the last line without a newline as the end of a predicate; add a newline`,
      {
        fixes: [
          {
            start: cx.text.length,
            end: cx.text.length,
            newText: '\n',
            title: 'Add a newline at the end',
          },
        ],
      },
    );
  }
}

export function preamble(cx: Checker, program: Program): void {
  for (const pp of program.preprocessor) {
    if (pp.directive === 'include') {
      const table = cx.catalog.constants(pp.argument);
      if (table)
        for (const [k, v] of table) cx.constants.set(k, { value: String(v), origin: `<${pp.argument}>` });
      else cx.opaqueHeaders.push(pp.argument);
    } else if (pp.directive === 'define' && pp.value !== undefined) {
      cx.constants.set(pp.argument, { value: pp.value, origin: '#define' });
    }
  }
  for (const def of program.cDefinitions) {
    if (def.keyword === 'enum') {
      let next = 0;
      for (const part of def.body.split(',')) {
        const m = /^\s*([A-Za-z_]\w*)\s*(?:=\s*(.+?))?\s*$/s.exec(part);
        if (!m) continue;
        if (m[2] !== undefined && /^-?\d+$|^0x[0-9a-f]+$/i.test(m[2])) next = Number(m[2]);
        cx.constants.set(m[1], { value: String(next), origin: `enum ${def.name?.name ?? ''}` });
        next++;
      }
    }
  }
  if (program.config) {
    const c = program.config;
    if (cx.needs({ start: c.start, end: c.start + 6 }, 'config', 'The `config` block')) {
      for (const e of c.entries) {
        const key = e.key.name.toLowerCase().replace(/^bpftrace_/, '');
        if (!CONFIG_KEYS.includes(key)) {
          const s = closest(key, CONFIG_KEYS);
          cx.report(
            e.key,
            'error',
            'unknown-config',
            `Unrecognized config variable: ${e.key.name}`,
            s ? cx.didYouMean(e.key, s) : {},
          );
        }
      }
    }
  }
  for (const imp of program.imports) cx.needs({ start: imp.start, end: imp.start + 6 }, 'import', '`import`');
}
