// The small type model the semantic pass needs: enough to check printf, map values, field
// access and to show inferred types on hover. Integers of any width are one kind, as in 0.17.

export type Ty =
  | { k: 'int'; name: string }
  | { k: 'string' }
  | { k: 'ptr'; to: string } // pointee C type, e.g. 'struct sockaddr_in', 'char'
  | { k: 'struct'; name: string } // 'struct sockaddr_in'
  | { k: 'args' }
  | { k: 'stack'; name: string }
  | { k: 'agg'; fn: string }
  | { k: 'tuple'; elements: Ty[]; names?: string[] }
  | { k: 'other'; name: string } // ksym, inet, buffer, timestamp...
  | { k: 'unknown' }
  | { k: 'none' };

/** A sized integer as a cast names it (`uint32`): see integers.ts. */
export interface IntType {
  signed: boolean;
  bits: number;
}

/**
 * `other` values of bpftrace's own types (what functions and builtins return): each a type of
 * its own that bpftrace compares, stores and keys only with itself (Binop, assign_map_type and
 * AssignVarStatement compare GetTy(); verified on 0.17), and that has no fields.
 */
export const VALUE_TYPES = new Set([
  'ksym',
  'usym',
  'inet',
  'buffer',
  'username',
  'probe',
  'cgroup_path',
  'macaddr',
  'strerror',
  'strftime',
]);

export const UNKNOWN: Ty = { k: 'unknown' };
export const INT: Ty = { k: 'int', name: 'int64' };
export const STRING: Ty = { k: 'string' };
export const NONE: Ty = { k: 'none' };

const cTypeCache = new Map<string, Ty>();

/** A type from a C declaration as printed by the catalog ("struct sockaddr *", "char[16]", "int"). */
export function fromCType(text: string): Ty {
  let ty = cTypeCache.get(text);
  if (!ty) {
    ty = parseCType(text);
    // Types are never mutated, so one object per C type text can be shared.
    if (cTypeCache.size < 50_000) cTypeCache.set(text, ty);
  }
  return ty;
}

function parseCType(text: string): Ty {
  const t = text
    .replace(/\b(const|volatile|__user|__rcu|__percpu|__iomem|__force)\b/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  if (t.startsWith('__data_loc')) return { k: 'other', name: t };
  const arr = /^(.*?)\s*\[(\d*)\]$/.exec(t);
  if (arr) {
    if (/^(unsigned )?char$|^u8$|^s8$/.test(arr[1].trim()) && arr[1].trim().endsWith('char')) return STRING;
    return { k: 'other', name: t };
  }
  if (t.endsWith('*')) return { k: 'ptr', to: t.slice(0, -1).trim() };
  if (/^(struct|union) /.test(t)) return { k: 'struct', name: t };
  if (t === 'string' || /^string\[\d*\]$/.test(t)) return STRING;
  return { k: 'int', name: t || 'int64' };
}

export function display(ty: Ty): string {
  switch (ty.k) {
    case 'int':
      return ty.name;
    case 'string':
      return 'string';
    case 'ptr':
      return `${ty.to} *`;
    case 'struct':
      return ty.name;
    case 'args':
      return 'args';
    case 'stack':
      return ty.name;
    case 'agg':
      return `${ty.fn}_t`;
    case 'tuple':
      return `(${ty.elements.map((e, i) => (ty.names ? `${ty.names[i]} = ` : '') + display(e)).join(', ')})`;
    case 'other':
      return ty.name;
    case 'unknown':
      return 'unknown';
    case 'none':
      return 'none';
  }
}

/** Coarse kind for consistency checks (map values, variables). */
export function kindOf(ty: Ty): string | undefined {
  switch (ty.k) {
    case 'int':
    case 'ptr':
      return 'integer';
    case 'string':
      return 'string';
    case 'stack':
      return ty.name;
    case 'agg':
      return ty.fn;
    case 'tuple':
      return `(${ty.elements.map((e) => kindOf(e) ?? '?').join(',')})`;
    case 'struct':
      return ty.name;
    case 'other':
      return VALUE_TYPES.has(ty.name) ? ty.name : undefined;
    default:
      return undefined;
  }
}

/** The struct name a pointer or struct value type refers to ('sockaddr_in'), if any. */
export function structName(ty: Ty): string | undefined {
  const n = ty.k === 'ptr' ? ty.to : ty.k === 'struct' ? ty.name : undefined;
  const m = n ? /^(?:struct|union) (\w+)$/.exec(n) : null;
  return m?.[1];
}
