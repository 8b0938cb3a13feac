// Probes and attach points: probe types per dialect, the parts each takes, tracepoints against
// the catalog, BEGIN/END rules, and which builtins a probe type provides (args, retval, argN,
// func...). What the target machine has (functions, binaries, symbols) is asked of machine.ts.
import type { AttachPoint, Probe, Span } from '../syntax/ast';
import { attachPointRules } from './attach-rules';
import type { Checker, Scope } from './checker';
import {
  type Dialect,
  HARDWARE_EVENTS,
  PROBES,
  type ProbeRow,
  SOFTWARE_EVENTS,
  versionNote,
} from './dialects';
import { expr } from './expressions';
import { conditionType } from './operands';
import { machineAttachPoint } from './machine';
import type { Diag, Edit, ProbeInfo, Severity } from './results';
import { settlePendingReads } from './scopes';
import { block } from './statements';
import { closest, globToRegExp } from './suggest';

/**
 * How the dialect reads an attach point's spaces and name (see `spacedAttachPoints`,
 * `namedProbes` in dialects.ts); false when bpftrace stops at a syntax error there.
 */
function attachPointSyntax(cx: Checker, ap: AttachPoint): boolean {
  const label = ap.label;
  const written = (sign: string) => (label ? label.name + sign : '') + ap.raw;
  const gap = ap.gaps?.[0];
  if (gap && !cx.dialect.has('spacedAttachPoints')) {
    cx.report(
      { start: gap.end, end: gap.end + 1 },
      'error',
      'syntax',
      `syntax: expected '{' (from bpftrace 0.26 a space ends an attach point: write \`${written('=')}\`)`,
      {
        fixes: ap.gaps!.map((g) => ({ start: g.start, end: g.end, newText: '', title: 'Remove the spaces' })),
      },
    );
    return false;
  }
  if (!label) return true;
  if (!cx.needs(label, 'namedProbes', 'A named probe')) return false;
  // 0.25 takes the name only through `==`; 0.26 splits it off at the first '='.
  const sign = cx.dialect.has('namedProbeDoubleEquals') ? '==' : '=';
  if (label.sign === sign) return true;
  const message =
    sign === '=='
      ? `syntax error, unexpected =: bpftrace ${cx.dialect.name} names a probe with '=='`
      : `Invalid probe type: =${ap.provider.name} (bpftrace ${cx.dialect.name} splits the name off at the first '=')`;
  cx.report(
    sign === '==' ? label : { start: label.start, end: ap.provider.end },
    'error',
    sign === '==' ? 'syntax' : 'attach-point',
    `${message}: write \`${written(sign)}\``,
    {
      fixes: [
        {
          start: label.start,
          end: ap.provider.start,
          newText: label.name + sign,
          title: `Name it with '${sign}'`,
        },
      ],
    },
  );
  return false;
}

export function probe(cx: Checker, probe: Probe, beginEnd: Map<string, Span>): void {
  const info: ProbeInfo = { probe, rows: [], tracepoints: [] };
  cx.probes.push(info);
  const kinds = new Set<string>();
  for (const ap of probe.attachPoints) {
    if (!attachPointSyntax(cx, ap)) {
      info.rows.push(undefined);
      continue;
    }
    const row = attachPoint(cx, ap, info);
    info.rows.push(row);
    if (row) kinds.add(row.name);
    if (row && (row.name === 'BEGIN' || row.name === 'END') && !cx.dialect.has('multipleBeginEnd')) {
      const first = beginEnd.get(row.name);
      if (first) {
        cx.report(ap, 'error', 'duplicate-probe', `More than one ${row.name} probe defined`, {
          related: [{ ...first, message: `first ${row.name} probe` }],
        });
      } else beginEnd.set(row.name, ap);
    }
  }
  attachPointRules(cx, probe, info.rows);
  cx.ctx = { info, kinds, pendingReads: [] };
  const probeScope: Scope = { vars: new Map(), span: probe.body };
  cx.scope = probeScope;
  if (probe.predicate) conditionType(cx, 'predicate', probe.predicate, expr(cx, probe.predicate));
  block(cx, probe.body, cx.dialect.has('blockScoping'));
  settlePendingReads(cx);
  cx.ctx = undefined;
  cx.scope = undefined;
}

export function attachPoint(cx: Checker, ap: AttachPoint, info: ProbeInfo): ProbeRow | undefined {
  const provider = ap.provider.name;
  if (provider.startsWith('$')) return undefined;
  if (/[*?]/.test(provider)) {
    wildcardProvider(cx, ap);
    return undefined;
  }
  const row = cx.dialect.probe(provider);
  if (!row) {
    const known = cx.dialect.probes().flatMap((p) => [cx.dialect.probeName(p), ...p.aliases]);
    const renamed = PROBES.find((p) => p.name === provider || p.aliases.includes(provider));
    let message = `Invalid probe type: ${provider}`;
    let suggestion = closest(provider, known);
    if (renamed && renamed.renamedFrom && provider === renamed.name) {
      message = `Probe type ${provider} is not available in bpftrace ${cx.dialect.name}: it is named ${renamed.renamedFrom.name} there`;
      suggestion = renamed.renamedFrom.name;
    } else if (renamed) {
      message = `Probe type ${provider} is ${versionNote(renamed, cx.dialect) || 'not available here'}`;
    } else if (!cx.dialect.has('caseInsensitiveProviders') && cx.dialect.probe(provider.toUpperCase())) {
      suggestion = provider.toUpperCase();
    }
    cx.report(
      ap.provider,
      'error',
      'unknown-probe',
      message,
      suggestion ? cx.didYouMean(ap.provider, suggestion) : {},
    );
    return undefined;
  }
  if (row.renamedFrom && cx.dialect.has('fentryNames') && provider === row.renamedFrom.name) {
    cx.report(ap.provider, 'hint', 'deprecated', `${provider} is the old name of ${row.name}`, {
      fixes: [{ ...ap.provider, newText: row.name, title: `Use \`${row.name}\`` }],
      deprecated: true,
    });
  }
  const [min, max] = cx.dialect.partsRange(row);
  const n = ap.parts.length;
  if (n < min || n > max) {
    const count = min === max ? `${min}` : n < min ? `at least ${min}` : `at most ${max}`;
    const extra: Partial<Diag> = {};
    const fixes: Edit[] = [];
    if ((row.name === 'interval' || row.name === 'profile') && n === 1) {
      const m = /^(\d+)(s|ms|us|hz)$/.exec(ap.parts[0].name);
      if (m)
        fixes.push({
          ...ap.parts[0],
          newText: `${m[2]}:${m[1]}`,
          title: `Use \`${provider}:${m[2]}:${m[1]}\``,
        });
    }
    if (fixes.length) extra.fixes = fixes;
    cx.report(
      ap,
      'error',
      'attach-point-arity',
      `${cx.dialect.probeName(row)} probe type requires ${count} argument${count === '1' ? '' : 's'} (${n} given)`,
      extra,
    );
    return row;
  }
  const empty = ap.parts.find((p) => p.name === '');
  if (empty) {
    const what = ['kprobe', 'kretprobe', 'fentry', 'fexit', 'uprobe', 'uretprobe'].includes(row.name)
      ? 'a function'
      : 'a value here';
    cx.report(
      ap,
      'error',
      'attach-point',
      `${cx.dialect.probeName(row)} probes should be attached to ${what}: the part after ':' is empty`,
    );
    return row;
  }
  if (row.name === 'tracepoint') tracepoint(cx, ap, info);
  const fn = ap.parts[ap.parts.length - 1];
  if (
    fn &&
    /\+/.test(fn.name) &&
    !fn.name.startsWith('"') &&
    !['kprobe', 'uprobe', 'watchpoint', 'asyncwatchpoint'].includes(row.name)
  ) {
    cx.report(ap, 'error', 'attach-point', `Offset not allowed in ${cx.dialect.probeName(row)} probes`);
  }
  if (
    (row.name === 'software' || row.name === 'hardware') &&
    ap.parts[0] &&
    !ap.parts[0].name.includes('$')
  ) {
    const list = row.name === 'software' ? SOFTWARE_EVENTS : HARDWARE_EVENTS;
    if (!list.includes(ap.parts[0].name)) {
      const s = closest(ap.parts[0].name, list);
      cx.report(
        ap,
        'error',
        'attach-point',
        `${ap.parts[0].name} is not a ${row.name} probe`,
        s ? cx.didYouMean(ap.parts[0], s) : {},
      );
    }
  }
  if ((row.name === 'interval' || row.name === 'profile') && n === 2) {
    const unit = ap.parts[0].name;
    if (!['s', 'ms', 'us', 'hz', 'ns'].includes(unit) && !unit.startsWith('$')) {
      cx.report(
        ap.parts[0],
        'error',
        'attach-point',
        `${row.name} probe has an invalid unit '${unit}' (expected s, ms, us or hz)`,
      );
    }
    const count = ap.parts[1];
    if (!attachPointInteger(count.name, cx.dialect) && !count.name.startsWith('$')) {
      cx.report(
        count.name ? count : ap,
        'error',
        'attach-point',
        `${row.name} probe needs a number after '${unit}:' (got '${count.name}')`,
      );
    }
  }
  machineAttachPoint(cx, ap, row);
  return row;
}

/**
 * A probe type with wildcards (`t*:syscalls:sys_enter_read`) stands for the probe types it
 * matches: kernel ones, or user-space ones when the next part is a path. bpftrace's
 * probe_matcher.cpp (kernel_probe_list, userspace_probe_list) leaves out return probes, timers,
 * watchpoints and BEGIN/END; the expanded attach points are then checked one by one.
 */
function wildcardProvider(cx: Checker, ap: AttachPoint): void {
  const userspace = ap.parts[0]?.name.includes('/') ?? false;
  const re = globToRegExp(ap.provider.name);
  const matched = cx.dialect
    .probes()
    .map((row) => cx.dialect.probeName(row))
    .filter((name) => !name.includes('ret') && USERSPACE_PROBES.has(name) === userspace)
    .filter((name) => !NOT_EXPANDED.has(name) && re.test(name));
  if (matched.length === 0)
    cx.report(ap.provider, 'error', 'unknown-probe', `No probe type matched for ${ap.provider.name}`);
}

const USERSPACE_PROBES = new Set(['uprobe', 'usdt']);
const NOT_EXPANDED = new Set([
  'BEGIN',
  'END',
  'interval',
  'profile',
  'watchpoint',
  'asyncwatchpoint',
  'self',
  'test',
  'bench',
]);

/**
 * An integer where an attach point wants one (`interval:ms:N`), as bpftrace's int_parser reads
 * it: decimal or hex, `_` separators, `NeM` with one coefficient digit, C suffixes (v0.17.0
 * src/ast/int_parser.cpp: coefficient 0-9, M <= 16); from 0.24 also binary, octal and duration
 * suffixes (v0.26.1 src/util/int_parser.cpp: coefficient 1-9, no overflow).
 */
export function attachPointInteger(text: string, dialect: Dialect): boolean {
  const n = text.replace(/_/g, '');
  const newer = dialect.has('durations');
  const suffix = newer ? '(u|ul|ull|l|ll|ns|us|ms|s|m|h|d)?' : '(u|u?l?l)?';
  if (new RegExp(`^0x[0-9a-f]+${suffix}$`, 'i').test(n)) return true;
  if (newer && /^0b[01]+$/i.test(n)) return true;
  const exp = new RegExp(`^(\\d+)e(\\d+)${suffix}$`, 'i').exec(n);
  if (exp) {
    const [c, e] = [Number(exp[1]), Number(exp[2])];
    return newer ? c >= 1 && c <= 9 && c * 10 ** e < 2 ** 64 : c <= 9 && e <= 16;
  }
  return new RegExp(`^\\d+${suffix}$`, newer ? '' : 'i').test(n);
}

export function tracepoint(cx: Checker, ap: AttachPoint, info: ProbeInfo): void {
  const [cat, ev] = ap.parts;
  if (cat.name.includes('$') || ev.name.includes('$')) return;
  const severity: Severity = cx.catalog.origin === 'node' ? 'error' : 'warning';
  const where =
    cx.catalog.origin === 'node' ? '' : ` (in the bundled catalog of kernel ${cx.catalog.kernel})`;
  if (!/[*?[]/.test(cat.name + ev.name) && cx.catalog.fields(cat.name, ev.name)) {
    // The common case, without wildcards: one lookup instead of a scan of the category.
    info.tracepoints.push({ category: cat.name, event: ev.name });
    return;
  }
  const catRe = globToRegExp(cat.name);
  const evRe = globToRegExp(ev.name);
  const cats = cx.catalog.categories().filter((c) => catRe.test(c));
  if (cats.length === 0) {
    const s = cx.memoClosest(`c:${cat.name}`, () => closest(cat.name, cx.catalog.categories()));
    cx.report(
      ap,
      severity,
      'unknown-tracepoint',
      `tracepoint not found: ${cat.name}:${ev.name}${where}; there is no category '${cat.name}'`,
      s ? cx.didYouMean(cat, s) : {},
    );
    return;
  }
  for (const c of cats)
    for (const e of cx.catalog.events(c)) if (evRe.test(e)) info.tracepoints.push({ category: c, event: e });
  if (
    info.tracepoints.length === 0 ||
    !info.tracepoints.some((t) => catRe.test(t.category) && evRe.test(t.event))
  ) {
    const s =
      cats.length === 1
        ? cx.memoClosest(`e:${cats[0]}:${ev.name}`, () => closest(ev.name, cx.catalog.events(cats[0])))
        : undefined;
    cx.report(
      ap,
      severity,
      'unknown-tracepoint',
      `tracepoint not found: ${cat.name}:${ev.name}${where}`,
      s ? cx.didYouMean(ev, s) : {},
    );
  }
}

/** Builtins that only some probe types provide. */
export function builtinUse(cx: Checker, span: Span, name: string): void {
  const ctx = cx.ctx;
  if (!ctx) return;
  const kinds = ctx.info.rows;
  if (kinds.some((k) => !k)) return; // unknown probe already reported
  const rows = kinds as ProbeRow[];
  const label = (r: ProbeRow) => cx.dialect.probeName(r);
  if (name === 'args') {
    const bad = rows.filter((r) => !r.args);
    if (bad.length) {
      const mixed = bad.length < rows.length;
      const used = mixed
        ? 'invalid'
        : rows.length === 1 && (rows[0].name === 'BEGIN' || rows[0].name === 'END')
          ? 'special'
          : label(bad[0]);
      cx.report(
        span,
        'error',
        'args-unavailable',
        `The args builtin can only be used with tracepoint/${cx.dialect.has('fentryNames') ? 'fentry' : 'kfunc'}/uprobe probes (${used} used here)`,
      );
    }
    return;
  }
  if (name === 'retval') {
    const bad = rows.filter((r) => !r.retval);
    if (bad.length) {
      const arrow = cx.dialect.minor >= 25 ? 'args.ret' : 'args->ret';
      const hasRet =
        rows.every((r) => r.name === 'tracepoint') && cx.argsFields(ctx.info)?.some((f) => f.name === 'ret');
      const hint = bad.some((r) => r.name === 'tracepoint') ? `; in a tracepoint, use ${arrow}` : '';
      cx.report(
        span,
        'error',
        'retval-unavailable',
        `The retval builtin can only be used with kretprobe, uretprobe and ${cx.dialect.has('fentryNames') ? 'fexit' : 'kretfunc'} probes (${label(bad[0])} used here)${hint}`,
        hasRet
          ? { fixes: [{ start: span.start, end: span.end, newText: arrow, title: `Use \`${arrow}\`` }] }
          : {},
      );
    }
    return;
  }
  if (/^s?arg\d+$/.test(name)) {
    const bad = rows.filter((r) => !r.argN);
    if (bad.length) {
      const hint = bad.some((r) => r.args) ? '; use args instead' : '';
      cx.report(
        span,
        'error',
        'argn-unavailable',
        `The ${name} builtin can only be used with kprobe, uprobe and usdt probes (${label(bad[0])} used here)${hint}`,
      );
    }
    return;
  }
  if (name === 'cpid') {
    cx.report(
      span,
      'error',
      'builtin-unavailable',
      'cpid cannot be used without child command (it needs `bpftrace -c CMD`)',
    );
    return;
  }
  if (name === 'func') {
    const bad = rows.filter(
      (r) => !['kprobe', 'uprobe', 'fentry', 'fexit', 'kretprobe', 'uretprobe'].includes(r.name),
    );
    if (bad.length)
      cx.report(
        span,
        'error',
        'builtin-unavailable',
        `The func builtin can not be used with '${label(bad[0])}' probes`,
      );
  }
}
