// Typed AST of a bpftrace script. Every node carries the exact [start, end) character offsets
// of the text it came from; features convert offsets to LSP positions at the edge.

export interface Span {
  start: number;
  end: number;
}

export interface Name extends Span {
  name: string;
}

export interface Program extends Span {
  kind: 'program';
  preprocessor: Preprocessor[];
  cDefinitions: CDefinition[];
  config?: ConfigBlock;
  imports: Import[];
  items: TopItem[];
}

export type TopItem = Probe | MacroDef | MapDecl;

export interface Preprocessor extends Span {
  kind: 'preprocessor';
  directive: string; // include, define, ifdef, ...
  /** `linux/in.h` for `#include <linux/in.h>`; the macro name for `#define`. */
  argument: string;
  argumentSpan?: Span;
  /** Value text of an object-like #define. */
  value?: string;
}

export interface CDefinition extends Span {
  kind: 'cdef';
  keyword: 'struct' | 'union' | 'enum';
  name?: Name;
  body: string;
  /** Members, parsed loosely from the body (type text and name). */
  members: Array<{ name: string; type: string }>;
}

export interface ConfigBlock extends Span {
  kind: 'config';
  entries: Array<{ key: Name; value?: Expr }>;
}

export interface Import extends Span {
  kind: 'import';
  path: string;
}

export interface Probe extends Span {
  kind: 'probe';
  attachPoints: AttachPoint[];
  predicate?: Expr;
  /** The span of the whole `/.../` predicate. */
  predicateSpan?: Span;
  body: Block;
}

export interface AttachPoint extends Span {
  kind: 'attach';
  /** The attach point as bpftrace reads it: its pieces joined, without the label. */
  raw: string;
  /** `name=` / `name==` before the provider (quotes preserved), with the sign written. */
  label?: Name & { sign: '=' | '==' };
  provider: Name;
  /** Colon-separated parts after the provider (quotes preserved). */
  parts: Name[];
  /**
   * Spaces (and comments) inside the attach point: `interval : s : 1`, `name = kprobe:f`. Up to
   * 0.25 bpftrace's grammar joins the tokens of an attach point whatever lies between them; from
   * 0.26 a space ends it.
   */
  gaps?: Span[];
}

export interface MacroDef extends Span {
  kind: 'macro';
  name: Name;
  params: Expr[];
  body: Block;
}

export interface MapDecl extends Span {
  kind: 'mapdecl';
  map: MapExpr;
  type: Name;
  args: Expr[];
}

export interface Block extends Span {
  kind: 'block';
  statements: Stmt[];
  /** False when the closing brace is missing. */
  closed: boolean;
  /** Stray `;` (empty statements), which old dialects reject. */
  empty?: Span[];
}

export type Stmt =
  | ExprStmt
  | AssignStmt
  | IfStmt
  | UnrollStmt
  | WhileStmt
  | ForStmt
  | ReturnStmt
  | JumpStmt
  | LetStmt
  | BlockStmt;

export interface ExprStmt extends Span {
  kind: 'exprstmt';
  expr: Expr;
}
export interface AssignStmt extends Span {
  kind: 'assign';
  target: Expr;
  /** `=`, `+=`, ... */
  op: string;
  opSpan: Span;
  value: Expr;
}
export interface IfStmt extends Span {
  kind: 'if';
  cond: Expr;
  /** Whether the condition was written in parentheses as a whole (required before 0.25). */
  parenthesized: boolean;
  then: Block;
  else?: Block | IfStmt;
}
export interface UnrollStmt extends Span {
  kind: 'unroll';
  count: Expr;
  /** Whether the count was written in parentheses as a whole (required before 0.25). */
  parenthesized: boolean;
  body: Block;
}
export interface WhileStmt extends Span {
  kind: 'while';
  keyword: Span;
  cond: Expr;
  /** Whether the condition was written in parentheses as a whole (required before 0.25). */
  parenthesized: boolean;
  body: Block;
}
export interface ForStmt extends Span {
  kind: 'for';
  keyword: Span;
  /** `for ($x : ...)`; the parentheses became optional in bpftrace 0.25. */
  parenthesized: boolean;
  variable: VarExpr;
  iterable: Expr | RangeExpr;
  body: Block;
}
export interface RangeExpr extends Span {
  kind: 'range';
  from: Expr;
  to: Expr;
}
export interface ReturnStmt extends Span {
  kind: 'return';
  value?: Expr;
}
export interface JumpStmt extends Span {
  kind: 'break' | 'continue';
}
export interface LetStmt extends Span {
  kind: 'let';
  keyword: Span;
  variable: VarExpr;
  type?: TypeRef;
  value?: Expr;
}
export interface BlockStmt extends Span {
  kind: 'blockstmt';
  block: Block;
}

export type Expr =
  | IntExpr
  | StringExpr
  | IdentExpr
  | VarExpr
  | ParamExpr
  | MapExpr
  | CallExpr
  | BinaryExpr
  | UnaryExpr
  | TernaryExpr
  | FieldExpr
  | IndexExpr
  | CastExpr
  | TupleExpr
  | SizeofExpr
  | OffsetofExpr
  | BlockExpr
  | ComptimeExpr
  | TypeRef
  | ErrorExpr;

/** `comptime expr` (0.25): evaluated while compiling. */
export interface ComptimeExpr extends Span {
  kind: 'comptime';
  keyword: Span;
  operand: Expr;
}

export interface IntExpr extends Span {
  kind: 'int';
  value: number;
  text: string;
  suffix?: string;
}
export interface StringExpr extends Span {
  kind: 'string';
  value: string;
}
/** A bare identifier: a builtin variable, an enum/#define constant, or unknown. */
export interface IdentExpr extends Span {
  kind: 'ident';
  name: string;
}
export interface VarExpr extends Span {
  kind: 'var';
  name: string; // with `$`
}
export interface ParamExpr extends Span {
  kind: 'param';
  name: string; // `$1`, `$#`
}
export interface MapExpr extends Span {
  kind: 'map';
  name: string; // with `@`
  nameSpan: Span;
  /** Undefined for a scalar use `@x`; the key expressions of `@x[k1, k2]` otherwise. */
  keys?: Expr[];
}
export interface CallExpr extends Span {
  kind: 'call';
  callee: Name;
  args: Expr[];
  /** Span from `(` to `)` inclusive (or to where the list stopped). */
  argsSpan: Span;
  /** Commas between arguments (for signature help). */
  commas: number[];
}
export interface BinaryExpr extends Span {
  kind: 'binary';
  op: string;
  opSpan: Span;
  left: Expr;
  right: Expr;
}
export interface UnaryExpr extends Span {
  kind: 'unary';
  op: string;
  operand: Expr;
  postfix: boolean;
}
export interface TernaryExpr extends Span {
  kind: 'ternary';
  cond: Expr;
  then?: Expr;
  else: Expr;
}
export interface FieldExpr extends Span {
  kind: 'field';
  object: Expr;
  op: '.' | '->';
  opSpan: Span;
  field: Name;
}
export interface IndexExpr extends Span {
  kind: 'index';
  object: Expr;
  index: Expr;
}
export interface CastExpr extends Span {
  kind: 'cast';
  type: TypeRef;
  operand: Expr;
}
export interface TupleExpr extends Span {
  kind: 'tuple';
  elements: Expr[];
  /** Field names of a record `(a = 1, b = 2)` (0.25). */
  names?: Name[];
}
export interface SizeofExpr extends Span {
  kind: 'sizeof';
  keyword: Span;
  arg: TypeRef | Expr;
}
export interface OffsetofExpr extends Span {
  kind: 'offsetof';
  keyword: Span;
  type: TypeRef;
  fields: Name[];
}
export interface BlockExpr extends Span {
  kind: 'blockexpr';
  block: Block;
}
export interface ErrorExpr extends Span {
  kind: 'error';
}

export interface TypeRef extends Span {
  kind: 'type';
  /** `struct`, `union` or `enum` when written. */
  tag?: 'struct' | 'union' | 'enum';
  name: string;
  nameSpan: Span;
  pointer: number;
  array?: number | 'unsized';
  /** `typeof(x)` (0.25): the type of an expression or of a type; `name` is then `typeof`. */
  of?: Expr;
  /** The source text of `of`, for printing the type back. */
  ofText?: string;
}

export function typeText(t: TypeRef): string {
  const name = t.of ? `typeof(${t.ofText ?? ''})` : t.name;
  return `${t.tag ? t.tag + ' ' : ''}${name}${t.pointer ? ' ' + '*'.repeat(t.pointer) : ''}${
    t.array === undefined ? '' : `[${t.array === 'unsized' ? '' : t.array}]`
  }`;
}

/** Calls visit on every expression under node (pre-order), statements included. */
export function walkExpr(node: Stmt | Expr | Block | RangeExpr | undefined, visit: (e: Expr) => void): void {
  if (!node) return;
  switch (node.kind) {
    case 'block':
      for (const s of node.statements) walkExpr(s, visit);
      return;
    case 'exprstmt':
      walkExpr(node.expr, visit);
      return;
    case 'assign':
      walkExpr(node.target, visit);
      walkExpr(node.value, visit);
      return;
    case 'if':
      walkExpr(node.cond, visit);
      walkExpr(node.then, visit);
      walkExpr(node.else, visit);
      return;
    case 'unroll':
      walkExpr(node.count, visit);
      walkExpr(node.body, visit);
      return;
    case 'while':
      walkExpr(node.cond, visit);
      walkExpr(node.body, visit);
      return;
    case 'for':
      walkExpr(node.variable, visit);
      walkExpr(node.iterable, visit);
      walkExpr(node.body, visit);
      return;
    case 'range':
      walkExpr(node.from, visit);
      walkExpr(node.to, visit);
      return;
    case 'return':
      walkExpr(node.value, visit);
      return;
    case 'break':
    case 'continue':
      return;
    case 'let':
      walkExpr(node.variable, visit);
      walkExpr(node.value, visit);
      return;
    case 'blockstmt':
      walkExpr(node.block, visit);
      return;
    default:
      break;
  }
  const e = node;
  visit(e);
  switch (e.kind) {
    case 'map':
      for (const k of e.keys ?? []) walkExpr(k, visit);
      break;
    case 'call':
      for (const a of e.args) walkExpr(a, visit);
      break;
    case 'binary':
      walkExpr(e.left, visit);
      walkExpr(e.right, visit);
      break;
    case 'unary':
      walkExpr(e.operand, visit);
      break;
    case 'ternary':
      walkExpr(e.cond, visit);
      walkExpr(e.then, visit);
      walkExpr(e.else, visit);
      break;
    case 'field':
      walkExpr(e.object, visit);
      break;
    case 'index':
      walkExpr(e.object, visit);
      walkExpr(e.index, visit);
      break;
    case 'cast':
      walkExpr(e.operand, visit);
      break;
    case 'tuple':
      for (const x of e.elements) walkExpr(x, visit);
      break;
    case 'sizeof':
      if (e.arg.kind !== 'type') walkExpr(e.arg, visit);
      break;
    case 'blockexpr':
      walkExpr(e.block, visit);
      break;
    case 'comptime':
      walkExpr(e.operand, visit);
      break;
    case 'type':
      if (e.of) walkExpr(e.of, visit);
      break;
    default:
      break;
  }
}
