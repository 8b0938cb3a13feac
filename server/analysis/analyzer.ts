// The semantic pass: walks the AST once in source order, in the target dialect, against the
// catalog; produces diagnostics (with codes, exact ranges, suggestions and fix data) and the
// symbol/type tables that completion, hover, rename and friends read.
import type {
  AttachPoint,
  Block,
  CallExpr,
  Expr,
  FieldExpr,
  MacroDef,
  MapExpr,
  Probe,
  Program,
  Span,
  Stmt,
  TypeRef,
} from '../syntax/ast';
import { parse, type ParseResult } from '../syntax/parser';
import type { Catalog, StructMember, TracepointField } from '../catalog/catalog';
import {
  BUILTINS,
  type BuiltinRow,
  CONFIG_KEYS,
  Dialect,
  FEATURES as FEATURES_TABLE,
  FUNCTIONS,
  type FunctionRow,
  HARDWARE_EVENTS,
  INTEGER_TYPES,
  SOFTWARE_EVENTS,
  MAP_DECL_TYPES,
  PROBES,
  type ProbeRow,
  versionNote,
} from './dialects';
import { closest, globToRegExp } from './suggest';
import { display, fromCType, INT, kindOf, NONE, STRING, structName, type Ty, UNKNOWN } from './types';

/** pt_regs names bpftrace accepts in reg() on x86_64. */
const X86_64_REGISTERS = [
  'r15',
  'r14',
  'r13',
  'r12',
  'bp',
  'bx',
  'r11',
  'r10',
  'r9',
  'r8',
  'ax',
  'cx',
  'dx',
  'si',
  'di',
  'orig_ax',
  'ip',
  'cs',
  'flags',
  'sp',
  'ss',
];

/** Kernel typedefs every BTF has; casts to them need no check. */
const COMMON_TYPEDEFS =
  /^((__)?[us](8|16|32|64)|__(be|le)(16|32|64)|u?int(8|16|32|64)_t|s?size_t|pid_t|uid_t|gid_t|[lk]?off_t|loff_t|dev_t|ino_t|u?mode_t|umode_t|time64_t|ktime_t|sector_t|gfp_t|uintptr_t|clockid_t|key_t|phys_addr_t|dma_addr_t|fmode_t|blkcnt_t|nlink_t|pgoff_t|atomic_t|atomic64_t|refcount_t|spinlock_t|wait_queue_head_t|__kernel_\w+_t)$/;

const BOOLEAN_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '&&', '||']);
const FORMAT_FUNCTIONS = new Set(['printf', 'system', 'cat', 'debugf', 'errorf', 'warnf']);
const READABLE_AGGREGATES = new Set(['count', 'sum', 'min', 'max', 'avg']);

export type Severity = 'error' | 'warning' | 'info' | 'hint';

/** A text replacement a quick fix applies. */
export interface Edit {
  start: number;
  end: number;
  newText: string;
  title: string;
  /** Further edits of the same fix. */
  more?: Array<{ start: number; end: number; newText: string }>;
}

export interface Diag {
  start: number;
  end: number;
  severity: Severity;
  code: string;
  message: string;
  related?: Array<{ start: number; end: number; message: string }>;
  fixes?: Edit[];
  deprecated?: boolean;
  /** The "did you mean" candidate, when there is one. */
  suggestion?: string;
}

export interface MapSymbol {
  name: string;
  refs: Span[];
  defs: Span[];
  keyArity?: number;
  keys?: Ty[];
  value?: Ty;
}

export interface VarSymbol {
  name: string;
  probe: Probe | undefined;
  refs: Span[];
  defs: Span[];
  ty: Ty;
  /** Where the variable is visible (its block, or the whole probe before 0.22). */
  scope: Span;
}

export interface ProbeInfo {
  probe: Probe;
  rows: Array<ProbeRow | undefined>;
  /** Tracepoints matched by the attach points (with wildcards expanded). */
  tracepoints: Array<{ category: string; event: string }>;
}

export interface Analysis {
  text: string;
  parse: ParseResult;
  program: Program;
  dialect: Dialect;
  catalog: Catalog;
  diagnostics: Diag[];
  maps: Map<string, MapSymbol>;
  vars: VarSymbol[];
  probes: ProbeInfo[];
  types: { get(e: Expr): Ty | undefined };
  /** Constants visible by name (#define, C enums, include constants). */
  constants: Map<string, { value: string; origin: string }>;
  /** Fields of args in a probe (intersection over its tracepoints), or undefined when unknown. */
  argsFields(info: ProbeInfo): TracepointField[] | undefined;
  /** Members of a struct by name ('sockaddr_in'), from script definitions or the catalog. */
  structMembers(name: string): StructMember[] | undefined;
}

const TRACEPOINT_ARGS_STRUCT = (c: string, e: string) => `struct _tracepoint_${c}_${e}`;

/** Which header brings a common constant, for the "missing #include" quick fix. */
const HEADER_HINTS: Array<[RegExp, string]> = [
  [/^(AF|PF|SOCK|SOL|MSG|SOMAXCONN)_?/, 'linux/socket.h'],
  [/^(IPPROTO|INADDR|IP)_/, 'linux/in.h'],
  [/^(O|F|AT)_/, 'linux/fcntl.h'],
  [/^(E[A-Z]+)$/, 'linux/errno.h'],
  [/^SIG/, 'linux/signal.h'],
  [/^(CLONE)_/, 'linux/sched.h'],
  [/^(PROT|MAP)_/, 'linux/mman.h'],
];

export function analyze(text: string, dialect: Dialect, catalog: Catalog): Analysis {
  return new Analyzer(text, dialect, catalog).run();
}

interface Scope {
  parent?: Scope;
  vars: Map<string, VarSymbol>;
  span: Span;
}

interface ProbeCtx {
  info: ProbeInfo;
  kinds: Set<string>; // probe row names
  loopDepth: number;
  forDepth: number;
  pendingReads: Array<{ scope: Scope; name: string; span: Span }>;
}

class Analyzer {
  private readonly parsed: ParseResult;
  private readonly diags: Diag[] = [];
  private readonly maps = new Map<string, MapSymbol>();
  private readonly vars: VarSymbol[] = [];
  private readonly probes: ProbeInfo[] = [];
  /** Inferred types live on the nodes themselves: a Map of every expression costs more in GC. */
  private readonly types = {
    get: (e: Expr): Ty | undefined => (e as { inferred?: Ty }).inferred,
    set: (e: Expr, ty: Ty): void => {
      (e as { inferred?: Ty }).inferred = ty;
    },
  };
  private readonly constants = new Map<string, { value: string; origin: string }>();
  private readonly mapAssigned = new Set<string>();
  private readonly pendingMapReads: Array<{ name: string; span: Span }> = [];
  private ctx?: ProbeCtx;
  private readonly macros = new Map<string, MacroDef>();
  /** #includes with no constant table: what they define is unknown. */
  private readonly opaqueHeaders: string[] = [];
  private scope?: Scope;
  private argsFieldsCache = new Map<ProbeInfo, TracepointField[] | undefined>();

  constructor(
    private readonly text: string,
    private readonly dialect: Dialect,
    private readonly catalog: Catalog,
  ) {
    this.parsed = parse(text);
  }

  private report(
    span: Span,
    severity: Severity,
    code: string,
    message: string,
    extra: Partial<Diag> = {},
  ): void {
    const text = extra.suggestion ? `${message}; did you mean '${extra.suggestion}'?` : message;
    const n = this.text.length;
    const start = Math.min(Math.max(0, span.start), n);
    const end = Math.min(Math.max(start, span.end), n);
    this.diags.push({ start, end, severity, code, ...extra, message: text });
  }

  private needs(span: Span, feature: Parameters<Dialect['has']>[0], what: string): boolean {
    if (this.dialect.has(feature)) return true;
    this.report(
      span,
      'error',
      'dialect',
      `${what} is not available in bpftrace ${this.dialect.name} (${describeFeature(feature)})`,
    );
    return false;
  }

  run(): Analysis {
    const program = this.parsed.program;
    for (const p of this.parsed.problems) {
      const related =
        p.openedAt !== undefined
          ? [
              {
                start: p.openedAt,
                end: p.openedAt + (this.text.startsWith('/*', p.openedAt) ? 2 : 1),
                message: this.text.startsWith('/*', p.openedAt) ? 'comment opened here' : 'block opened here',
              },
            ]
          : undefined;
      this.report(p, 'error', p.code, p.message, related ? { related } : {});
    }
    this.trailingComment();
    this.preamble(program);
    const beginEnd = new Map<string, Span>();
    for (const item of program.items) if (item.kind === 'macro') this.macros.set(item.name.name, item);
    for (const item of program.items) {
      if (item.kind === 'probe') this.probe(item, beginEnd);
      else if (item.kind === 'macro') {
        this.needs(item.name, 'macro', '`macro`');
        this.withScope(item.body, () => {
          for (const p of item.params) if (p.kind === 'var') this.define(p.name, p, UNKNOWN);
          this.block(item.body, false);
        });
      } else if (item.kind === 'mapdecl') {
        this.needs({ start: item.start, end: item.start + 3 }, 'mapDeclarations', 'A map declaration');
        if (item.type.name && !MAP_DECL_TYPES.includes(item.type.name)) {
          const s = closest(item.type.name, MAP_DECL_TYPES);
          this.report(
            item.type,
            'error',
            'unknown-map-type',
            `Invalid bpf map type: ${item.type.name}`,
            s ? this.didYouMean(item.type, s) : {},
          );
        }
        this.mapRef(item.map, true, true);
        this.mapAssigned.add(item.map.name);
      }
    }
    for (const r of this.pendingMapReads) {
      if (!this.mapAssigned.has(r.name))
        this.report(r.span, 'error', 'undefined-map', `Undefined map: ${r.name} (it is never assigned)`);
    }
    if (
      !program.items.some((i) => i.kind === 'probe') &&
      !this.dialect.has('macro') &&
      this.parsed.problems.length === 0
    ) {
      this.report(
        { start: this.text.length, end: this.text.length },
        'error',
        'syntax',
        'syntax error: unexpected end of file, expecting a probe (a script needs at least one probe)',
      );
    }
    if (this.dialect.unsupported) {
      this.report(
        { start: 0, end: Math.min(this.text.indexOf('\n') >>> 0, this.text.length) },
        'warning',
        'unsupported-version',
        this.dialect.unsupported,
      );
    }
    return {
      text: this.text,
      parse: this.parsed,
      program,
      dialect: this.dialect,
      catalog: this.catalog,
      diagnostics: this.diags,
      maps: this.maps,
      vars: this.vars,
      probes: this.probes,
      types: this.types,
      constants: this.constants,
      argsFields: (info) => this.argsFields(info),
      structMembers: (name) => this.structMembers(name),
    };
  }

  /** bpftrace 0.17's lexer reads `//...` at the very end of a file with no newline as `/`. */
  private trailingComment(): void {
    if (!this.dialect.has('trailingCommentQuirk') || this.text.endsWith('\n')) return;
    const last = this.parsed.comments[this.parsed.comments.length - 1];
    if (last && !last.block && last.end === this.text.length) {
      this.report(
        last,
        'error',
        'syntax',
        `syntax error: bpftrace ${this.dialect.name} reads a // comment on the last line without a newline as the end of a predicate; add a newline`,
        {
          fixes: [
            {
              start: this.text.length,
              end: this.text.length,
              newText: '\n',
              title: 'Add a newline at the end',
            },
          ],
        },
      );
    }
  }

  // ---- preamble ----

  private preamble(program: Program): void {
    for (const pp of program.preprocessor) {
      if (pp.directive === 'include') {
        const table = this.catalog.constants(pp.argument);
        if (table)
          for (const [k, v] of table) this.constants.set(k, { value: String(v), origin: `<${pp.argument}>` });
        else this.opaqueHeaders.push(pp.argument);
      } else if (pp.directive === 'define' && pp.value !== undefined) {
        this.constants.set(pp.argument, { value: pp.value, origin: '#define' });
      }
    }
    for (const def of program.cDefinitions) {
      if (def.keyword === 'enum') {
        let next = 0;
        for (const part of def.body.split(',')) {
          const m = /^\s*([A-Za-z_]\w*)\s*(?:=\s*(.+?))?\s*$/s.exec(part);
          if (!m) continue;
          if (m[2] !== undefined && /^-?\d+$|^0x[0-9a-f]+$/i.test(m[2])) next = Number(m[2]);
          this.constants.set(m[1], { value: String(next), origin: `enum ${def.name?.name ?? ''}` });
          next++;
        }
      }
    }
    if (program.config) {
      const c = program.config;
      if (this.needs({ start: c.start, end: c.start + 6 }, 'config', 'The `config` block')) {
        for (const e of c.entries) {
          const key = e.key.name.toLowerCase().replace(/^bpftrace_/, '');
          if (!CONFIG_KEYS.includes(key)) {
            const s = closest(key, CONFIG_KEYS);
            this.report(
              e.key,
              'error',
              'unknown-config',
              `Unrecognized config variable: ${e.key.name}`,
              s ? this.didYouMean(e.key, s) : {},
            );
          }
        }
      }
    }
    for (const imp of program.imports)
      this.needs({ start: imp.start, end: imp.start + 6 }, 'import', '`import`');
  }

  // ---- probes ----

  private probe(probe: Probe, beginEnd: Map<string, Span>): void {
    const info: ProbeInfo = { probe, rows: [], tracepoints: [] };
    this.probes.push(info);
    if (probe.label) this.needs(probe.label, 'namedProbes', 'A named probe');
    const kinds = new Set<string>();
    for (const ap of probe.attachPoints) {
      const row = this.attachPoint(ap, info);
      info.rows.push(row);
      if (row) kinds.add(row.name);
      if (row && (row.name === 'BEGIN' || row.name === 'END') && !this.dialect.has('multipleBeginEnd')) {
        const first = beginEnd.get(row.name);
        if (first) {
          this.report(ap, 'error', 'duplicate-probe', `More than one ${row.name} probe defined`, {
            related: [{ ...first, message: `first ${row.name} probe` }],
          });
        } else beginEnd.set(row.name, ap);
      }
    }
    this.ctx = { info, kinds, loopDepth: 0, forDepth: 0, pendingReads: [] };
    const probeScope: Scope = { vars: new Map(), span: probe.body };
    this.scope = probeScope;
    if (probe.predicate) this.expr(probe.predicate);
    this.block(probe.body, this.dialect.has('blockScoping'));
    for (const r of this.ctx.pendingReads) {
      if (!this.lookup(r.name, r.scope)) this.undefinedVar(r.name, r.span);
    }
    this.ctx = undefined;
    this.scope = undefined;
  }

  private attachPoint(ap: AttachPoint, info: ProbeInfo): ProbeRow | undefined {
    const provider = ap.provider.name;
    if (provider.startsWith('$')) return undefined;
    const row = this.dialect.probe(provider);
    if (!row) {
      const known = this.dialect.probes().flatMap((p) => [this.dialect.probeName(p), ...p.aliases]);
      const renamed = PROBES.find((p) => p.name === provider || p.aliases.includes(provider));
      let message = `Invalid probe type: ${provider}`;
      let suggestion = closest(provider, known);
      if (renamed && renamed.renamedFrom && provider === renamed.name) {
        message = `Probe type ${provider} is not available in bpftrace ${this.dialect.name}: it is named ${renamed.renamedFrom.name} there`;
        suggestion = renamed.renamedFrom.name;
      } else if (renamed) {
        message = `Probe type ${provider} is ${versionNote(renamed, this.dialect) || 'not available here'}`;
      } else if (
        !this.dialect.has('caseInsensitiveProviders') &&
        this.dialect.probe(provider.toUpperCase())
      ) {
        suggestion = provider.toUpperCase();
      }
      this.report(
        ap.provider,
        'error',
        'unknown-probe',
        message,
        suggestion ? this.didYouMean(ap.provider, suggestion) : {},
      );
      return undefined;
    }
    if (row.renamedFrom && this.dialect.has('fentryNames') && provider === row.renamedFrom.name) {
      this.report(ap.provider, 'hint', 'deprecated', `${provider} is the old name of ${row.name}`, {
        fixes: [{ ...ap.provider, newText: row.name, title: `Use \`${row.name}\`` }],
        deprecated: true,
      });
    }
    const [min, max] = this.dialect.partsRange(row);
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
      this.report(
        ap,
        'error',
        'attach-point-arity',
        `${this.dialect.probeName(row)} probe type requires ${count} argument${count === '1' ? '' : 's'} (${n} given)`,
        extra,
      );
      return row;
    }
    const empty = ap.parts.find((p) => p.name === '');
    if (empty) {
      const what = ['kprobe', 'kretprobe', 'fentry', 'fexit', 'uprobe', 'uretprobe'].includes(row.name)
        ? 'a function'
        : 'a value here';
      this.report(
        ap,
        'error',
        'attach-point',
        `${this.dialect.probeName(row)} probes should be attached to ${what}: the part after ':' is empty`,
      );
      return row;
    }
    if (row.name === 'tracepoint') this.tracepoint(ap, info);
    const fn = ap.parts[ap.parts.length - 1];
    if (
      fn &&
      /\+/.test(fn.name) &&
      !fn.name.startsWith('"') &&
      !['kprobe', 'uprobe', 'watchpoint', 'asyncwatchpoint'].includes(row.name)
    ) {
      this.report(ap, 'error', 'attach-point', `Offset not allowed in ${this.dialect.probeName(row)} probes`);
    }
    if (
      (row.name === 'software' || row.name === 'hardware') &&
      ap.parts[0] &&
      !ap.parts[0].name.includes('$')
    ) {
      const list = row.name === 'software' ? SOFTWARE_EVENTS : HARDWARE_EVENTS;
      if (!list.includes(ap.parts[0].name)) {
        const s = closest(ap.parts[0].name, list);
        this.report(
          ap,
          'error',
          'attach-point',
          `${ap.parts[0].name} is not a ${row.name} probe`,
          s ? this.didYouMean(ap.parts[0], s) : {},
        );
      }
    }
    if ((row.name === 'interval' || row.name === 'profile') && n === 2) {
      const unit = ap.parts[0].name;
      if (!['s', 'ms', 'us', 'hz', 'ns'].includes(unit) && !unit.startsWith('$')) {
        this.report(
          ap.parts[0],
          'error',
          'attach-point',
          `${row.name} probe has an invalid unit '${unit}' (expected s, ms, us or hz)`,
        );
      }
      const count = ap.parts[1];
      if (!/^\d+$/.test(count.name) && !count.name.startsWith('$')) {
        this.report(
          count.name ? count : ap,
          'error',
          'attach-point',
          `${row.name} probe needs a number after '${unit}:' (got '${count.name}')`,
        );
      }
    }
    return row;
  }

  private tracepoint(ap: AttachPoint, info: ProbeInfo): void {
    const [cat, ev] = ap.parts;
    if (cat.name.includes('$') || ev.name.includes('$')) return;
    const severity: Severity = this.catalog.origin === 'node' ? 'error' : 'warning';
    const where =
      this.catalog.origin === 'node' ? '' : ` (in the bundled catalog of kernel ${this.catalog.kernel})`;
    if (!/[*?[]/.test(cat.name + ev.name) && this.catalog.fields(cat.name, ev.name)) {
      // The common case, without wildcards: one lookup instead of a scan of the category.
      info.tracepoints.push({ category: cat.name, event: ev.name });
      return;
    }
    const catRe = globToRegExp(cat.name);
    const evRe = globToRegExp(ev.name);
    const cats = this.catalog.categories().filter((c) => catRe.test(c));
    if (cats.length === 0) {
      const s = this.memoClosest(`c:${cat.name}`, () => closest(cat.name, this.catalog.categories()));
      this.report(
        ap,
        severity,
        'unknown-tracepoint',
        `tracepoint not found: ${cat.name}:${ev.name}${where}; there is no category '${cat.name}'`,
        s ? this.didYouMean(cat, s) : {},
      );
      return;
    }
    for (const c of cats)
      for (const e of this.catalog.events(c))
        if (evRe.test(e)) info.tracepoints.push({ category: c, event: e });
    if (
      info.tracepoints.length === 0 ||
      !info.tracepoints.some((t) => catRe.test(t.category) && evRe.test(t.event))
    ) {
      const s =
        cats.length === 1
          ? this.memoClosest(`e:${cats[0]}:${ev.name}`, () => closest(ev.name, this.catalog.events(cats[0])))
          : undefined;
      this.report(
        ap,
        severity,
        'unknown-tracepoint',
        `tracepoint not found: ${cat.name}:${ev.name}${where}`,
        s ? this.didYouMean(ev, s) : {},
      );
    }
  }

  private readonly suggestions = new Map<string, string | undefined>();

  /** Suggestions over the catalog's long lists, once per name and analysis. */
  private memoClosest(key: string, compute: () => string | undefined): string | undefined {
    if (!this.suggestions.has(key)) this.suggestions.set(key, compute());
    return this.suggestions.get(key);
  }

  private argsFields(info: ProbeInfo): TracepointField[] | undefined {
    if (this.argsFieldsCache.has(info)) return this.argsFieldsCache.get(info);
    let result: TracepointField[] | undefined;
    for (const tp of info.tracepoints) {
      const fields = this.catalog.fields(tp.category, tp.event);
      if (!fields) continue;
      result = result ? result.filter((f) => fields.some((g) => g.name === f.name)) : fields;
    }
    this.argsFieldsCache.set(info, result);
    return result;
  }

  private structMembers(name: string): StructMember[] | undefined {
    const local = this.parsed.program.cDefinitions.find((d) => d.keyword !== 'enum' && d.name?.name === name);
    if (local) return local.members;
    return this.catalog.struct(name);
  }

  // ---- scopes ----

  private withScope(block: Span, fn: () => void): void {
    const saved = this.scope;
    this.scope = { parent: saved, vars: new Map(), span: block };
    try {
      fn();
    } finally {
      this.scope = saved;
    }
  }

  private lookup(name: string, scope = this.scope): VarSymbol | undefined {
    for (let s = scope; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v) return v;
    }
    return undefined;
  }

  private define(name: string, span: Span, ty: Ty): VarSymbol {
    const existing = this.lookup(name);
    if (existing) {
      existing.defs.push(span);
      existing.refs.push(span);
      if (existing.ty.k === 'unknown') existing.ty = ty;
      return existing;
    }
    const v: VarSymbol = {
      name,
      probe: this.ctx?.info.probe,
      refs: [span],
      defs: [span],
      ty,
      scope: this.scope?.span ?? span,
    };
    this.scope?.vars.set(name, v);
    this.vars.push(v);
    return v;
  }

  private undefinedVar(name: string, span: Span): void {
    const visible: string[] = [];
    for (let s = this.scope; s; s = s.parent) visible.push(...s.vars.keys());
    const sug = closest(name, visible);
    this.report(
      span,
      'error',
      'undefined-variable',
      `Undefined or undeclared variable: ${name}`,
      sug ? this.didYouMean(span, sug) : {},
    );
  }

  // ---- statements ----

  private block(block: Block, scoped: boolean): void {
    if (block.empty && !this.dialect.has('blockStatements')) {
      for (const e of block.empty)
        this.report(
          e,
          'error',
          'syntax',
          `syntax error: unexpected ';' (empty statements need bpftrace 0.${FEATURES_TABLE.blockStatements.since})`,
        );
    }
    const run = () => {
      for (const s of block.statements) this.stmt(s);
    };
    if (scoped) this.withScope(block, run);
    else run();
  }

  private stmt(s: Stmt): void {
    const scoped = this.dialect.has('blockScoping');
    const ctx = this.ctx;
    switch (s.kind) {
      case 'exprstmt': {
        const e = s.expr;
        if (e.kind === 'unary' && (e.op === '++' || e.op === '--')) {
          this.incDec(e.operand, e.op);
          return;
        }
        if (e.kind === 'call') {
          const row = this.dialect.func(e.callee.name);
          if (row?.aggregate)
            this.report(
              e,
              'error',
              'aggregate-not-assigned',
              `${row.name}() should be directly assigned to a map`,
            );
          this.call(e, true);
          return;
        }
        this.expr(e);
        return;
      }
      case 'assign':
        this.assign(s);
        return;
      case 'if':
        if (!s.parenthesized && !this.dialect.has('ifWithoutParens')) {
          this.report(
            s.cond,
            'error',
            'syntax',
            `syntax error: the condition of \`if\` needs parentheses in bpftrace ${this.dialect.name}`,
            {
              fixes: [
                {
                  start: s.cond.start,
                  end: s.cond.start,
                  newText: '(',
                  title: 'Add parentheses',
                  more: [{ start: s.cond.end, end: s.cond.end, newText: ')' }],
                },
              ],
            },
          );
        }
        this.expr(s.cond);
        this.block(s.then, scoped);
        if (s.else) {
          if (s.else.kind === 'block') this.block(s.else, scoped);
          else this.stmt(s.else);
        }
        return;
      case 'unroll': {
        const c = s.count;
        if (c.kind === 'int') {
          if (c.value > 100) this.report(s, 'error', 'unroll-range', 'unroll maximum value is 100');
          else if (c.value < 1) this.report(s, 'error', 'unroll-range', 'unroll minimum value is 1');
        } else if (c.kind !== 'param') {
          this.report(
            c,
            'error',
            'unroll-range',
            'unroll count must be an integer literal or a positional parameter',
          );
        }
        this.block(s.body, scoped);
        return;
      }
      case 'while':
        if (this.dialect.deprecated('whileLoop'))
          this.report(
            s.keyword,
            'warning',
            'deprecated',
            '`while` loops are deprecated; use `for` with a range',
            { deprecated: true },
          );
        this.expr(s.cond);
        if (ctx) ctx.loopDepth++;
        this.block(s.body, scoped);
        if (ctx) ctx.loopDepth--;
        return;
      case 'for': {
        const isRange = s.iterable.kind === 'range';
        if (
          !this.needs(
            s.keyword,
            isRange ? 'forRange' : 'forMap',
            isRange ? 'A range `for` loop' : 'A `for` loop',
          )
        ) {
          return;
        }
        let ty: Ty = UNKNOWN;
        if (s.iterable.kind === 'range') {
          this.expr(s.iterable.from);
          this.expr(s.iterable.to);
          ty = INT;
        } else if (s.iterable.kind === 'map') {
          this.mapRef(s.iterable, false, true);
          const m = this.maps.get(s.iterable.name);
          const key: Ty =
            m?.keys && m.keys.length > 1 ? { k: 'tuple', elements: m.keys } : (m?.keys?.[0] ?? UNKNOWN);
          ty = { k: 'tuple', elements: [key, m?.value ?? UNKNOWN] };
          if (s.iterable.keys)
            this.report(
              s.iterable,
              'error',
              'for-map',
              'A `for` loop iterates over a whole map: drop the key',
            );
        } else {
          this.expr(s.iterable);
          this.report(
            s.iterable,
            'error',
            'for-map',
            'A `for` loop iterates over a map (`@m`) or a range (`a..b`)',
          );
        }
        if (ctx) {
          ctx.loopDepth++;
          ctx.forDepth++;
        }
        this.withScope(s.body, () => {
          this.define(s.variable.name, s.variable, ty);
          this.block(s.body, false);
        });
        if (ctx) {
          ctx.loopDepth--;
          ctx.forDepth--;
        }
        return;
      }
      case 'return':
        if (s.value) this.expr(s.value);
        return;
      case 'break':
      case 'continue':
        if (!ctx || ctx.loopDepth === 0)
          this.report(s, 'error', 'jump-outside-loop', `${s.kind} used outside of a loop`);
        else if (ctx.forDepth > 0 && !this.dialect.has('breakInFor'))
          this.report(
            s,
            'error',
            'dialect',
            `${s.kind} in a \`for\` loop needs bpftrace 0.24 (target ${this.dialect.name})`,
          );
        return;
      case 'let': {
        if (!this.needs(s.keyword, 'let', '`let`')) {
          if (s.value) this.expr(s.value);
          this.define(s.variable.name, s.variable, UNKNOWN);
          return;
        }
        const ty = s.value ? this.expr(s.value) : s.type ? typeRefTy(s.type) : UNKNOWN;
        const earlier = this.lookup(s.variable.name);
        if (earlier) {
          // bpftrace has no shadowing: an inner `let` of a visible name is an error too.
          this.report(
            s.variable,
            'error',
            'redeclared-variable',
            `Variable ${s.variable.name} is already declared; bpftrace does not allow shadowing`,
            {
              related: earlier.defs[0]
                ? [{ ...earlier.defs[0], message: `${s.variable.name} first declared here` }]
                : undefined,
            },
          );
        }
        this.define(s.variable.name, s.variable, ty);
        return;
      }
      case 'blockstmt':
        this.needs({ start: s.start, end: s.start + 1 }, 'blockStatements', 'A nested block');
        this.block(s.block, scoped);
        return;
    }
  }

  private incDec(target: Expr, op: string): void {
    if (target.kind === 'var') {
      if (!this.lookup(target.name)) this.readVar(target);
      else this.lookup(target.name)!.refs.push(target);
    } else if (target.kind === 'map') {
      this.mapRef(target, true);
      this.mapValue(target, INT);
    } else {
      this.expr(target);
      this.report(
        target,
        'error',
        'invalid-operand',
        `The ${op} operator must be applied to a map or variable`,
      );
    }
  }

  private assign(s: Extract<Stmt, { kind: 'assign' }>): void {
    const value = s.value;
    let ty: Ty;
    if (value.kind === 'call' && this.dialect.func(value.callee.name)?.aggregate) {
      const row = this.dialect.func(value.callee.name)!;
      this.call(value, false);
      if (s.target.kind !== 'map') {
        this.report(
          value,
          'error',
          'aggregate-not-assigned',
          `${row.name}() should be directly assigned to a map`,
        );
      } else if (s.op !== '=') {
        this.report(
          s.opSpan,
          'error',
          'aggregate-not-assigned',
          `${row.name}() must be assigned with '=', not '${s.op}'`,
        );
      }
      ty = { k: 'agg', fn: row.name };
    } else {
      ty = this.expr(value);
      if (value.kind === 'call') {
        const row = this.dialect.func(value.callee.name);
        if (row?.async && row.returns === 'none') {
          this.report(
            value,
            'error',
            'async-in-assignment',
            `${row.name}() should not be used in an assignment or as a map key`,
          );
        }
      }
    }
    const target = s.target;
    if (target.kind === 'var') {
      if (s.op !== '=' && !this.lookup(target.name)) this.readVar(target);
      const existing = this.lookup(target.name);
      if (existing && s.op === '=' && ty.k !== 'unknown' && existing.ty.k !== 'unknown') {
        this.valueMismatch(
          s.opSpan,
          'type-mismatch',
          target.name,
          'variable',
          existing.ty,
          ty,
          existing.defs[0],
        );
      }
      const v = this.define(target.name, target, ty);
      if (ty.k !== 'unknown' && (v.ty.k === 'unknown' || s.op === '='))
        v.ty = kindOf(v.ty) === kindOf(ty) || v.ty.k === 'unknown' ? ty : v.ty;
    } else if (target.kind === 'map') {
      this.mapRef(target, true);
      if (ty.k === 'args' && !this.dialect.has('argsDot')) {
        this.report(
          value,
          'error',
          'args-unavailable',
          `args (the probe context) cannot be assigned to a map in bpftrace ${this.dialect.name}; store a field, e.g. args->fd`,
        );
      } else this.mapValue(target, ty);
    }
    // Other targets were reported by the parser; `_` discards (0.25).
  }

  // ---- maps ----

  /** wholeMap: a use of the map itself (print(@m), for over @m), which says nothing about its keys. */
  private mapRef(m: MapExpr, isWrite: boolean, wholeMap = false): MapSymbol {
    let sym = this.maps.get(m.name);
    if (!sym) {
      sym = { name: m.name, refs: [], defs: [] };
      this.maps.set(m.name, sym);
    }
    sym.refs.push(m.nameSpan);
    if (isWrite) {
      sym.defs.push(m.nameSpan);
      this.mapAssigned.add(m.name);
    }
    const keyTys = (m.keys ?? []).map((k) => {
      if (k.kind === 'var' && !this.dialect.has('tupleKeys') && this.lookup(k.name)?.ty.k === 'tuple') {
        this.report(
          k,
          'error',
          'map-key',
          `A tuple cannot be used as a map key in bpftrace ${this.dialect.name}: use several keys, @map[$a, $b]`,
        );
      }
      if (k.kind === 'call') {
        const row = this.dialect.func(k.callee.name);
        if (row?.aggregate)
          this.report(
            k,
            'error',
            'aggregate-not-assigned',
            `${row.name}() should be directly assigned to a map`,
          );
        else if (row?.async && row.returns === 'none')
          this.report(
            k,
            'error',
            'async-in-assignment',
            `${row.name}() should not be used in an assignment or as a map key`,
          );
      }
      return this.expr(k);
    });
    const arity = m.keys ? m.keys.length : 0;
    if (wholeMap && !m.keys) return sym;
    if (sym.keyArity === undefined) {
      sym.keyArity = arity;
      sym.keys = keyTys;
    } else if (sym.keyArity === arity && sym.keys) {
      for (let i = 0; i < arity; i++) {
        const a = sym.keys[i] && kindOf(sym.keys[i]);
        const b = kindOf(keyTys[i]);
        if (sym.keys[i]?.k === 'unknown') sym.keys[i] = keyTys[i];
        else if (a && b && a !== b) {
          this.report(
            m.keys![i],
            'error',
            'map-key-mismatch',
            `Argument mismatch for ${m.name}: key ${i + 1} is ${display(keyTys[i])} here but ${display(sym.keys[i])} before`,
            {
              related: sym.refs[0] ? [{ ...sym.refs[0], message: `${m.name} first used here` }] : undefined,
            },
          );
          break;
        }
      }
    } else if (sym.keyArity !== arity) {
      const first = sym.refs[0];
      const describeKeys = (n: number) => (n === 0 ? 'no key' : n === 1 ? '1 key' : `${n} keys`);
      this.report(
        m,
        'error',
        'map-key-mismatch',
        `Argument mismatch for ${m.name}: used with ${describeKeys(arity)} here but with ${describeKeys(sym.keyArity)} before`,
        {
          related: first
            ? [{ ...first, message: `${m.name} first used with ${describeKeys(sym.keyArity)}` }]
            : undefined,
        },
      );
    }
    return sym;
  }

  private mapValue(m: MapExpr, ty: Ty): void {
    const sym = this.maps.get(m.name)!;
    if (ty.k === 'unknown' || ty.k === 'none') return;
    if (!sym.value) {
      sym.value = ty;
      return;
    }
    this.valueMismatch(m.nameSpan, 'map-value-mismatch', m.name, 'map', sym.value, ty, sym.defs[0]);
  }

  /** Variables and maps keep the kind of value they were first given. */
  private valueMismatch(
    span: Span,
    code: string,
    name: string,
    what: string,
    had: Ty,
    ty: Ty,
    first?: Span,
  ): void {
    const a = kindOf(had);
    const b = kindOf(ty);
    if (!a || !b || a === b) return;
    this.report(
      span,
      'error',
      code,
      `Type mismatch for ${name}: trying to assign a value of type '${display(ty)}' when the ${what} already holds '${display(had)}'`,
      first ? { related: [{ ...first, message: `${name} first assigned here` }] } : {},
    );
  }

  // ---- expressions ----

  private readVar(e: Extract<Expr, { kind: 'var' }>): Ty {
    const v = this.lookup(e.name);
    if (v) {
      v.refs.push(e);
      return v.ty;
    }
    if (this.dialect.has('useBeforeAssign') && this.ctx) {
      this.ctx.pendingReads.push({ scope: this.scope!, name: e.name, span: e });
    } else {
      this.undefinedVar(e.name, e);
    }
    return UNKNOWN;
  }

  expr(e: Expr): Ty {
    const ty = this.exprInner(e);
    // Only what hover and member completion read is kept: field accesses, their objects, casts.
    // Writing a property onto every node costs more GC than the rest of the pass.
    if (e.kind === 'field' || e.kind === 'cast') this.types.set(e, ty);
    return ty;
  }

  private exprInner(e: Expr): Ty {
    switch (e.kind) {
      case 'int':
        if (e.suffix && !/^[ul]+$/i.test(e.suffix))
          this.needs(e, 'durations', `The duration literal ${e.text}`);
        return INT;
      case 'string':
        return STRING;
      case 'param':
        if (e.name === '$0') this.report(e, 'error', 'invalid-param', 'Positional parameters start at $1');
        return UNKNOWN;
      case 'var':
        return this.readVar(e);
      case 'map': {
        const sym = this.mapRef(e, false);
        if (!this.mapAssigned.has(e.name)) this.pendingMapReads.push({ name: e.name, span: e });
        if (sym.value?.k === 'agg' && !this.dialect.has('mapValueRead')) return sym.value;
        return sym.value?.k === 'agg' && READABLE_AGGREGATES.has(sym.value.fn) ? INT : (sym.value ?? UNKNOWN);
      }
      case 'ident':
        return this.ident(e);
      case 'call':
        return this.call(e, false);
      case 'binary': {
        const l = this.expr(e.left);
        const r = this.expr(e.right);
        for (const [side, t] of [
          [e.left, l],
          [e.right, r],
        ] as const) {
          if (t.k === 'agg') {
            this.report(
              e,
              'error',
              'type-mismatch',
              `Type mismatch for '${e.op}': '${t.fn}' map values cannot be used in expressions in bpftrace ${this.dialect.name}`,
            );
            void side;
          }
        }
        if (
          (l.k === 'string') !== (r.k === 'string') &&
          l.k !== 'unknown' &&
          r.k !== 'unknown' &&
          l.k !== 'agg' &&
          r.k !== 'agg' &&
          (l.k === 'string' || r.k === 'string')
        ) {
          const other = l.k === 'string' ? r : l;
          const hint =
            other.k === 'ptr' && /char$/.test(other.to)
              ? `; read the string first: str(${this.text.slice((l.k === 'string' ? e.right : e.left).start, (l.k === 'string' ? e.right : e.left).end)})`
              : '';
          this.report(
            e,
            'error',
            'type-mismatch',
            `Type mismatch for '${e.op}': comparing '${display(l)}' with '${display(r)}'${hint}`,
          );
        }
        if (BOOLEAN_OPS.has(e.op)) return INT;
        return l.k === 'ptr' ? l : INT;
      }
      case 'unary': {
        if (e.op === '++' || e.op === '--') {
          this.incDec(e.operand, e.op);
          return INT;
        }
        const t = this.expr(e.operand);
        if (e.op === '*') {
          if (t.k === 'ptr') return fromCType(t.to);
          if (t.k === 'struct') {
            this.report(
              e,
              'error',
              'invalid-operand',
              `Can not dereference struct/union of type '${t.name}'. It is not a pointer.`,
            );
            return UNKNOWN;
          }
          return INT;
        }
        if (e.op === '&') {
          this.needs(e, 'addressOf', 'The address-of operator');
          return { k: 'ptr', to: display(t) };
        }
        return INT;
      }
      case 'ternary': {
        this.expr(e.cond);
        if (!e.then) this.needs(e, 'shortTernary', 'The short ternary `?:`');
        const a = e.then ? this.expr(e.then) : UNKNOWN;
        const b = this.expr(e.else);
        return a.k !== 'unknown' ? a : b;
      }
      case 'field':
        return this.field(e);
      case 'index': {
        const t = this.expr(e.object);
        this.expr(e.index);
        if (t.k === 'string' && !this.dialect.has('stringIndex')) {
          this.report(
            e,
            'error',
            'index',
            `The array index operator [] can only be used on arrays and pointers, found string (string indexing needs bpftrace 0.25)`,
          );
          return UNKNOWN;
        }
        if (t.k === 'ptr') return fromCType(t.to);
        if (t.k === 'tuple') return e.index.kind === 'int' ? (t.elements[e.index.value] ?? UNKNOWN) : UNKNOWN;
        if (t.k === 'other') {
          const m = /^(.*?)\s*\[(\d*)\]$/.exec(t.name);
          if (m) {
            const size = m[2] ? Number(m[2]) : undefined;
            if (size !== undefined && e.index.kind === 'int' && e.index.value >= size) {
              this.report(
                e.index,
                'error',
                'index',
                `the index ${e.index.value} is out of bounds for array of size ${size}`,
              );
            }
            return fromCType(m[1]);
          }
        }
        return UNKNOWN;
      }
      case 'cast': {
        this.expr(e.operand);
        return this.castType(e.type, true);
      }
      case 'tuple': {
        if (e.names) {
          this.needs(e, 'records', 'A record');
          return {
            k: 'tuple',
            elements: e.elements.map((x) => this.expr(x)),
            names: e.names.map((n) => n.name),
          };
        }
        if (e.elements.length < 2) this.needs(e, 'emptyTuples', 'An empty or one-element tuple');
        return { k: 'tuple', elements: e.elements.map((x) => this.expr(x)) };
      }
      case 'sizeof':
        if (e.arg.kind === 'type') this.castType(e.arg);
        else this.expr(e.arg);
        return INT;
      case 'offsetof':
        this.needs(e.keyword, 'offsetof', '`offsetof`');
        return INT;
      case 'blockexpr':
        this.needs({ start: e.start, end: e.start + 1 }, 'blockExpressions', 'A block expression');
        this.block(e.block, true);
        return UNKNOWN;
      case 'error':
        return UNKNOWN;
    }
  }

  private castType(t: TypeRef, isCast = false): Ty {
    if (t.array !== undefined) this.needs(t, 'arrayCast', 'A cast to an array');
    if (isCast && (t.tag === 'struct' || t.tag === 'union') && t.pointer === 0 && t.array === undefined) {
      this.report(
        t,
        'error',
        'invalid-cast',
        `Cannot cast to struct type "${t.tag} ${t.name}": cast to a pointer (${t.tag} ${t.name} *)`,
        {
          fixes: [
            {
              start: t.nameSpan.end,
              end: t.nameSpan.end,
              newText: ' *',
              title: `Cast to \`${t.tag} ${t.name} *\``,
            },
          ],
        },
      );
    }
    const scalar =
      isCast && !t.tag && t.pointer === 0 && t.array === undefined ? this.scalarType(t.name) : 'known';
    if (scalar !== 'known') {
      const s = closest(t.name, INTEGER_TYPES);
      this.report(
        t,
        scalar === 'unknown' ? 'error' : 'warning',
        'unknown-type',
        scalar === 'unknown'
          ? `Unknown type in cast: '${t.name}'${this.dialect.has('typedefCasts') ? '' : ` (bpftrace ${this.dialect.name} casts to ${INTEGER_TYPES.join(', ')} and to pointers)`}`
          : `Unknown type in cast: '${t.name}' is neither a bpftrace integer type nor a common kernel typedef; bpftrace fails unless the target kernel's BTF has it`,
        s ? this.didYouMean(t.nameSpan, s) : {},
      );
    }
    if (t.tag === 'struct' || t.tag === 'union') {
      if (!this.structMembers(t.name) && t.name) {
        const s = closest(
          t.name,
          this.parsed.program.cDefinitions.map((d) => d.name?.name ?? ''),
        );
        // The catalog carries the layouts of common structs only, not the target's whole BTF: an
        // unknown name is certain only as a typo of a struct the script defines.
        this.report(
          t,
          s ? 'error' : 'warning',
          'unknown-struct',
          s
            ? `Unknown struct/union: '${t.tag} ${t.name}'`
            : `Unknown struct/union: '${t.tag} ${t.name}' is not in the catalog (kernel ${this.catalog.kernel}); bpftrace fails unless the target kernel's BTF has it`,
          s ? this.didYouMean(t.nameSpan, s) : {},
        );
      }
    }
    return typeRefTy(t);
  }

  /** 'maybe': a typedef-looking name the catalog cannot confirm (it has no typedef list). */
  private scalarType(name: string): 'known' | 'maybe' | 'unknown' {
    if (INTEGER_TYPES.includes(name)) return 'known';
    // Verified on 0.17: (pid_t), (u64), (int), (bool) are all "Unknown struct/union".
    if (!this.dialect.has('typedefCasts'))
      return name === 'bool' && this.dialect.has('booleans') ? 'known' : 'unknown';
    if (name === 'bool') return this.dialect.has('booleans') ? 'known' : 'unknown';
    if (COMMON_TYPEDEFS.test(name) || /^(unsigned |signed )?(char|short|int|long)( int| long)*$/.test(name))
      return 'known';
    return /_t$/.test(name) ? 'maybe' : 'unknown';
  }

  private ident(e: Extract<Expr, { kind: 'ident' }>): Ty {
    const b = this.dialect.builtin(e.name);
    if (b) {
      this.builtinUse(e, b.name);
      if (b.deprecated !== undefined && this.dialect.minor >= b.deprecated) {
        this.report(e, 'warning', 'deprecated', `${e.name} is deprecated since bpftrace 0.${b.deprecated}`, {
          deprecated: true,
        });
      }
      return builtinType(b);
    }
    if (/^arg\d+$/.test(e.name) || /^sarg\d+$/.test(e.name)) {
      const row = BUILTINS.find((x) => x.name === e.name);
      if (row && !this.dialect.available(row)) {
        this.report(e, 'error', 'unknown-identifier', `${e.name} is ${versionNote(row, this.dialect)}`);
        return UNKNOWN;
      }
      if (!row)
        this.report(
          e,
          'error',
          'unknown-identifier',
          `Unknown identifier: '${e.name}' (bpftrace ${this.dialect.name} knows arg0 to arg9)`,
        );
      return INT;
    }
    const c = this.constants.get(e.name);
    if (c) return INT;
    if (this.dialect.has('macro') && this.macros.get(e.name)?.params.length === 0) return UNKNOWN;
    if (this.catalog.enumConstant(e.name) !== undefined) return INT;
    // Names the target knows in another version.
    const row = BUILTINS.find((x) => x.name === e.name);
    if (row) {
      this.report(e, 'error', 'unknown-identifier', `${e.name} is ${versionNote(row, this.dialect)}`);
      return UNKNOWN;
    }
    const extra: Partial<Diag> = {};
    const candidates = [...this.dialect.builtins().map((x) => x.name), ...this.constants.keys()];
    const s = closest(e.name, candidates);
    if (s) Object.assign(extra, this.didYouMean(e, s));
    const header = HEADER_HINTS.find(([re]) => re.test(e.name))?.[1];
    const headerConst =
      header &&
      [header, 'linux/in.h', 'linux/in6.h', 'linux/socket.h'].find((h) =>
        this.catalog.constants(h)?.has(e.name),
      );
    if (this.opaqueHeaders.length && /^[A-Z_][A-Z0-9_]*$/.test(e.name)) {
      // A header the project has no table for may define it (TASK_RUNNING in <linux/sched.h>).
      this.report(
        e,
        'warning',
        'unknown-identifier',
        `Unknown identifier: '${e.name}', unless it comes from ${this.opaqueHeaders.map((h) => `<${h}>`).join(', ')} (headers the catalog does not describe)`,
      );
      return INT;
    }
    let message = `Unknown identifier: '${e.name}'`;
    if (headerConst) {
      message += ` (it is defined in <${headerConst}>; add \`#include <${headerConst}>\`)`;
      extra.fixes = [
        ...(extra.fixes ?? []),
        { start: 0, end: 0, newText: `#include <${headerConst}>\n`, title: `Add #include <${headerConst}>` },
      ];
      if (this.text.startsWith('#!')) {
        const nl = this.text.indexOf('\n') + 1;
        extra.fixes[extra.fixes.length - 1].start = extra.fixes[extra.fixes.length - 1].end = nl;
      }
    }
    this.report(e, 'error', 'unknown-identifier', message, extra);
    return UNKNOWN;
  }

  private builtinUse(span: Span, name: string): void {
    const ctx = this.ctx;
    if (!ctx) return;
    const kinds = ctx.info.rows;
    if (kinds.some((k) => !k)) return; // unknown probe already reported
    const rows = kinds as ProbeRow[];
    const label = (r: ProbeRow) => this.dialect.probeName(r);
    if (name === 'args') {
      const bad = rows.filter((r) => !r.args);
      if (bad.length) {
        const mixed = bad.length < rows.length;
        const used = mixed
          ? 'invalid'
          : rows.length === 1 && (rows[0].name === 'BEGIN' || rows[0].name === 'END')
            ? 'special'
            : label(bad[0]);
        this.report(
          span,
          'error',
          'args-unavailable',
          `The args builtin can only be used with tracepoint/${this.dialect.has('fentryNames') ? 'fentry' : 'kfunc'}/uprobe probes (${used} used here)`,
        );
      }
      return;
    }
    if (name === 'retval') {
      const bad = rows.filter((r) => !r.retval);
      if (bad.length) {
        const arrow = this.dialect.minor >= 25 ? 'args.ret' : 'args->ret';
        const hasRet =
          rows.every((r) => r.name === 'tracepoint') &&
          this.argsFields(ctx.info)?.some((f) => f.name === 'ret');
        const hint = bad.some((r) => r.name === 'tracepoint') ? `; in a tracepoint, use ${arrow}` : '';
        this.report(
          span,
          'error',
          'retval-unavailable',
          `The retval builtin can only be used with kretprobe, uretprobe and ${this.dialect.has('fentryNames') ? 'fexit' : 'kretfunc'} probes (${label(bad[0])} used here)${hint}`,
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
        this.report(
          span,
          'error',
          'argn-unavailable',
          `The ${name} builtin can only be used with kprobe, uprobe and usdt probes (${label(bad[0])} used here)${hint}`,
        );
      }
      return;
    }
    if (name === 'cpid') {
      this.report(
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
        this.report(
          span,
          'error',
          'builtin-unavailable',
          `The func builtin can not be used with '${label(bad[0])}' probes`,
        );
    }
  }

  private field(e: FieldExpr): Ty {
    const obj = this.expr(e.object);
    this.types.set(e.object, obj);
    const name = e.field.name;
    if (!name) return UNKNOWN;
    if (obj.k === 'args') {
      const info = this.ctx?.info;
      const dialect = this.dialect;
      if (e.op === '.' && !dialect.has('argsDot')) {
        this.report(
          e.opSpan,
          'error',
          'args-dot',
          `args is a pointer in bpftrace ${dialect.name}: write args->${name} (args.${name} needs bpftrace 0.19)`,
          {
            fixes: [{ ...e.opSpan, newText: '->', title: `Use \`args->${name}\`` }],
          },
        );
      } else if (e.op === '->' && dialect.minor >= 25) {
        this.report(
          e.opSpan,
          'hint',
          'args-arrow',
          `args is a struct in bpftrace ${dialect.name}: args.${name} is the preferred form`,
          {
            fixes: [{ ...e.opSpan, newText: '.', title: `Use \`args.${name}\`` }],
          },
        );
      }
      if (!info || !info.rows.every((r) => r?.name === 'tracepoint')) return UNKNOWN;
      if (name.startsWith('common_')) {
        this.report(e, 'error', 'common-field', 'BPF does not support accessing common tracepoint fields');
        return INT;
      }
      const fields = this.argsFields(info);
      if (!fields) return UNKNOWN;
      const f = fields.find((x) => x.name === name);
      if (f) return fromCType(f.isArray && !/\[/.test(f.type) ? `${f.type}[]` : f.type);
      // Report against the tracepoint lacking the field, as bpftrace does.
      const lacking = info.tracepoints.find(
        (tp) => !this.catalog.fields(tp.category, tp.event)?.some((x) => x.name === name),
      );
      const where = lacking ? `${lacking.category}:${lacking.event}` : 'this tracepoint';
      const s = closest(
        name,
        fields.map((x) => x.name),
      );
      const severity: Severity = this.catalog.origin === 'node' ? 'error' : 'error';
      this.report(
        e.field,
        severity,
        'unknown-field',
        `${lacking ? TRACEPOINT_ARGS_STRUCT(lacking.category, lacking.event) : 'args'} does not contain a field named '${name}' (tracepoint ${where})`,
        {
          ...(s ? this.didYouMean(e.field, s) : {}),
        },
      );
      return UNKNOWN;
    }
    if (obj.k === 'tuple') {
      const named = obj.names?.indexOf(name) ?? -1;
      if (named >= 0) return obj.elements[named];
      if (obj.names) {
        const s = closest(name, obj.names);
        this.report(
          e.field,
          'error',
          'field-access',
          `The record has no field '${name}' (fields: ${obj.names.join(', ')})`,
          s ? this.didYouMean(e.field, s) : {},
        );
        return UNKNOWN;
      }
      if (/^\d+$/.test(name)) {
        const i = Number(name);
        if (i >= obj.elements.length)
          this.report(
            e.field,
            'error',
            'tuple-index',
            `Invalid tuple index: ${i}. Found ${obj.elements.length} elements in tuple.`,
          );
        return obj.elements[i] ?? UNKNOWN;
      }
      this.report(e.field, 'error', 'field-access', `Can not access field '${name}' on a tuple`);
      return UNKNOWN;
    }
    if (obj.k === 'ptr' || obj.k === 'struct') {
      const sname = structName(obj);
      if (obj.k === 'struct' && e.op === '->' && this.dialect.minor < 25) {
        this.report(
          e.opSpan,
          'error',
          'field-access',
          `Can not dereference struct/union of type '${obj.name}'. It is not a pointer: use '.'`,
          {
            fixes: [{ ...e.opSpan, newText: '.', title: `Use \`.${name}\`` }],
          },
        );
      }
      if (obj.k === 'ptr' && e.op === '.' && this.dialect.minor < 25 && sname) {
        this.report(
          e.opSpan,
          'error',
          'field-access',
          `Can not access field '${name}' on type '${display(obj)}'. Try dereferencing it first, or using '->'`,
          {
            fixes: [{ ...e.opSpan, newText: '->', title: `Use \`->${name}\`` }],
          },
        );
      }
      if (!sname) return UNKNOWN;
      const members = this.structMembers(sname);
      if (!members) return UNKNOWN;
      const m = members.find((x) => x.name === name);
      if (m) return fromCType(m.type);
      const s = closest(
        name,
        members.map((x) => x.name),
      );
      this.report(
        e.field,
        'error',
        'unknown-field',
        `Struct/union of type '${display(obj).replace(/ \*$/, '')}' does not contain a field named '${name}'`,
        s ? this.didYouMean(e.field, s) : {},
      );
      return UNKNOWN;
    }
    if (obj.k === 'int' || obj.k === 'string') {
      this.report(
        e,
        'error',
        'field-access',
        `Can not access field '${name}' on expression of type '${display(obj)}'`,
      );
    }
    return UNKNOWN;
  }

  private call(e: CallExpr, statement: boolean): Ty {
    const name = e.callee.name;
    const macro = this.macros.get(name);
    if (macro && this.dialect.has('macro')) {
      for (const a of e.args) this.expr(a);
      if (e.args.length !== macro.params.length) {
        this.report(
          e,
          'error',
          'arity',
          `Call to ${name}() has ${e.args.length} arguments, but the macro takes ${macro.params.length}`,
          {
            related: [{ ...macro.name, message: `macro ${name} defined here` }],
          },
        );
      }
      return UNKNOWN;
    }
    const row = this.dialect.func(name);
    if (!row) {
      // Unknown function: a bare map argument says nothing about the map's keys.
      for (const a of e.args) {
        if (a.kind === 'map' && !a.keys) this.mapRef(a, false, true);
        else this.expr(a);
      }
      const builtin = this.dialect.builtin(name);
      if (builtin) {
        if (this.dialect.has('builtinCalls'))
          return this.ident({ kind: 'ident', name, start: e.callee.start, end: e.callee.end });
        this.report(
          e.callee,
          'error',
          'unknown-function',
          `Unknown function: ${name} (${name} is a builtin variable: write it without parentheses)`,
          {
            fixes: [{ start: e.callee.end, end: e.end, newText: '', title: `Use \`${name}\`` }],
          },
        );
        return UNKNOWN;
      }
      const other = FUNCTIONS.find((f) => f.name === name);
      if (other) {
        this.report(
          e.callee,
          'error',
          'unknown-function',
          `Unknown function: ${name} (${versionNote(other, this.dialect)})`,
        );
        return UNKNOWN;
      }
      const s = closest(
        name,
        this.dialect.funcs().map((f) => f.name),
      );
      this.report(
        e.callee,
        'error',
        'unknown-function',
        `Unknown function: ${name}`,
        s ? this.didYouMean(e.callee, s) : {},
      );
      return UNKNOWN;
    }
    void statement;
    if (
      name === 'delete' &&
      e.args.length === 1 &&
      e.args[0].kind === 'map' &&
      e.args[0].keys &&
      this.dialect.has('delete2')
    ) {
      const m = e.args[0];
      const keys = m.keys!.map((k) => this.text.slice(k.start, k.end));
      const key = keys.length === 1 ? keys[0] : `(${keys.join(', ')})`;
      this.report(
        e,
        'hint',
        'deprecated',
        `delete(${m.name}[key]) is the old form; bpftrace ${this.dialect.name} writes delete(${m.name}, key)`,
        {
          deprecated: true,
          fixes: [
            {
              start: m.start,
              end: m.end,
              newText: `${m.name}, ${key}`,
              title: `Use \`delete(${m.name}, ${key})\``,
            },
          ],
        },
      );
    }
    if (row.unsafe) {
      this.report(
        e,
        'error',
        'unsafe',
        `${name}() is an unsafe function being used in safe mode (it needs \`bpftrace --unsafe\`)`,
      );
    }
    const [min, max] = this.dialect.arity(row);
    const n = e.args.length;
    if (n < min || n > max) {
      let msg: string;
      if (min === max)
        msg =
          min === 0
            ? `${name}() requires no arguments (${n} provided)`
            : `${name}() requires ${min === 1 ? 'one argument' : `${min} arguments`} (${n} provided)`;
      else if (n < min)
        msg = `${name}() requires at least ${min === 1 ? 'one argument' : `${min} arguments`} (${n} provided)`;
      else msg = `${name}() takes up to ${max} argument${max === 1 ? '' : 's'} (${n} provided)`;
      const later = row.arity.find(([since, lo, hi]) => since > this.dialect.minor && n >= lo && n <= hi);
      if (later) msg += `; bpftrace 0.${later[0]} accepts ${n}`;
      this.report(e, 'error', 'arity', msg);
    }
    const tys: Ty[] = [];
    e.args.forEach((a, i) => {
      if (
        a.kind === 'map' &&
        (row.argKinds?.[0] === 'map' || name === 'print' || name === 'len') &&
        i === 0
      ) {
        // bpftrace 0.17's delete(@m[key]) is an ordinary access: a keyed map without its key is an
        // argument mismatch (verified); only delete(@m, key) names the whole map.
        this.mapRef(a, false, !(name === 'delete' && e.args.length === 1));
        if (!this.mapAssigned.has(a.name)) this.pendingMapReads.push({ name: a.name, span: a });
        const sym = this.maps.get(a.name);
        tys.push(sym?.value ?? UNKNOWN);
        if (name === 'print' && a.keys && !this.dialect.has('forMap')) {
          this.report(
            e,
            'error',
            'argument-kind',
            'The map passed to print() should not be indexed by a key',
          );
        }
        return;
      }
      if ((name === 'kstack' || name === 'ustack') && a.kind === 'ident') {
        const modes = [
          'bpftrace',
          'perf',
          ...(this.dialect.minor >= 18 ? ['raw'] : []),
          ...(this.dialect.minor >= 25 ? ['build_id'] : []),
        ];
        if (!modes.includes(a.name)) {
          const s = closest(a.name, modes);
          this.report(
            a,
            'error',
            'argument-kind',
            `${name}(): unknown stack mode '${a.name}' (expected ${modes.join(', ')})`,
            s ? this.didYouMean(a, s) : {},
          );
        }
        tys.push(UNKNOWN);
        return;
      }
      tys.push(this.expr(a));
    });
    this.checkArgKinds(e, row, tys);
    if (row.aggregate) return { k: 'agg', fn: row.name };
    switch (row.returns) {
      case 'string':
        return STRING;
      case 'int':
        return INT;
      case 'stack':
        return { k: 'stack', name };
      case 'pointer':
        return tys[0] ?? UNKNOWN;
      case 'sym':
        return { k: 'other', name: name === 'ksym' ? 'ksym' : 'usym' };
      case 'none':
        return NONE;
      default:
        return { k: 'other', name: name === 'ntop' ? 'inet' : name === 'buf' ? 'buffer' : name };
    }
  }

  private checkArgKinds(e: CallExpr, row: FunctionRow, tys: Ty[]): void {
    const name = row.name;
    const first = e.args[0];
    if (FORMAT_FUNCTIONS.has(name) && first) {
      if (first.kind !== 'string') {
        this.report(
          e,
          'error',
          'argument-kind',
          `${name}() expects a string literal (${describeKind(tys[0])} provided)`,
        );
        return;
      }
      if (name !== 'cat') this.printfFormat(e, first.value, tys.slice(1));
      return;
    }
    if (row.argKinds?.[0] === 'map' && first && first.kind !== 'map') {
      this.report(first, 'error', 'argument-kind', `${name}() expects a map to be provided`);
      return;
    }
    if (name === 'str' || name === 'buf') {
      if (tys[1] && tys[1].k === 'string')
        this.report(
          e.args[1],
          'error',
          'argument-kind',
          `${name}() expects an integer length as its second argument`,
        );
      return;
    }
    if (name === 'ntop') {
      const addr = e.args[e.args.length - 1];
      const t = tys[tys.length - 1];
      if (addr?.kind === 'string' || t?.k === 'string')
        this.report(
          e,
          'error',
          'argument-kind',
          'ntop() argument must be 4 or 16 bytes in size (an integer or a char[4]/char[16] array)',
        );
      return;
    }
    if ((name === 'kstack' || name === 'ustack') && e.args.length) {
      const last = e.args[e.args.length - 1];
      if (last.kind !== 'int' && last.kind !== 'ident')
        this.report(last, 'error', 'argument-kind', `${name}() expects an integer literal limit`);
      return;
    }
    if (name === 'reg' && first?.kind === 'string' && !X86_64_REGISTERS.includes(first.value)) {
      const s = closest(first.value, X86_64_REGISTERS);
      this.report(
        first,
        'error',
        'argument-kind',
        `'${first.value}' is not a valid register on this architecture (x86_64)`,
        s ? this.didYouMean(first, s) : {},
      );
      return;
    }
    if (name === 'uaddr' && this.ctx) {
      // Verified on 0.17: uaddr in a kprobe/kretprobe/tracepoint/BEGIN probe is an error.
      const rows = this.ctx.info.rows;
      const bad = rows.find((r) => r && !['uprobe', 'uretprobe', 'usdt'].includes(r.name));
      if (bad && rows.every((r) => r))
        this.report(
          e,
          'error',
          'builtin-unavailable',
          `uaddr can not be used with "${this.dialect.probeName(bad)}" probes (only uprobe, uretprobe and usdt)`,
        );
    }
    if (name === 'strncmp' && e.args[2] && e.args[2].kind !== 'int' && e.args[2].kind !== 'param') {
      // Verified on 0.17: `strncmp(comm, "bash", $n)` -> "strncmp() expects a integer literal".
      this.report(
        e.args[2],
        'error',
        'argument-kind',
        `strncmp() expects an integer literal length (${describeKind(tys[2])} provided)`,
      );
      return;
    }
    if (
      ['kaddr', 'uaddr', 'cgroupid', 'reg', 'pton', 'percpu_kaddr'].includes(name) &&
      first &&
      first.kind !== 'string'
    ) {
      this.report(first, 'error', 'argument-kind', `${name}() expects a string literal`);
      return;
    }
    if (
      name === 'hist' &&
      e.args[1] &&
      e.args[1].kind === 'int' &&
      (e.args[1].value < 0 || e.args[1].value > 5)
    ) {
      this.report(e.args[1], 'error', 'argument-kind', 'hist() bits must be between 0 and 5');
    }
    if (name === 'lhist') {
      for (const a of e.args.slice(1))
        if (a.kind !== 'int' && a.kind !== 'param')
          this.report(a, 'error', 'argument-kind', 'lhist() min, max and step must be integer literals');
    }
    row.argKinds?.forEach((kind, i) => {
      const t = tys[i];
      if (!t || kind === '*' || t.k === 'unknown') return;
      if (kind === 'int' && t.k === 'string')
        this.report(
          e.args[i],
          'error',
          'argument-kind',
          `${name}() expects an integer argument ${i + 1} (string provided)`,
        );
      if (kind === 'string' && (t.k === 'int' || t.k === 'ptr') && e.args[i].kind !== 'param')
        this.report(
          e.args[i],
          'error',
          'argument-kind',
          `${name}() expects a string argument ${i + 1} (integer provided)`,
        );
    });
  }

  private printfFormat(e: CallExpr, fmt: string, args: Ty[]): void {
    const specs: Array<{ conv: string }> = [];
    const re = /%(%|[-+ #0]*(\*|\d+)?(?:\.(\*|\d+))?(hh|h|ll|l|z|j|t)?([diouxXcspr]x?h?|[a-zA-Z]))/g;
    let m: RegExpExecArray | null;
    const bad: string[] = [];
    const quirk = this.dialect.has('printfPercentQuirk');
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
      this.report(
        e.args[0],
        'error',
        'printf-format',
        `${e.callee.name}: invalid format specifier ${bad[0]}`,
      );
      return;
    }
    if (args.length < specs.length) {
      this.report(
        e,
        'error',
        'printf-format',
        `${e.callee.name}: Not enough arguments for format string (${args.length} supplied, ${specs.length} expected)`,
      );
      return;
    }
    if (args.length > specs.length) {
      this.report(
        e,
        'error',
        'printf-format',
        `${e.callee.name}: Too many arguments for format string (${args.length} supplied, ${specs.length} expected)`,
      );
      return;
    }
    specs.forEach((s, i) => {
      const t = args[i];
      const arg = e.args[i + 1];
      if (t.k === 'unknown' || arg.kind === 'param') return;
      if (s.conv === 's') {
        if (t.k === 'int' || t.k === 'ptr') {
          const hint =
            t.k === 'ptr' && /char$/.test(t.to)
              ? `; read it with str(${this.text.slice(arg.start, arg.end)})`
              : '';
          this.report(
            e,
            'error',
            'printf-format',
            `${e.callee.name}: %s specifier expects a value of type string (integer supplied)${hint}`,
            {
              related: [{ ...arg, message: `argument ${i + 1} is ${display(t)}` }],
              fixes: hint
                ? [{ ...arg, newText: `str(${this.text.slice(arg.start, arg.end)})`, title: `Wrap in str()` }]
                : undefined,
            },
          );
        }
      } else if (s.conv === 'r' || s.conv === 'rx' || s.conv === 'rh') {
        // buffers
      } else if (
        (t.k === 'agg' && (!this.dialect.has('mapValueRead') || !READABLE_AGGREGATES.has(t.fn))) ||
        t.k === 'string' ||
        t.k === 'stack' ||
        (t.k === 'other' && ['ksym', 'usym', 'inet', 'buffer'].includes(t.name))
      ) {
        this.report(
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

  private didYouMean(span: Span, suggestion: string): Partial<Diag> {
    return {
      suggestion,
      related: [{ ...span, message: `Did you mean '${suggestion}'?` }],
      fixes: [{ start: span.start, end: span.end, newText: suggestion, title: `Change to '${suggestion}'` }],
    };
  }
}

const builtinTypes = new Map<BuiltinRow, Ty>();

/** The type of a builtin variable (one shared object per builtin: types are never mutated). */
function builtinType(b: BuiltinRow): Ty {
  let ty = builtinTypes.get(b);
  if (!ty) {
    if (b.name === 'args') ty = { k: 'args' };
    else if (b.kind === 'string') ty = STRING;
    else if (b.kind === 'stack') ty = { k: 'stack', name: b.name };
    else if (b.kind === 'sym') ty = { k: 'other', name: b.type };
    else if (b.name === 'curtask') ty = { k: 'ptr', to: 'struct task_struct' };
    else ty = { k: 'int', name: b.type };
    builtinTypes.set(b, ty);
  }
  return ty;
}

function describeKind(t: Ty | undefined): string {
  if (!t || t.k === 'unknown') return 'none';
  if (t.k === 'string') return 'string';
  if (t.k === 'int' || t.k === 'ptr') return 'integer';
  return display(t);
}

function describeFeature(f: Parameters<Dialect['has']>[0]): string {
  const row = (FEATURES_TABLE as Record<string, { since: number; until?: number; description: string }>)[f];
  if (row.until !== undefined) return `${row.description}: until bpftrace 0.${row.until}`;
  return `${row.description}: from bpftrace 0.${row.since}`;
}

function typeRefTy(t: TypeRef): Ty {
  const base = `${t.tag ? t.tag + ' ' : ''}${t.name}`;
  if (t.array !== undefined) return fromCType(`${base}[${t.array === 'unsized' ? '' : t.array}]`);
  if (t.pointer === 1) return { k: 'ptr', to: base };
  if (t.pointer > 1) return { k: 'ptr', to: base + ' ' + '*'.repeat(t.pointer - 1) };
  if (t.tag === 'struct' || t.tag === 'union') return { k: 'struct', name: base };
  if (t.name === 'string') return STRING;
  return { k: 'int', name: t.name };
}
