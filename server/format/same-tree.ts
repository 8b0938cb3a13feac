// Whether two syntax trees are the same program: the formatter's proof that its output means what
// its input meant. Positions and the marks of the written form (parentheses, stray `;`, spaces
// inside an attach point) may differ; every other field must be equal.
//
// A node is compared through the list of its fields below rather than by enumerating its keys
// (for-in over every node of a 5,000-line script took longer than parsing it). The check stays
// as strict as a walk over every key: the type assertion under FIELDS fails the build when a
// node type gains a field that is neither listed nor ignored, a kind missing from the table (or
// an object without a kind, such as a Name) is compared key by key, and the tests walk the trees
// of the corpus for keys that are in no type (unlistedKeys).
import type * as Ast from '../syntax/ast';

type Node =
  | Ast.Program
  | Ast.TopItem
  | Ast.Preprocessor
  | Ast.CDefinition
  | Ast.ConfigBlock
  | Ast.Import
  | Ast.AttachPoint
  | Ast.Block
  | Ast.Stmt
  | Ast.Expr
  | Ast.RangeExpr;
type Kind = Node['kind'];
/** The node types of a kind (distributes over `kind: 'break' | 'continue'`). */
type NodeOf<K extends Kind> = Node extends infer N
  ? N extends { kind: infer NK }
    ? K extends NK
      ? N
      : never
    : never
  : never;

/** Keys whose values may differ between the input and the formatted text. */
const IGNORED = [
  'start',
  'end',
  'opSpan',
  'nameSpan',
  'argsSpan',
  'predicateSpan',
  'argumentSpan',
  'keyword',
  'commas',
  'empty',
  'parenthesized',
  // Spaces inside an attach point: printed joined, as bpftrace reads it.
  'gaps',
] as const;
type Ignored = (typeof IGNORED)[number];
const IGNORED_KEYS: ReadonlySet<string> = new Set(IGNORED);

type Compared<K extends Kind> = Exclude<keyof NodeOf<K>, Ignored | 'kind'>;

/** Every field of each kind of node that must be equal. */
const FIELDS = {
  program: ['preprocessor', 'cDefinitions', 'config', 'imports', 'items'],
  preprocessor: ['directive', 'argument', 'value'],
  cdef: ['name', 'body', 'members'],
  config: ['entries'],
  import: ['path'],
  probe: ['attachPoints', 'predicate', 'body'],
  attach: ['raw', 'label', 'provider', 'parts'],
  macro: ['name', 'params', 'body'],
  mapdecl: ['map', 'type', 'args'],
  block: ['statements', 'closed'],
  exprstmt: ['expr'],
  assign: ['target', 'op', 'value'],
  if: ['cond', 'then', 'else'],
  unroll: ['count', 'body'],
  while: ['cond', 'body'],
  for: ['variable', 'iterable', 'body'],
  range: ['from', 'to'],
  return: ['value'],
  break: [],
  continue: [],
  let: ['variable', 'type', 'value'],
  blockstmt: ['block'],
  comptime: ['operand'],
  int: ['value', 'text', 'suffix'],
  string: ['value'],
  ident: ['name'],
  var: ['name'],
  param: ['name'],
  map: ['name', 'keys'],
  call: ['callee', 'args'],
  binary: ['op', 'left', 'right'],
  unary: ['op', 'operand', 'postfix'],
  ternary: ['cond', 'then', 'else'],
  field: ['object', 'op', 'field'],
  index: ['object', 'index'],
  cast: ['type', 'operand'],
  tuple: ['elements', 'names'],
  sizeof: ['arg'],
  offsetof: ['type', 'fields'],
  blockexpr: ['block'],
  type: ['tag', 'name', 'pointer', 'array', 'of', 'ofText'],
  error: [],
} as const satisfies { [K in Kind]: ReadonlyArray<Compared<K>> };

/** Fields of a node type that are neither compared nor ignored: must be none (checked by tsc). */
type Unlisted = { [K in Kind]: Exclude<Compared<K>, (typeof FIELDS)[K][number]> }[Kind];
const everyFieldListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyFieldListed;

const FIELDS_BY_KIND: ReadonlyMap<string, readonly string[]> = new Map(Object.entries(FIELDS));

const TRAILING_SPACE = /[ \t\r]+$/gm;

/** Same tree, positions and the marks of written form (parentheses, stray `;`) aside. */
export function sameTree(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameTree(a[i], b[i])) return false;
    return true;
  }
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  const fields = typeof x.kind === 'string' ? FIELDS_BY_KIND.get(x.kind) : undefined;
  if (!fields) return sameKeys(x, y);
  if (x.kind !== y.kind) return false;
  for (let i = 0; i < fields.length; i++) {
    const k = fields[i];
    const u = x[k];
    const v = y[k];
    if (u === v) continue;
    // A C definition's body is kept as written but for trailing spaces.
    if (k === 'body' && typeof u === 'string' && typeof v === 'string') {
      if (u.replace(TRAILING_SPACE, '') !== v.replace(TRAILING_SPACE, '')) return false;
    } else if (!sameTree(u, v)) return false;
  }
  return true;
}

/** Key by key, for objects of no known kind (names, labels, config entries, C members). */
function sameKeys(x: Record<string, unknown>, y: Record<string, unknown>): boolean {
  for (const k in x) {
    const u = x[k];
    const v = y[k];
    if (u === v || IGNORED_KEYS.has(k)) continue;
    if (!sameTree(u, v)) return false;
  }
  // A part the formatted tree has and the original lacks.
  for (const k in y) if (!(k in x) && y[k] !== undefined && !IGNORED_KEYS.has(k)) return false;
  return true;
}

/**
 * Keys found under `root` that the comparison would not look at: on a node, a key that is
 * neither a field of its kind nor ignored (one added to a node without its type). For the tests.
 */
export function unlistedKeys(root: unknown): string[] {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return;
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    const record = node as Record<string, unknown>;
    const fields = typeof record.kind === 'string' ? FIELDS_BY_KIND.get(record.kind) : undefined;
    for (const [k, v] of Object.entries(record)) {
      if (fields && k !== 'kind' && !fields.includes(k) && !IGNORED_KEYS.has(k))
        out.add(`${String(record.kind)}.${k}`);
      walk(v);
    }
  };
  walk(root);
  return [...out];
}
