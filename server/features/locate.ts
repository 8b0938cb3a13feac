// Finds what is under a position: the probe, the innermost expression, the symbol.
import type { Analysis, MapSymbol, ProbeInfo, VarSymbol } from '../analysis/analyzer';
import { walkExpr, type CallExpr, type Expr, type Span } from '../syntax/ast';
import { contains } from './util';

export function probeAt(analysis: Analysis, offset: number): ProbeInfo | undefined {
  for (const info of analysis.probes) {
    if (offset >= info.probe.start && offset <= info.probe.end) return info;
  }
  return undefined;
}

/** Innermost expression of the probe (or macro) around offset that contains it. */
export function exprAt(analysis: Analysis, offset: number): Expr | undefined {
  let found: Expr | undefined;
  const visit = (e: Expr) => {
    if (contains(e, offset)) found = e;
  };
  for (const item of analysis.program.items) {
    if (offset < item.start || offset > item.end) continue;
    if (item.kind === 'probe') {
      if (item.predicate) walkExpr(item.predicate, visit);
      walkExpr(item.body, visit);
    } else if (item.kind === 'macro') walkExpr(item.body, visit);
    else if (item.kind === 'mapdecl') walkExpr(item.map, visit);
  }
  return found;
}

/** Every expression of the item around offset (for searches by shape). */
export function exprsNear(analysis: Analysis, offset: number, visit: (e: Expr) => void): void {
  for (const item of analysis.program.items) {
    if (offset < item.start || offset > item.end + 1) continue;
    if (item.kind === 'probe') {
      if (item.predicate) walkExpr(item.predicate, visit);
      walkExpr(item.body, visit);
    } else if (item.kind === 'macro') walkExpr(item.body, visit);
  }
}

export type SymbolHit =
  { kind: 'map'; symbol: MapSymbol; span: Span } | { kind: 'var'; symbol: VarSymbol; span: Span };

export function symbolAt(analysis: Analysis, offset: number): SymbolHit | undefined {
  for (const m of analysis.maps.values()) {
    const span = m.refs.find((r) => contains(r, offset));
    if (span) return { kind: 'map', symbol: m, span };
  }
  for (const v of analysis.vars) {
    const span = v.refs.find((r) => contains(r, offset));
    if (span) return { kind: 'var', symbol: v, span };
  }
  return undefined;
}

export function uniqueSpans(spans: Span[]): Span[] {
  const seen = new Set<number>();
  return spans
    .filter((s) => (seen.has(s.start) ? false : (seen.add(s.start), true)))
    .sort((a, b) => a.start - b.start);
}

/** The innermost call whose argument list the offset is in. */
export function callAt(analysis: Analysis, offset: number): CallExpr | undefined {
  let best: CallExpr | undefined;
  exprsNear(analysis, offset, (e) => {
    if (e.kind !== 'call') return;
    const closed = analysis.text[e.argsSpan.end - 1] === ')';
    if (offset > e.argsSpan.start && (offset < e.argsSpan.end || (!closed && offset >= e.argsSpan.end))) {
      if (!best || e.argsSpan.start > best.argsSpan.start) best = e;
    }
  });
  return best;
}
