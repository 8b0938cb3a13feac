// What an analysis yields: diagnostics with their fixes, and the symbol and type tables that
// completion, hover, rename and friends read. Shared by every pass and every feature.
import type { Expr, Probe, Program, Span } from '../syntax/ast';
import type { ParseResult } from '../syntax/parser';
import type { Catalog, StructMember, TracepointField } from '../catalog/catalog';
import type { Dialect, ProbeRow } from './dialects';
import type { IntType, Ty } from './types';

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
  /** The sized integer its values were cast to, while every value was such a cast (integers.ts). */
  castInt?: IntType;
  /** The sized integer of a `let $x: T` declaration (declarations.ts). */
  declaredInt?: IntType;
  /** Declared without a value and not assigned yet (its first value sets its type, 0.22-0.24). */
  declaredPending?: boolean;
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
