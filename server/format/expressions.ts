// Expressions laid out in bpftrace's `--fmt` style: where parentheses go (every operand that is
// not a primary, a comparison bare only where it binds tighter), and how lists split over lines.
// Block expressions are laid out by the statement printer, which this one is given.
import { type Block, type CallExpr, type Expr, type TypeRef, typeText } from '../syntax/ast';
import { BINARY_PRECEDENCE } from '../syntax/parser';
import { Layout, narrower } from './layout';

export interface PrintOptions {
  indent: number;
  width: number;
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const PRECEDENCE = BINARY_PRECEDENCE;

/** Expressions printed without parentheses wherever they appear. */
export function isPrimary(e: Expr): boolean {
  switch (e.kind) {
    case 'int':
    case 'string':
    case 'ident':
    case 'var':
    case 'param':
    case 'map':
    case 'call':
    case 'field':
    case 'index':
    case 'sizeof':
    case 'offsetof':
      return true;
    // bpftrace's printer (printer.cpp is_primitive, 0.25 on): `comptime` of a primitive is one.
    case 'comptime':
      return isPrimary(e.operand);
    default:
      // `-1` too is an operator applied to a number, as bpftrace's parser reads it: `(-1)`.
      return false;
  }
}

export function isLiteral(e: Expr): boolean {
  return (
    e.kind === 'int' ||
    e.kind === 'string' ||
    (e.kind === 'ident' && (e.name === 'true' || e.name === 'false'))
  );
}

/** `- -1` must not become `--1`, nor `& &x` become `&&x`. */
function gluesTo(op: string, operand: string): boolean {
  const first = operand.charAt(0);
  return first === op.charAt(op.length - 1) && '-+&'.includes(first);
}

function isComparison(e: Expr): boolean {
  return e.kind === 'binary' && COMPARISONS.has(e.op);
}

export class ExpressionPrinter {
  constructor(
    private readonly text: string,
    private readonly options: PrintOptions,
    /** A block as a value (`{ ...; x }`), laid out by the statement printer. */
    private readonly blockValue: (block: Block, width: number) => Layout,
  ) {}

  /** An expression in a position where it needs parentheses unless bare (or a primary). */
  expr(e: Expr, width: number, bare: boolean): Layout {
    // Most expressions fit on their line with room to spare: their one-line text is what the
    // layout below would give, without building it. The margin covers the budgets the layout
    // takes off at each level beyond the characters it adds (map keys, ternaries, indexes).
    this.flatBlocked = false;
    this.flatDepth = 0;
    const line = this.flat(e, bare, 1);
    if (!this.flatBlocked && line.length + this.flatDepth * (2 * this.options.indent + 3) <= width) {
      return new Layout().text(line);
    }
    if (e.kind === 'blockexpr') {
      const inner = this.blockValue(e.block, bare ? width : narrower(width, 2));
      return bare ? inner : new Layout().text('(').append(inner).text(')');
    }
    const bareOk = this.bareOk(e, bare);
    const inner = this.value(e, bareOk ? width : narrower(width, 2));
    if (bareOk) return inner;
    return new Layout().text('(').append(inner).text(')');
  }

  private flatBlocked = false;
  private flatDepth = 0;

  /** Whether an expression stands without parentheses where `bare` says it may. */
  private bareOk(e: Expr, bare: boolean): boolean {
    return (bare && e.kind !== 'tuple') || isPrimary(e) || (e.kind === 'tuple' && e.names !== undefined);
  }

  /** The one-line form of expr(); sets flatBlocked when the expression holds a block. */
  private flat(e: Expr, bare: boolean, depth: number): string {
    if (depth > this.flatDepth) this.flatDepth = depth;
    if (e.kind === 'blockexpr') {
      this.flatBlocked = true;
      return '';
    }
    const inner = this.flatValue(e, depth + 1);
    return this.bareOk(e, bare) ? inner : `(${inner})`;
  }

  private flatValue(e: Expr, depth: number): string {
    switch (e.kind) {
      case 'int':
      case 'string':
      case 'error':
        return this.text.slice(e.start, e.end);
      case 'ident':
      case 'var':
      case 'param':
        return e.name;
      case 'map': {
        if (!e.keys) return e.name;
        if (e.keys.length === 1) return `${e.name}[${this.flat(e.keys[0], true, depth)}]`;
        let out = `${e.name}[`;
        for (let i = 0; i < e.keys.length; i++) {
          const k = e.keys[i];
          out += (i > 0 ? ',' : '') + this.flat(k, isComparison(k), depth);
        }
        return out + ']';
      }
      case 'call': {
        let out = `${e.callee.name}(`;
        for (let i = 0; i < e.args.length; i++)
          out += (i > 0 ? ', ' : '') + this.flat(e.args[i], true, depth);
        return out + ')';
      }
      case 'binary': {
        const entries = this.chain(e);
        const sep = ` ${e.op} `;
        let out = '';
        for (let i = 0; i < entries.length; i++) {
          const x = entries[i];
          out += (i > 0 ? sep : '') + this.flat(x, this.bareInChain(e, x, i), depth);
        }
        return out;
      }
      case 'unary': {
        const operand = this.flat(e.operand, false, depth);
        if (e.postfix) return operand + e.op;
        return gluesTo(e.op, operand) ? `${e.op}(${operand})` : e.op + operand;
      }
      case 'ternary': {
        const cond = this.flat(e.cond, false, depth);
        const otherwise = this.flat(e.else, false, depth);
        if (!e.then) return `${cond} ?: ${otherwise}`;
        return `${cond} ? ${this.flat(e.then, false, depth)} : ${otherwise}`;
      }
      case 'field':
        return this.flat(e.object, false, depth) + e.op + e.field.name;
      case 'index':
        return `${this.flat(e.object, false, depth)}[${this.flat(e.index, false, depth)}]`;
      case 'cast':
        return `(${this.typeName(e.type)})${this.flat(e.operand, false, depth)}`;
      case 'tuple': {
        if (e.names) {
          const names = e.names;
          return `(${e.elements.map((x, i) => `${names[i].name}=${this.flat(x, false, depth)}`).join(',')})`;
        }
        if (e.elements.length === 1) return this.flat(e.elements[0], false, depth) + ',';
        return e.elements.map((x) => this.flat(x, isComparison(x), depth)).join(',');
      }
      case 'sizeof':
        return `sizeof(${e.arg.kind === 'type' ? this.typeName(e.arg) : this.flat(e.arg, true, depth)})`;
      case 'offsetof':
        return `offsetof(${this.typeName(e.type)}, ${e.fields.map((f) => f.name).join('.')})`;
      case 'blockexpr':
        this.flatBlocked = true;
        return '';
      case 'comptime':
        return `comptime ${this.flat(e.operand, false, depth)}`;
      case 'type':
        return this.typeName(e);
    }
  }

  private value(e: Expr, width: number): Layout {
    const indent = this.options.indent;
    switch (e.kind) {
      case 'int':
      case 'string':
        return new Layout().text(this.text.slice(e.start, e.end));
      case 'ident':
      case 'var':
      case 'param':
        return new Layout().text(e.name);
      case 'map': {
        if (!e.keys) return new Layout().text(e.name);
        let key: Layout;
        if (e.keys.length >= 2) {
          key = this.list(e.keys, ',', narrower(narrower(width, indent), indent + 1), (k) => isComparison(k));
        } else if (e.keys.length === 1) {
          key = this.expr(e.keys[0], narrower(width, indent), true);
        } else {
          key = new Layout();
        }
        const out = new Layout().text(`${e.name}[`);
        if (e.name.length + key.width() + 2 > width) out.append(key, indent);
        else out.append(key);
        return out.text(']');
      }
      case 'call':
        return this.call(e, width);
      case 'binary':
        return this.binary(e, width);
      case 'unary': {
        if (e.postfix) return this.expr(e.operand, narrower(width, e.op.length), false).text(e.op);
        const operand = this.expr(e.operand, narrower(width, e.op.length), false);
        if (gluesTo(e.op, operand.render())) return new Layout().text(`${e.op}(`).append(operand).text(')');
        return new Layout().text(e.op).append(operand);
      }
      case 'ternary': {
        const cond = this.expr(e.cond, width, false);
        const otherwise = this.expr(e.else, narrower(width, 2), false);
        if (!e.then) {
          if (cond.width() + otherwise.width() + 4 > width)
            return cond.lineBreak().text('?: ').append(otherwise);
          return cond.text(' ?: ').append(otherwise);
        }
        const then = this.expr(e.then, narrower(width, 2), false);
        if (cond.width() + then.width() + otherwise.width() + 8 > width) {
          return cond.lineBreak().text('? ').append(then).lineBreak().text(': ').append(otherwise);
        }
        return cond.text(' ? ').append(then).text(' : ').append(otherwise);
      }
      case 'field': {
        const object = this.expr(e.object, narrower(width, e.field.name.length + e.op.length), false);
        return object.text(e.op).text(e.field.name);
      }
      case 'index': {
        const object = this.expr(e.object, narrower(width, 1), false);
        const index = this.expr(e.index, narrower(width, indent), false);
        if (object.width() + index.width() + 2 > width)
          return object.text('[').append(index, indent).text(']');
        return object.text('[').append(index).text(']');
      }
      case 'cast': {
        const head = new Layout().text(`(${this.typeName(e.type)})`);
        const operand = this.expr(e.operand, narrower(width, head.width()), false);
        return head.append(operand);
      }
      case 'tuple':
        return this.tuple(e, width);
      case 'sizeof': {
        const arg =
          e.arg.kind === 'type'
            ? new Layout().text(this.typeName(e.arg))
            : this.expr(e.arg, narrower(width, 8), true);
        return new Layout().text('sizeof(').append(arg).text(')');
      }
      case 'offsetof':
        return new Layout().text(
          `offsetof(${this.typeName(e.type)}, ${e.fields.map((f) => f.name).join('.')})`,
        );
      case 'blockexpr':
        return this.blockValue(e.block, width);
      case 'comptime':
        return new Layout().text('comptime ').append(this.expr(e.operand, narrower(width, 9), true));
      case 'type':
        return new Layout().text(this.typeName(e));
      case 'error':
        return new Layout().text(this.text.slice(e.start, e.end));
    }
  }

  private call(e: CallExpr, width: number): Layout {
    const name = e.callee.name;
    const args = this.list(e.args, ', ', narrower(width, name.length + 2), () => true);
    const out = new Layout().text(`${name}(`);
    if (args.width() > width) out.append(args, this.options.indent);
    else out.append(args);
    return out.text(')');
  }

  /**
   * The operands of a binary operator as one list: a left-nested chain of one logical operator
   * is flattened (a right-nested one keeps its parentheses, so that the tree stays the same). A
   * comparison stays bare only where it binds tighter than the operator around it.
   */
  private chain(e: Extract<Expr, { kind: 'binary' }>): Expr[] {
    if (e.op !== '&&' && e.op !== '||') return [e.left, e.right];
    const entries: Expr[] = [];
    const expand = (x: Expr) => {
      if (x.kind === 'binary' && x.op === e.op) {
        expand(x.left);
        entries.push(x.right);
      } else entries.push(x);
    };
    expand(e.left);
    entries.push(e.right);
    return entries;
  }

  /** Whether entry i of the chain of `e` stands without parentheses. */
  private bareInChain(e: Extract<Expr, { kind: 'binary' }>, x: Expr, i: number): boolean {
    if (x.kind !== 'binary' || !COMPARISONS.has(x.op)) return false;
    const level = PRECEDENCE.get(e.op) ?? 0;
    const own = PRECEDENCE.get(x.op) ?? 0;
    return own > level || (own === level && i === 0);
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, width: number): Layout {
    return this.list(this.chain(e), ` ${e.op} `, width, (x, i) => this.bareInChain(e, x, i));
  }

  private tuple(e: Extract<Expr, { kind: 'tuple' }>, width: number): Layout {
    const indent = this.options.indent;
    if (e.names) {
      const named = e.elements.map((x, i) => ({ name: e.names![i].name, x }));
      const parts = named.map((n, i) => {
        const w = narrower(narrower(width, indent + 1), i < named.length - 1 ? 1 : 0);
        const v = this.expr(n.x, narrower(w, n.name.length + 1), false);
        return new Layout().text(`${n.name}=`).append(v);
      });
      return this.wrapParens(this.join(parts, ',', narrower(narrower(width, indent), 1)));
    }
    if (e.elements.length === 0) return new Layout().text('');
    if (e.elements.length === 1) return this.expr(e.elements[0], narrower(width, 3), false).text(',');
    return this.list(e.elements, ',', narrower(narrower(width, indent), 1), (x) => isComparison(x));
  }

  private wrapParens(inner: Layout): Layout {
    if (inner.lineCount() > 1) return new Layout().text('(').append(inner, this.options.indent).text(')');
    return new Layout().text('(').append(inner).text(')');
  }

  /**
   * A separated list on one line when it fits, else split where `--fmt` splits: the breaks form
   * the smallest bit mask (bit i-1 = break before entry i) whose lines all fit.
   */
  list(items: Expr[], sep: string, width: number, bare: (x: Expr, i: number) => boolean): Layout {
    const parts = items.map((x, i) =>
      this.expr(x, i < items.length - 1 ? narrower(width, 1) : width, bare(x, i)),
    );
    return this.join(parts, sep, width);
  }

  private join(parts: Layout[], sep: string, width: number): Layout {
    const n = parts.length;
    for (let i = 0; i < n - 1; i++) parts[i].text(sep);
    const widths = parts.map((p) => p.width());
    const total = widths.reduce((a, b) => a + b, 0);
    const out = new Layout();
    if (total < width) {
      for (const p of parts) out.append(p);
      return out;
    }
    const breaks = smallestFittingBreaks(widths, width);
    parts.forEach((p, i) => {
      if (i > 0 && breaks[i]) out.lineBreak();
      out.append(p);
    });
    return out;
  }

  typeName(t: TypeRef): string {
    return typeText(t);
  }
}

/**
 * The break positions of the smallest mask that fits, decided from the highest bit down: a bit
 * stays 0 when the lines can still fit with every lower break taken. No fitting mask: no breaks.
 */
export function smallestFittingBreaks(widths: number[], max: number): boolean[] {
  const n = widths.length;
  const breaks = widths.map(() => false);
  const fits = (decidedDown: number): boolean => {
    // Breaks at positions < decidedDown are free: take them all (every line only gets shorter).
    let line = widths[0];
    for (let i = 1; i < n; i++) {
      if (i < decidedDown || breaks[i]) {
        if (line > max) return false;
        line = widths[i];
      } else line += widths[i];
    }
    return line <= max;
  };
  if (!fits(n)) return breaks;
  for (let i = n - 1; i >= 1; i--) {
    breaks[i] = false;
    if (!fits(i)) breaks[i] = true;
  }
  return breaks;
}
