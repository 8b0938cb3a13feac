// Where the formatter's output depends on the target dialect, and the style choices that differ
// from a particular bpftrace `--fmt`: all in this one file.
//
// The layout follows bpftrace's own printer (`bpftrace --fmt`, 0.25 onwards): 2-space indent,
// width 90, attach points one per line, `/predicate/` and `{` on lines of their own, `if`/`while`
// conditions bare only when they are a single primary (0.25's grammar takes an unparenthesised
// condition only then), non-primary operands of operators in parentheses, tuples and map keys
// packed as `(a,b)` and `@m[a,b]`, call arguments split over lines only past the width.
import type { Dialect } from '../analysis/dialects';

export interface DialectForms {
  /**
   * `if $x {` and `while $x {` for a primary condition: 0.25's grammar takes an unparenthesised
   * `if`/`while` condition when it is a unary expression (parser.yy `cond_expr`), and `--fmt`
   * writes one bare when it is a primitive (printer.cpp `visit(IfExpr)`, `visit(While)`:
   * `format(cond)` adds parentheses to all else). Older dialects require `if ($x) {`, which
   * `--fmt` would drop: the older form is kept there. `unroll (N)` keeps its parentheses in every
   * dialect, as `--fmt` writes it (printer.cpp `visit(Unroll)`).
   */
  bareConditions: boolean;
  /** `for ($x : @m) {` before 0.25; `--fmt` writes `for $x : @m {`, which 0.25's grammar added. */
  forParentheses: boolean;
}

export function dialectForms(dialect: Dialect): DialectForms {
  return {
    bareConditions: dialect.has('ifWithoutParens'),
    forParentheses: !dialect.has('forWithoutParens'),
  };
}

// Style choices where we do not follow every `--fmt` to the letter, and why.
export const STYLE = {
  /**
   * Pointer casts as `(struct sock *)`: what 0.25's `--fmt` writes and what bpftrace's own tools
   * hold; 0.26's printer writes `(struct sock*)`, a change its tools were never re-formatted with.
   */
  pointerCastSpace: true,
  /**
   * Operators are kept as written: `@x = @x + 1` stays, where `--fmt` would write `@x += 1`,
   * so that formatting never changes the syntax tree.
   */
  keepAssignOperator: true,
  /**
   * A comparison is left bare inside another operator only where it binds tighter; `--fmt` drops
   * the parentheses of `(a < b) + 1` too, which changes its meaning.
   */
  safeComparisons: true,
  /**
   * Comments are never dropped: a comment inside an expression (which `--fmt` loses) is moved
   * to its own line before the statement, and a comment ending a statement's line stays there.
   */
  keepEveryComment: true,
  /**
   * A `return` value is laid out within the line width; `--fmt` gives it a width of 1, which
   * breaks `return f(a, b);` over three lines.
   */
  returnWidth: true,
} as const;
