// Lays out our syntax tree in bpftrace's `--fmt` style (see dialect-forms.ts for the rules and
// where we depart from them): top-level items, blocks, statements, and the comments and blank
// lines between them; expressions.ts lays out expressions. Kept as written, as bpftrace keeps
// them: attach points, strings and numbers, preprocessor lines and C definitions.
import type { Block, Expr, MacroDef, MapDecl, Probe, RangeExpr, Stmt } from '../syntax/ast';
import type { DialectForms } from './dialect-forms';
import { ExpressionPrinter, isLiteral, isPrimary, type PrintOptions } from './expressions';
import { Layout, narrower } from './layout';
import type { GapItem, Trivia } from './trivia';

export type { PrintOptions } from './expressions';

export class Printer {
  private readonly exprs: ExpressionPrinter;

  constructor(
    private readonly text: string,
    private readonly trivia: Trivia,
    private readonly forms: DialectForms,
    private readonly options: PrintOptions,
  ) {
    this.exprs = new ExpressionPrinter(text, options, (block, width) => this.blockValue(block, width));
  }

  private expr(e: Expr, width: number, bare: boolean): Layout {
    return this.exprs.expr(e, width, bare);
  }

  // ---- top level ----

  probe(p: Probe): Layout {
    const width = this.options.width;
    const out = new Layout();
    p.attachPoints.forEach((ap, i) => {
      // Joined as bpftrace reads it: no spaces inside (0.26 ends an attach point at a space).
      const name = ap.label ? ap.label.name + ap.label.sign : '';
      out.text(name + ap.raw + (i < p.attachPoints.length - 1 ? ',' : '')).lineBreak();
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
    const params = this.exprs.list(m.params, ', ', narrower(width, 10), () => true);
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
    let out: Layout | undefined;
    for (const [a, b] of ranges) {
      for (const c of this.trivia.take(a, b)) {
        out ??= new Layout();
        for (const line of c.lines) out.commentLine(line);
      }
    }
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
      const gap = this.trivia.gap(pos, s.start);
      // Without comments or blank lines before it, the statement's layout is the piece itself.
      const lead = gap.length ? this.leading(out, gap) : undefined;
      const valueAtEnd = i === last && s.kind === 'exprstmt' && !this.semicolonAfter(s.end, block.end);
      const stmt = this.stmt(s, width, valueAtEnd);
      const piece = lead ? lead.append(stmt) : stmt;
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
        if (s.type) out.text(` : ${this.exprs.typeName(s.type)}`);
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
          .append(this.condition(s.cond, narrower(width, 8), this.forms.bareConditions))
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
}
