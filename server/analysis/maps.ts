// Maps: every use of `@name`, its key arity and key types, the kind of value it holds, map
// declarations (`let @m = hash(N);`), and reads of maps that nothing assigns.
import type { Expr, MapDecl, MapExpr, Span } from '../syntax/ast';
import type { Checker } from './checker';
import { MAP_DECL_TYPES } from './dialects';
import { placeCall } from './calls';
import { expr } from './expressions';
import { mapIntegerKeys, mapIntegerValue } from './map-integers';
import type { MapSymbol } from './results';
import { lookup } from './scopes';
import { closest } from './suggest';
import { display, kindOf, type Ty } from './types';

/** wholeMap: a use of the map itself (print(@m), for over @m), which says nothing about its keys. */
export function mapRef(cx: Checker, m: MapExpr, isWrite: boolean, wholeMap = false): MapSymbol {
  if (cx.macroFrame) return macroMap(cx, m);
  let sym = cx.maps.get(m.name);
  if (!sym) {
    sym = { name: m.name, refs: [], defs: [] };
    cx.maps.set(m.name, sym);
  }
  sym.refs.push(m.nameSpan);
  if (isWrite) {
    sym.defs.push(m.nameSpan);
    cx.mapAssigned.add(m.name);
  }
  const writtenKeyTys = (m.keys ?? []).map((k) => {
    if (k.kind === 'var' && !cx.dialect.has('tupleKeys') && lookup(cx, k.name)?.ty.k === 'tuple') {
      cx.report(
        k,
        'error',
        'map-key',
        `A tuple cannot be used as a map key in bpftrace ${cx.dialect.name}: use several keys, @map[$a, $b]`,
      );
    }
    placeCall(k, 'key');
    return expr(cx, k);
  });
  // From 0.22 a map's key is one tuple: `@m[a, b]`, `@m[(a, b)]` and `@m[$t]` are the same key.
  const keyTys =
    writtenKeyTys.length === 1 &&
    writtenKeyTys[0].k === 'tuple' &&
    !writtenKeyTys[0].names &&
    cx.dialect.has('tupleKeys')
      ? writtenKeyTys[0].elements
      : writtenKeyTys;
  const arity = m.keys ? keyTys.length : 0;
  if (wholeMap && !m.keys) return sym;
  if (m.keys) {
    const single = m.keys.length === 1 ? m.keys[0] : undefined;
    const parts =
      single?.kind === 'tuple' && !single.names && cx.dialect.has('tupleKeys') ? single.elements : m.keys;
    if (parts.length === arity) mapIntegerKeys(cx, m, parts);
  }
  if (sym.keyArity === undefined) {
    sym.keyArity = arity;
    sym.keys = keyTys;
  } else if (sym.keyArity === arity && sym.keys) {
    for (let i = 0; i < arity; i++) {
      const a = sym.keys[i] && kindOf(sym.keys[i]);
      const b = kindOf(keyTys[i]);
      if (sym.keys[i]?.k === 'unknown') sym.keys[i] = keyTys[i];
      else if (a && b && a !== b) {
        cx.report(
          m.keys![i] ?? m,
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
    cx.report(
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

/** A read of a map: reported at the end when nothing in the script assigns it. */
export function mapRead(cx: Checker, m: MapExpr): MapSymbol {
  const sym = mapRef(cx, m, false);
  if (!cx.mapAssigned.has(m.name) && !cx.macroFrame) cx.pendingMapReads.push({ name: m.name, span: m });
  return sym;
}

/**
 * A map inside a macro body: a parameter stands for the caller's map, whose keys and values are
 * the caller's business; any other map is unhygienic (bpftrace's macro_expansion.cpp).
 */
function macroMap(cx: Checker, m: MapExpr): MapSymbol {
  for (const k of m.keys ?? []) expr(cx, k);
  if (!cx.macroFrame!.maps.has(m.name))
    cx.report(
      m.nameSpan,
      'error',
      'macro',
      `Unhygienic access to map: ${m.name}. Maps must be passed into the macro as arguments.`,
    );
  return { name: m.name, refs: [], defs: [] };
}

/** `value`: the expression of a plain `=`, whose integer type map-integers.ts may know. */
export function mapValue(cx: Checker, m: MapExpr, ty: Ty, value?: Expr, span: Span = m): void {
  const sym = cx.maps.get(m.name);
  // A macro's map parameter: the value kind is the caller's map's business.
  if (!sym || cx.macroFrame || ty.k === 'unknown' || ty.k === 'none') return;
  if (ty.k === 'int' || ty.k === 'agg') mapIntegerValue(cx, m, value, span);
  if (!sym.value) {
    sym.value = ty;
    return;
  }
  valueMismatch(cx, m.nameSpan, 'map-value-mismatch', m.name, 'map', sym.value, ty, sym.defs[0]);
}

/** Variables and maps keep the kind of value they were first given. */
export function valueMismatch(
  cx: Checker,
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
  cx.report(
    span,
    'error',
    code,
    `Type mismatch for ${name}: trying to assign a value of type '${display(ty)}' when the ${what} already holds '${display(had)}'`,
    first ? { related: [{ ...first, message: `${name} first assigned here` }] } : {},
  );
}

export function mapDeclaration(cx: Checker, item: MapDecl): void {
  cx.needs({ start: item.start, end: item.start + 3 }, 'mapDeclarations', 'A map declaration');
  if (item.type.name && !MAP_DECL_TYPES.includes(item.type.name)) {
    const s = closest(item.type.name, MAP_DECL_TYPES);
    cx.report(
      item.type,
      'error',
      'unknown-map-type',
      `Invalid bpf map type: ${item.type.name}`,
      s ? cx.didYouMean(item.type, s) : {},
    );
  }
  mapRef(cx, item.map, true, true);
  cx.mapAssigned.add(item.map.name);
}

/** After the walk: reads of maps that no statement of the script assigns. */
export function undefinedMaps(cx: Checker): void {
  for (const r of cx.pendingMapReads) {
    if (!cx.mapAssigned.has(r.name))
      cx.report(r.span, 'error', 'undefined-map', `Undefined map: ${r.name} (it is never assigned)`);
  }
}
