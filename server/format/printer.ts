// Lays out our syntax tree in bpftrace's `--fmt` style (see dialect-forms.ts for the rules and
// where we depart from them). Every expression is printed from the tree, never from the text,
// except what bpftrace itself keeps verbatim: attach points, strings and numbers as written,
// preprocessor lines and C definitions.
import {
  type Block,
  type CallExpr,
  type Expr,
  type MacroDef,
  type MapDecl,
  type Probe,
  type RangeExpr,
  type Stmt,
  type TypeRef,
  typeText,
} from '../syntax/ast';
import type { DialectForms } from './dialect-forms';
import { Layout, narrower } from './layout';
import type { GapItem, Trivia } from './trivia';

export interface PrintOptions {
  indent: number;
  width: number;
}

const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const PRECEDENCE = new Map<string, number>();
[
  ['||'],
  ['&&'],
  ['|'],
  ['^'],
  ['&'],
  ['==', '!='],
  ['<', '<=', '>', '>='],
  ['<<', '>>'],
  ['+', '-'],
  ['*', '/', '%'],
].forEach((ops, level) => ops.forEach((op) => PRECEDENCE.set(op, level)));

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
    default:
      // `-1` too is an operator applied to a number, as bpftrace's parser reads it: `(-1)`.
      return false;
  }
}

function isLiteral(e: Expr): boolean {
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

export class Printer {
  constructor(
    private readonly text: string,
    private readonly trivia: Trivia,
    private readonly forms: DialectForms,
    private readonly options: PrintOptions,
  ) {}

  // ---- top level ----

  probe(p: Probe): Layout {
    const width = this.options.width;
    const out = new Layout();
    p.attachPoints.forEach((ap, i) => {
      if (i === 0 && p.label) out.text(`${p.label.name} = `);
      out.text(ap.raw + (i < p.attachPoints.length - 1 ? ',' : '')).lineBreak();
    });
    // Comments among the attach points and the predicate go on lines of their own above `{`.
    const header = this.trivia.take(p.start, p.body.start);
    if (p.predicate) {
      out
        .text('/')
        .append(this.expr(p.predicate, width, true))
        .text('/')
        .lineBreak();
    }
    for (const c of header) for (const line of c.lines) out.commentLine(line);
    return this.braces(out, p.body, narrower(width, this.options.indent));
  }

  macro(m: MacroDef): Layout {
    const width = this.options.width;
    const params = this.list(m.params, ', ', narrower(width, 10), () => true);
    const out = new Layout().text(`macro ${m.name.name}(`).append(params).text(')');
    const header = this.trivia.take(m.start, m.body.start);
    for (const c of header) for (const line of c.lines) out.lineBreak().comment(line);
    out.lineBreak();
    return this.braces(out, m.body, narrower(width, this.options.indent));
  }

  mapDecl(d: MapDecl): Layout {
    const hoisted = this.hoist([[d.start, d.end]]);
    const args = d.args.map((a) => this.expr(a, this.options.width, true).render().trimEnd()).join(', ');
    const out = new Layout().text(`let ${d.map.name} = ${d.type.name}(${args});`);
    return hoisted ? hoisted.append(out) : out;
  }

  config(
    entries: Array<{ key: { name: string; start: number }; value?: Expr }>,
    start: number,
    end: number,
  ): Layout {
    const close = this.text.lastIndexOf('}', end);
    const body = new Layout();
    let pos = this.text.indexOf('{', start) + 1;
    const hoisted = this.hoist([[start, pos]]);
    entries.forEach((entry, i) => {
      const piece = this.leading(body, this.trivia.gap(pos, entry.key.start));
      const value = entry.value ? this.expr(entry.value, this.options.width, true) : new Layout();
      piece.text(`${entry.key.name} = `).append(value).text(';');
      if (i > 0) body.lineBreak();
      body.append(piece);
      pos = this.trailing(body, entry.value ? entry.value.end : entry.key.start, close);
    });
    this.closingComments(body, pos, close);
    const out = hoisted ?? new Layout();
    if (body.lineCount() === 0) return out.text('config = {}');
    return out.text('config = {').append(body, this.options.indent).text('}');
  }

  /** Lines kept as written (preprocessor lines, C definitions, imports), without trailing spaces. */
  verbatim(start: number, end: number): Layout {
    const out = new Layout();
    this.text
      .slice(start, end)
      .split('\n')
      .forEach((line, i) => {
        if (i > 0) out.lineBreak();
        out.text(line.replace(/\s+$/, ''));
      });
    return out;
  }

  // ---- comments and blank lines between statements ----

  /**
   * What comes before a node: blank lines and comment lines, as the start of the node's own
   * layout. A comment that ends the line of the node before stays on that line (in `out`).
   */
  leading(out: Layout, items: GapItem[]): Layout {
    const piece = new Layout();
    for (const item of items) {
      if (item.kind === 'blank') piece.lineBreak();
      else if (item.comment.trailing && out.lineCount() > 0 && piece.lineCount() === 0)
        for (const line of item.comment.lines) out.comment(line);
      else for (const line of item.comment.lines) piece.commentLine(line);
    }
    return piece;
  }

  /** A comment on the same line right after a node stays at the end of its line. */
  trailing(out: Layout, after: number, limit: number): number {
    let i = after;
    while (i < limit && (this.text[i] === ' ' || this.text[i] === '\t' || this.text[i] === ';')) i++;
    if (this.text.startsWith('//', i) || this.text.startsWith('/*', i)) {
      for (const c of this.trivia.take(i, i + 1)) for (const line of c.lines) out.comment(line);
    }
    return i;
  }

  /** Comments after the last statement of a block, before its `}`; blank lines there are dropped. */
  private closingComments(out: Layout, from: number, to: number): void {
    for (const item of this.trivia.gap(from, to)) {
      if (item.kind === 'blank') continue;
      if (item.comment.trailing && out.lineCount() > 0) {
        for (const line of item.comment.lines) out.comment(line);
        continue;
      }
      for (const line of item.comment.lines) {
        if (out.lineCount() > 0) out.lineBreak();
        out.comment(line);
      }
    }
  }

  /** Comments inside a node that has no place for them (in an expression): lines before the node. */
  private hoist(ranges: Array<[number, number]>): Layout | undefined {
    const taken = ranges.flatMap(([a, b]) => this.trivia.take(a, b));
    if (!taken.length) return undefined;
    const out = new Layout();
    for (const c of taken) for (const line of c.lines) out.commentLine(line);
    return out;
  }

  // ---- blocks and statements ----

  private braces(out: Layout, block: Block, width: number): Layout {
    const body = this.blockBody(block, width);
    return out.text('{').append(body, this.options.indent).text('}');
  }

  blockBody(block: Block, width: number): Layout {
    const out = new Layout();
    let pos = block.start + 1;
    const last = block.statements.length - 1;
    block.statements.forEach((s, i) => {
      const piece = this.leading(out, this.trivia.gap(pos, s.start));
      const valueAtEnd = i === last && s.kind === 'exprstmt' && !this.semicolonAfter(s.end, block.end);
      piece.append(this.stmt(s, width, valueAtEnd));
      if (i > 0) out.lineBreak();
      out.append(piece);
      pos = this.trailing(out, s.end, block.end);
    });
    const close = block.closed ? block.end - 1 : block.end;
    this.closingComments(out, pos, close);
    return out;
  }

  private semicolonAfter(offset: number, limit: number): boolean {
    let i = offset;
    while (i < limit) {
      const c = this.text[i];
      if (c === ';') return true;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') i++;
      else if (this.text.startsWith('//', i)) i = this.lineEnd(i);
      else if (this.text.startsWith('/*', i)) {
        const e = this.text.indexOf('*/', i + 2);
        i = e < 0 ? limit : e + 2;
      } else return false;
    }
    return false;
  }

  private lineEnd(i: number): number {
    const e = this.text.indexOf('\n', i);
    return e < 0 ? this.text.length : e;
  }

  stmt(s: Stmt, width: number, valueAtEnd = false): Layout {
    const hoisted = this.hoist(this.headerRanges(s));
    const body = this.stmtBody(s, width, valueAtEnd);
    return hoisted ? hoisted.append(body) : body;
  }

  /** The parts of a statement outside its blocks, where comments cannot stay. */
  private headerRanges(s: Stmt): Array<[number, number]> {
    switch (s.kind) {
      case 'if': {
        const ranges: Array<[number, number]> = [[s.start, s.then.start]];
        for (let it = s; it.else;) {
          const next = it.else;
          ranges.push([it.then.end, next.kind === 'if' ? next.then.start : next.start]);
          if (next.kind !== 'if') break;
          it = next;
        }
        return ranges;
      }
      case 'while':
      case 'for':
      case 'unroll':
        return [[s.start, s.body.start]];
      case 'blockstmt':
        return [];
      default:
        return [[s.start, s.end]];
    }
  }

  private stmtBody(s: Stmt, width: number, valueAtEnd: boolean): Layout {
    const indent = this.options.indent;
    switch (s.kind) {
      case 'exprstmt': {
        const out = this.expr(s.expr, width, true);
        return valueAtEnd ? out : out.text(';');
      }
      case 'assign': {
        const target = this.expr(s.target, width, true);
        const value = this.expr(s.value, narrower(width, target.width() + 2 + s.op.length), true);
        return target.text(` ${s.op} `).append(value).text(';');
      }
      case 'let': {
        const out = new Layout().text(`let ${s.variable.name}`);
        if (s.type) out.text(` : ${this.typeName(s.type)}`);
        if (s.value) out.text(' = ').append(this.expr(s.value, narrower(width, out.width() + 3), true));
        return out.text(';');
      }
      case 'return':
        if (!s.value) return new Layout().text('return;');
        // See STYLE.returnWidth: the line width, not `--fmt`'s width of 1.
        return new Layout()
          .text('return ')
          .append(this.expr(s.value, narrower(width, 7), false))
          .text(';');
      case 'break':
      case 'continue':
        return new Layout().text(`${s.kind};`);
      case 'if':
        return this.ifStmt(s, width);
      case 'while': {
        const out = new Layout()
          .text('while ')
          .append(this.condition(s.cond, narrower(width, 8), !this.forms.whileParentheses))
          .text(' ');
        return this.braces(out, s.body, narrower(width, indent));
      }
      case 'unroll': {
        const out = new Layout()
          .text('unroll (')
          .append(this.expr(s.count, narrower(width, 11), false))
          .text(') ');
        return this.braces(out, s.body, narrower(width, indent));
      }
      case 'for': {
        const iterable =
          s.iterable.kind === 'range' ? this.range(s.iterable, width) : this.expr(s.iterable, width, false);
        const open = this.forms.forParentheses ? '(' : '';
        const close = this.forms.forParentheses ? ')' : '';
        const out = new Layout().text(`for ${open}${s.variable.name} : `).append(iterable).text(`${close} `);
        return this.braces(out, s.body, narrower(width, indent));
      }
      case 'blockstmt':
        return this.blockValue(s.block, width);
    }
  }

  private ifStmt(s: Extract<Stmt, { kind: 'if' }>, width: number): Layout {
    const indent = this.options.indent;
    const out = new Layout();
    let it: Extract<Stmt, { kind: 'if' }> | undefined = s;
    let first = true;
    while (it) {
      out
        .text(first ? 'if ' : ' else if ')
        .append(this.condition(it.cond, narrower(width, 5), this.forms.bareConditions))
        .text(' ');
      this.braces(out, it.then, narrower(width, indent));
      first = false;
      const next: Block | Extract<Stmt, { kind: 'if' }> | undefined = it.else;
      if (!next) break;
      if (next.kind === 'if') {
        it = next;
        continue;
      }
      out.text(' else ');
      this.braces(out, next, narrower(width, indent));
      break;
    }
    return out;
  }

  /** An `if`/`while` condition: bare when a primary and the dialect allows it, else in parentheses. */
  private condition(e: Expr, width: number, bareAllowed: boolean): Layout {
    if (isPrimary(e)) {
      const inner = this.expr(e, width, false);
      return bareAllowed ? inner : new Layout().text('(').append(inner).text(')');
    }
    return this.expr(e, width, false);
  }

  private range(r: RangeExpr, width: number): Layout {
    const end = (e: Expr) =>
      isLiteral(e)
        ? this.expr(e, width, true)
        : new Layout()
            .text('(')
            .append(this.expr(e, narrower(width, 4), true))
            .text(')');
    return end(r.from).text('..').append(end(r.to));
  }

  /** A block as a value or a statement of its own: on one line when it fits. */
  private blockValue(block: Block, width: number): Layout {
    const body = this.blockBody(block, narrower(width, 2));
    if (body.lineCount() === 0) return new Layout().text('{}');
    if (body.lineCount() > 1 || body.width() > width) {
      return new Layout().text('{').append(body, this.options.indent).text('}');
    }
    return new Layout().text('{ ').append(body).text(' }');
  }

  // ---- expressions ----

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
        const keys =
          e.keys.length === 1
            ? this.flat(e.keys[0], true, depth)
            : e.keys.map((k) => this.flat(k, isComparison(k), depth)).join(',');
        return `${e.name}[${keys}]`;
      }
      case 'call':
        return `${e.callee.name}(${e.args.map((a) => this.flat(a, true, depth)).join(', ')})`;
      case 'binary': {
        const { entries, bare } = this.chain(e);
        return entries.map((x, i) => this.flat(x, bare(x, i), depth)).join(` ${e.op} `);
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
  private chain(e: Extract<Expr, { kind: 'binary' }>): {
    entries: Expr[];
    bare: (x: Expr, i: number) => boolean;
  } {
    const logical = e.op === '&&' || e.op === '||';
    const entries: Expr[] = [];
    const expand = (x: Expr) => {
      if (logical && x.kind === 'binary' && x.op === e.op) {
        expand(x.left);
        entries.push(x.right);
      } else entries.push(x);
    };
    expand(e.left);
    entries.push(e.right);
    const level = PRECEDENCE.get(e.op) ?? 0;
    const bare = (x: Expr, i: number) => {
      if (x.kind !== 'binary' || !COMPARISONS.has(x.op)) return false;
      const own = PRECEDENCE.get(x.op) ?? 0;
      return own > level || (own === level && i === 0);
    };
    return { entries, bare };
  }

  private binary(e: Extract<Expr, { kind: 'binary' }>, width: number): Layout {
    const { entries, bare } = this.chain(e);
    return this.list(entries, ` ${e.op} `, width, bare);
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
  private list(items: Expr[], sep: string, width: number, bare: (x: Expr, i: number) => boolean): Layout {
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

  private typeName(t: TypeRef): string {
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
