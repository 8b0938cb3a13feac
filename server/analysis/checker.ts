// The state one analysis shares between its passes: the parse, the target (dialect, catalog,
// machine facts), what has been found so far (diagnostics, symbols, constants) and where the walk
// is (probe, scope). Passes are functions over a Checker; none keeps state of its own.
import type { Expr, MacroDef, Span } from '../syntax/ast';
import { parse, type ParseResult } from '../syntax/parser';
import type { Catalog, StructMember, TracepointField } from '../catalog/catalog';
import { type Dialect, FEATURES, versionName } from './dialects';
import type { MachineFacts } from './machine';
import type { MacroFrame } from './macros';
import type { MapIntegers } from './map-integers';
import type { Diag, MapSymbol, ProbeInfo, Severity, VarSymbol } from './results';
import type { Ty } from './types';
import { declaresUnsafe } from '../../common/pragmas';

/** How the script will be run, beyond its dialect and target machine. */
export interface AnalysisOptions {
  /** Runs with `bpftrace --unsafe` (a setting or `fieldtrace check --unsafe`); the script's own
   * `// fieldtrace: unsafe` comment says the same. */
  unsafe?: boolean;
}

export interface Scope {
  parent?: Scope;
  vars: Map<string, VarSymbol>;
  span: Span;
}

/** Where the walk is inside a probe. */
export interface ProbeCtx {
  info: ProbeInfo;
  kinds: Set<string>; // probe row names
  pendingReads: Array<{ scope: Scope; name: string; span: Span }>;
}

export class Checker {
  readonly parsed: ParseResult;
  readonly diags: Diag[] = [];
  readonly maps = new Map<string, MapSymbol>();
  readonly vars: VarSymbol[] = [];
  readonly probes: ProbeInfo[] = [];
  /** Inferred types live on the nodes themselves: a Map of every expression costs more in GC. */
  readonly types = {
    get: (e: Expr): Ty | undefined => (e as { inferred?: Ty }).inferred,
    set: (e: Expr, ty: Ty): void => {
      (e as { inferred?: Ty }).inferred = ty;
    },
  };
  readonly constants = new Map<string, { value: string; origin: string }>();
  readonly mapAssigned = new Set<string>();
  /** Integer types of map values and keys the script says outright (map-integers.ts). */
  readonly mapIntegers = new Map<string, MapIntegers>();
  readonly pendingMapReads: Array<{ name: string; span: Span }> = [];
  ctx?: ProbeCtx;
  /** Macro definitions by name (bpftrace 0.25 overloads them by their parameters). */
  readonly macros = new Map<string, MacroDef[]>();
  /** Set while the body of a macro is walked: what its parameters bring. */
  macroFrame?: MacroFrame;
  /** #includes with no constant table: what they define is unknown. */
  readonly opaqueHeaders: string[] = [];
  scope?: Scope;
  /** system(), signal() and override() are allowed: the script runs with `bpftrace --unsafe`. */
  readonly unsafe: boolean;
  /** Loops around the statement being walked (in a probe or a macro body). */
  readonly loops = { depth: 0, forDepth: 0 };
  private readonly argsFieldsCache = new Map<ProbeInfo, TracepointField[] | undefined>();
  private readonly suggestions = new Map<string, string | undefined>();

  constructor(
    readonly text: string,
    readonly dialect: Dialect,
    readonly catalog: Catalog,
    readonly facts?: MachineFacts,
    options: AnalysisOptions = {},
  ) {
    this.parsed = parse(text);
    this.unsafe = options.unsafe === true || declaresUnsafe(text);
  }

  report(span: Span, severity: Severity, code: string, message: string, extra: Partial<Diag> = {}): void {
    const text = extra.suggestion ? `${message}; did you mean '${extra.suggestion}'?` : message;
    const n = this.text.length;
    const start = Math.min(Math.max(0, span.start), n);
    const end = Math.min(Math.max(start, span.end), n);
    this.diags.push({ start, end, severity, code, ...extra, message: text });
  }

  /** Reports a construct the target dialect lacks; true when it has it. */
  needs(span: Span, feature: Parameters<Dialect['has']>[0], what: string): boolean {
    if (this.dialect.has(feature)) return true;
    this.report(
      span,
      'error',
      'dialect',
      `${what} is not available in bpftrace ${this.dialect.name} (${describeFeature(feature)})`,
    );
    return false;
  }

  didYouMean(span: Span, suggestion: string): Partial<Diag> {
    return {
      suggestion,
      related: [{ ...span, message: `Did you mean '${suggestion}'?` }],
      fixes: [{ start: span.start, end: span.end, newText: suggestion, title: `Change to '${suggestion}'` }],
    };
  }

  /** Suggestions over the catalog's long lists, once per name and analysis. */
  memoClosest(key: string, compute: () => string | undefined): string | undefined {
    if (!this.suggestions.has(key)) this.suggestions.set(key, compute());
    return this.suggestions.get(key);
  }

  argsFields(info: ProbeInfo): TracepointField[] | undefined {
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

  structMembers(name: string): StructMember[] | undefined {
    const local = this.parsed.program.cDefinitions.find((d) => d.keyword !== 'enum' && d.name?.name === name);
    if (local) return local.members;
    return this.catalog.struct(name);
  }
}

export function describeFeature(f: Parameters<Dialect['has']>[0]): string {
  const row = (FEATURES as Record<string, { since: number; until?: number; description: string }>)[f];
  if (row.until !== undefined) return `${row.description}: until bpftrace ${versionName(row.until)}`;
  return `${row.description}: from bpftrace ${versionName(row.since)}`;
}
