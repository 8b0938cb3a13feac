// Uses of object-like #defines. bpftrace (0.17 .. 0.25) expands them in its lexer, token for
// token, so a use is what its value says: a literal stays a literal, a string is a string, and a
// name in the value must be known where it is used. A define that reaches itself again cannot
// expand: its own name only (`#define X X`) is left as an unknown identifier, anything longer
// loops until the lexer gives up ("Macro recursion limit reached", or no message at all).
import type { Expr } from '../syntax/ast';
import type { Checker } from './checker';
import { INT, STRING, type Ty, UNKNOWN } from './types';

const IDENTIFIER = /[A-Za-z_]\w*/g;
const INTEGER_LITERAL = /^-?(?:0x[0-9a-f]+|\d+)$/i;
const STRING_LITERAL = /^"(?:[^"\\]|\\.)*"$/;

/** The value text of a #define, without the spaces bpftrace's lexer drops. */
function value(cx: Checker, name: string): string | undefined {
  const c = cx.constants.get(name);
  return c?.origin === '#define' ? c.value.trim() : undefined;
}

/** The #define's value is an integer or string literal of `kind`: it counts as that literal. */
export function literalDefine(cx: Checker, e: Expr, kind: 'int' | 'string'): boolean {
  if (e.kind !== 'ident') return false;
  const v = value(cx, e.name);
  return v !== undefined && (kind === 'int' ? INTEGER_LITERAL : STRING_LITERAL).test(v);
}

/** The type of a #define's use, after reporting what its expansion cannot resolve. */
export function defineUse(cx: Checker, e: Extract<Expr, { kind: 'ident' }>): Ty {
  const problem = expansionProblem(cx, e.name, [e.name]);
  if (problem) {
    cx.report(e, 'error', 'unknown-identifier', problem);
    return UNKNOWN;
  }
  const v = value(cx, e.name) ?? '';
  if (STRING_LITERAL.test(v)) return STRING;
  return INT;
}

function expansionProblem(cx: Checker, name: string, chain: string[]): string | undefined {
  const v = value(cx, name) ?? '';
  // Names inside string literals are text, not tokens.
  const tokens = v
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\b\d\w*/g, '0')
    .match(IDENTIFIER);
  for (const token of tokens ?? []) {
    if (chain.includes(token)) {
      if (chain.length === 1 && v === token)
        return `Unknown identifier: '${token}' (#define ${token} expands to itself)`;
      return `Macro recursion limit reached: #define ${chain.join(' -> ')} -> ${token} refers to itself`;
    }
    if (value(cx, token) !== undefined) {
      const inner = expansionProblem(cx, token, [...chain, token]);
      if (inner) return inner;
      continue;
    }
    if (!known(cx, token)) return `Unknown identifier: '${token}' (from #define ${chain[chain.length - 1]})`;
  }
  return undefined;
}

/** A name the expansion may hold: a constant, a builtin, or a word of bpftrace's syntax. */
function known(cx: Checker, token: string): boolean {
  return (
    cx.constants.has(token) ||
    cx.catalog.enumConstant(token) !== undefined ||
    cx.dialect.builtin(token) !== undefined ||
    cx.dialect.func(token) !== undefined ||
    /^(?:arg\d+|sizeof|struct|union|enum)$/.test(token)
  );
}
