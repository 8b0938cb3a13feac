// Integer signs of map values, keys and aggregated arguments, by version, where the script says
// them outright: casts to sized integers and literals (integers.ts), and in 0.24 the integer
// builtins, which are all unsigned there (v0.24.0 semantic_analyser.cpp visit(Builtin)).
//
// 0.17-0.23: any integer goes into any integer map (assign_map_type compares GetTy() only).
// 0.24 (CHANGELOG 0.24.0 "Add signed type checking for map assignments" #4132, "... for map keys"
//   #4136): integers are stored as 64 bits and keep the sign of the first one (v0.24.0
//   semantic_analyser.cpp assign_map_type): another sign is "Type mismatch for @x: trying to
//   assign value of type 'int64' when map already contains a value of type 'uint64'", except a
//   non-negative literal (an `Integer` node; `-1` is a `NegativeInteger` of type int64), which
//   only has to fit ("... trying to assign value 'N' which does not fit into the map of type
//   'int64'"); sum/min/max/avg/stats of another sign: "... value of type 'sum_t' when map
//   already contains a value of type 'usum_t'". A key likewise (validate_new_key: "Argument
//   mismatch for @x: trying to access with arguments: 'int64' when map expects arguments:
//   'uint64'"); in a key of several parts a part of another sign never fits, literal or not
//   (types.cpp SizedType::FitsInto).
// 0.25: values, keys and the arguments of an aggregation take a type that holds each one
//   (types/type_resolver.cpp get_map_value_type, get_map_key_type and the "trying to call
//   function with type" rule of sum/min/max/avg/stats; types.cpp get_promoted_int): none holds
//   both a signed integer and a 64-bit unsigned one.
// 0.26 on: that case falls back to int64 with a warning (types.cpp get_promoted_int; CHANGELOG
//   0.26.0 "Warn instead of error when there is an integer sign mismatch").
import type { CallExpr, Expr, MapExpr, Span } from '../syntax/ast';
import type { Checker } from './checker';
import { explicitInteger, literalValue, promoteInteger, type Explicit } from './integers';
import type { IntType } from './types';

/** What the script said outright about one map; null: no longer known. */
export interface MapIntegers {
  value?: IntType | null;
  keys?: Array<IntType | null>;
  /** The argument of sum/min/max/avg/stats, and which of them. */
  aggregate?: { fn: string; ty: IntType | null };
}

const SIGNED_AGGREGATES = new Set(['sum', 'min', 'max', 'avg', 'stats']);
const INT64_MAX = 2 ** 63 - 1;

/** 0.24's integer builtins: pid, tid, cpid uint32, usermode uint8, the rest uint64. */
const UNSIGNED_BUILTINS: Record<string, number> = {
  pid: 32,
  tid: 32,
  cpid: 32,
  usermode: 8,
  nsecs: 64,
  elapsed: 64,
  cgroup: 64,
  uid: 64,
  gid: 64,
  cpu: 64,
  rand: 64,
  numaid: 64,
  jiffies: 64,
  ncpus: 64,
};

const name = (t: IntType) => `${t.signed ? '' : 'u'}int${t.bits}`;

/** The integer type of a value in a map or key where the version's rules are known. */
function integerOf(cx: Checker, e: Expr): Explicit | undefined {
  if (cx.dialect.has('mapIntegerSign')) {
    const literal = literalValue(e);
    if (literal !== undefined)
      return { ty: { signed: literal < 0 || literal <= INT64_MAX, bits: 64 }, literal };
    if (e.kind === 'ident' && !cx.constants.has(e.name)) {
      const bits = Object.hasOwn(UNSIGNED_BUILTINS, e.name)
        ? UNSIGNED_BUILTINS[e.name]
        : /^s?arg\d+$/.test(e.name)
          ? 64
          : undefined;
      return bits ? { ty: { signed: false, bits } } : undefined;
    }
    return e.kind === 'cast' ? explicitInteger(cx, e) : undefined;
  }
  return cx.dialect.has('mapIntegerPromote') ? explicitInteger(cx, e) : undefined;
}

function state(cx: Checker, m: MapExpr): MapIntegers {
  let s = cx.mapIntegers.get(m.name);
  if (!s) {
    s = {};
    cx.mapIntegers.set(m.name, s);
  }
  return s;
}

/**
 * The type a map keeps after `had` meets `value`, or undefined after reporting that no type
 * holds both. `literalFits`: 0.24's exception for a non-negative literal (a value, a whole key).
 */
function meet(
  cx: Checker,
  had: IntType,
  value: Explicit,
  literalFits: boolean,
  report: (message: 'sign' | 'fit') => void,
): IntType | null {
  if (cx.dialect.has('mapIntegerSign')) {
    if (literalFits && value.literal !== undefined && value.literal >= 0) {
      if (had.signed && value.literal > INT64_MAX) report('fit');
    } else if (had.signed !== value.ty.signed) report('sign');
    return had;
  }
  const promoted = promoteInteger(had, value.ty);
  if (!promoted) report('sign');
  return promoted ?? had;
}

/** A value assigned to a map; `value` undefined when it is not a plain `=` of an expression. */
export function mapIntegerValue(cx: Checker, m: MapExpr, value: Expr | undefined, span: Span): void {
  if (!cx.dialect.has('mapIntegerSign') && !cx.dialect.has('mapIntegerPromote')) return;
  const s = state(cx, m);
  if (value?.kind === 'call' && SIGNED_AGGREGATES.has(value.callee.name)) {
    aggregate(cx, m, value);
    return;
  }
  const v = value && integerOf(cx, value);
  if (s.value === undefined) {
    s.value = v ? (cx.dialect.has('mapIntegerSign') ? { signed: v.ty.signed, bits: 64 } : v.ty) : null;
    return;
  }
  if (s.value === null) return;
  // 0.24 keeps the first sign whatever comes later; 0.25's promoted type is lost with an unknown one.
  if (!v) {
    if (!cx.dialect.has('mapIntegerSign')) s.value = null;
    return;
  }
  const had = s.value;
  s.value = meet(cx, had, v, true, (why) =>
    cx.report(
      span,
      'error',
      'map-value-mismatch',
      why === 'fit'
        ? `Type mismatch for ${m.name}: trying to assign value '${cx.text.slice(value!.start, value!.end)}' which does not fit into the map of type '${name(had)}'`
        : `Type mismatch for ${m.name}: trying to assign value of type '${name(v.ty)}' when map already ${
            cx.dialect.has('mapIntegerSign') ? 'contains a value of type' : 'has a type'
          } '${name(had)}'`,
    ),
  );
}

function aggregate(cx: Checker, m: MapExpr, call: CallExpr): void {
  const s = state(cx, m);
  const fn = call.callee.name;
  const arg = call.args.length === 1 ? integerOf(cx, call.args[0]) : undefined;
  if (!s.aggregate || s.aggregate.fn !== fn) {
    // Another kind of value is the map-value-mismatch of maps.ts.
    if (!s.aggregate) s.aggregate = { fn, ty: arg?.ty ?? null };
    return;
  }
  const had = s.aggregate.ty;
  if (!had || !arg) {
    if (!cx.dialect.has('mapIntegerSign')) s.aggregate.ty = null;
    return;
  }
  const sign = cx.dialect.has('mapIntegerSign');
  const kind = (t: IntType) => `${t.signed ? '' : 'u'}${fn}_t`;
  s.aggregate.ty = meet(cx, had, arg, false, () =>
    cx.report(
      call,
      'error',
      'map-value-mismatch',
      sign
        ? `Type mismatch for ${m.name}: trying to assign value of type '${kind(arg.ty)}' when map already contains a value of type '${kind(had)}'`
        : `Type mismatch for ${fn}: trying to call function with type '${name(arg.ty)}' when it already has a type '${name(had)}'`,
    ),
  );
}

/** The keys of a use of a map (one tuple's parts from 0.22: `@m[a, b]` is `@m[(a, b)]`). */
export function mapIntegerKeys(cx: Checker, m: MapExpr, keys: Expr[]): void {
  if (!cx.dialect.has('mapIntegerSign') && !cx.dialect.has('mapIntegerPromote')) return;
  const s = state(cx, m);
  const found = keys.map((k) => integerOf(cx, k));
  const sign = cx.dialect.has('mapIntegerSign');
  if (!s.keys) {
    s.keys = found.map((k) => (k ? (sign ? { signed: k.ty.signed, bits: 64 } : k.ty) : null));
    return;
  }
  if (s.keys.length !== keys.length) return; // the arity mismatch of maps.ts
  for (let i = 0; i < keys.length; i++) {
    const had = s.keys[i];
    const k = found[i];
    if (!had) continue;
    if (!k) {
      if (!sign) s.keys[i] = null;
      continue;
    }
    let reported = false;
    s.keys[i] = meet(cx, had, k, keys.length === 1, (why) => {
      reported = true;
      cx.report(
        keys[i],
        'error',
        'map-key-mismatch',
        why === 'fit'
          ? `Argument mismatch for ${m.name}: trying to access with argument '${cx.text.slice(keys[i].start, keys[i].end)}' which does not fit into the map of key type '${name(had)}'`
          : keys.length === 1
            ? `Argument mismatch for ${m.name}: trying to access with arguments: '${name(k.ty)}' when map expects arguments: '${name(had)}'`
            : `Argument mismatch for ${m.name}: key part ${i + 1} is '${name(k.ty)}' here but the map expects '${name(had)}'`,
      );
    });
    if (reported) return;
  }
}
