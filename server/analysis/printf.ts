// printf-style formats (printf, system, debugf, errorf, warnf): the conversions bpftrace knows
// per dialect, their count against the arguments, and the value each conversion takes.
import type { CallExpr } from '../syntax/ast';
import type { Checker } from './checker';
import { READABLE_AGGREGATES } from './expressions';
import { display, type Ty, VALUE_TYPES } from './types';

export function printfFormat(cx: Checker, e: CallExpr, fmt: string, args: Ty[]): void {
  const specs: Array<{ conv: string }> = [];
  const re = /%(%|[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|j|t)?([diouxXcspr]x?h?|[a-zA-Z]))/g;
  let m: RegExpExecArray | null;
  const bad: string[] = [];
  const quirk = cx.dialect.has('printfPercentQuirk');
  while ((m = re.exec(fmt))) {
    if (m[1] === '%') {
      // bpftrace 0.17 does not skip `%%`: in `%%d` it sees the `%d`.
      if (quirk) re.lastIndex = m.index + 1;
      continue;
    }
    const conv = m[5];
    if (!/^([douxXcsp]|r|rx|rh)$/.test(conv)) {
      // bpftrace 0.17 does not know %i, %f... as conversions: they are plain text to it.
      if (/^r/.test(conv)) specs.push({ conv: 'r' });
      else if (!/^[a-zA-Z]/.test(conv)) bad.push('%' + m[1]);
      continue;
    }
    specs.push({ conv });
  }
  if (bad.length) {
    cx.report(e.args[0], 'error', 'printf-format', `${e.callee.name}: invalid format specifier ${bad[0]}`);
    return;
  }
  if (args.length < specs.length) {
    cx.report(
      e,
      'error',
      'printf-format',
      `${e.callee.name}: Not enough arguments for format string (${args.length} supplied, ${specs.length} expected)`,
    );
    return;
  }
  if (args.length > specs.length) {
    cx.report(
      e,
      'error',
      'printf-format',
      `${e.callee.name}: Too many arguments for format string (${args.length} supplied, ${specs.length} expected)`,
    );
    return;
  }
  if (e.callee.name === 'debugf' && debugfLimits(cx, e, specs)) return;
  specs.forEach((s, i) => {
    const t = args[i];
    const arg = e.args[i + 1];
    if (t.k === 'unknown' || arg.kind === 'param') return;
    if (t.k === 'none') {
      cx.report(
        e,
        'error',
        'printf-format',
        `${e.callee.name}: %${s.conv} specifier expects a value, but argument ${i + 1} returns none`,
      );
      return;
    }
    if (s.conv === 's') {
      if (cx.dialect.has('printfAnyString')) return;
      if (t.k === 'int' || t.k === 'ptr') {
        const hint =
          t.k === 'ptr' && /char$/.test(t.to)
            ? `; read it with str(${cx.text.slice(arg.start, arg.end)})`
            : '';
        cx.report(
          e,
          'error',
          'printf-format',
          `${e.callee.name}: %s specifier expects a value of type string (integer supplied)${hint}`,
          {
            related: [{ ...arg, message: `argument ${i + 1} is ${display(t)}` }],
            fixes: hint
              ? [{ ...arg, newText: `str(${cx.text.slice(arg.start, arg.end)})`, title: `Wrap in str()` }]
              : undefined,
          },
        );
      } else if (t.k === 'other' && t.name === 'buffer')
        cx.report(
          e,
          'error',
          'printf-format',
          `${e.callee.name}: %s specifier expects a value of type string (buffer supplied); print a buffer with %r`,
        );
      else if (t.k === 'struct' || t.k === 'tuple')
        cx.report(
          e,
          'error',
          'printf-format',
          `${e.callee.name}: %s specifier expects a value of type string (${t.k === 'struct' ? 'record' : 'tuple'} supplied)`,
        );
    } else if (s.conv === 'r' || s.conv === 'rx' || s.conv === 'rh') {
      if (t.k === 'other' && t.name === 'buffer') return;
      if (t.k === 'int' || t.k === 'ptr' || t.k === 'string' || t.k === 'tuple' || t.k === 'stack')
        cx.report(
          e,
          'error',
          'printf-format',
          `${e.callee.name}: %${s.conv} specifier expects a value of type buffer (${t.k === 'ptr' ? 'integer' : display(t)} supplied); make one with buf()`,
        );
    } else if (
      (t.k === 'agg' && (!cx.dialect.has('mapValueRead') || !READABLE_AGGREGATES.has(t.fn))) ||
      t.k === 'string' ||
      t.k === 'stack' ||
      t.k === 'struct' ||
      t.k === 'tuple' ||
      (t.k === 'other' && VALUE_TYPES.has(t.name))
    ) {
      cx.report(
        e,
        'error',
        'printf-format',
        `${e.callee.name}: %${s.conv} specifier expects a value of type integer (${t.k === 'string' ? 'string' : display(t)} supplied)`,
        {
          related: [{ ...arg, message: `argument ${i + 1} is ${display(t)}` }],
        },
      );
    }
  });
}

/** bpf_trace_printk's conversions: those of debugf (bpftrace's bpf_trace_printk_format_types). */
const PRINTK_CONVERSIONS = /^(d|u|x|p|s)$/;
/** bpf_trace_printk takes at most three arguments (bpf-helpers(7)). */
const PRINTK_MAX_ARGS = 3;

/** debugf() prints through bpf_trace_printk: three arguments at most, a few conversions. */
function debugfLimits(cx: Checker, e: CallExpr, specs: Array<{ conv: string }>): boolean {
  if (specs.length > PRINTK_MAX_ARGS) {
    cx.report(
      e,
      'error',
      'printf-format',
      `debugf: Cannot use more than ${PRINTK_MAX_ARGS} conversion specifiers`,
    );
    return true;
  }
  const unknown = specs.find((s) => !PRINTK_CONVERSIONS.test(s.conv));
  if (unknown) {
    cx.report(e, 'error', 'printf-format', `debugf: Unknown format string token: %${unknown.conv}`);
    return true;
  }
  return false;
}
