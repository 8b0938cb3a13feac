// Hover: probe documentation and tracepoint formats, args field types, builtin and function
// documentation, inferred types of variables and maps, struct member types, constant values.
import { type Hover, MarkupKind } from 'vscode-languageserver';
import type { Analysis } from '../analysis/analyzer';
import { display } from '../analysis/types';
import type { Span } from '../syntax/ast';
import { binarySymbolHover } from './binary-symbols';
import type { FeatureServer } from './feature-server';
import { exprAt, symbolAt } from './locate';
import { contains, toRange } from './util';

export function registerHover(server: FeatureServer): void {
  server.connection.onHover((params): Hover | null => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return null;
    const offset = doc.offsetAt(params.position);
    const found = hoverAt(analysis, offset);
    if (!found) return null;
    const symbol = binarySymbolHover(analysis, offset, server.facts?.(params.textDocument.uri));
    return {
      contents: {
        kind: MarkupKind.Markdown,
        value: symbol ? `${found.markdown}\n\n${symbol}` : found.markdown,
      },
      range: toRange(doc, found.span),
    };
  });
}

const code = (s: string) => '```bpftrace\n' + s + '\n```';

export function hoverAt(analysis: Analysis, offset: number): { markdown: string; span: Span } | undefined {
  const dialect = analysis.dialect;
  for (const info of analysis.probes) {
    for (const ap of info.probe.attachPoints) {
      if (!contains(ap, offset)) continue;
      const row = dialect.probe(ap.provider.name);
      if (!row) return undefined;
      let md = `${code(ap.raw)}\n${row.doc}`;
      if (row.name === 'tracepoint' && info.tracepoints.length) {
        const tp = info.tracepoints[0];
        const fields = analysis.catalog.fields(tp.category, tp.event) ?? [];
        md +=
          `\n\n\`args\` of \`${tp.category}:${tp.event}\`${info.tracepoints.length > 1 ? ` (and ${info.tracepoints.length - 1} more)` : ''}:\n\n` +
          '```c\n' +
          fields.map((f) => `${f.type} ${f.name};`).join('\n') +
          '\n```';
      }
      return { markdown: md, span: ap };
    }
  }
  const sym = symbolAt(analysis, offset);
  if (sym) {
    if (sym.kind === 'var')
      return {
        markdown: code(`${sym.symbol.name}: ${display(sym.symbol.ty)}`) + '\nScratch variable',
        span: sym.span,
      };
    const m = sym.symbol;
    const keys = m.keyArity ? `[${(m.keys ?? []).map(display).join(', ')}]` : '';
    return {
      markdown:
        code(`${m.name}${keys}: ${m.value ? display(m.value) : 'unknown'}`) +
        `\nMap, assigned ${m.defs.length} time${m.defs.length === 1 ? '' : 's'}`,
      span: sym.span,
    };
  }
  const e = exprAt(analysis, offset);
  if (!e) return undefined;
  if (e.kind === 'field' && contains(e.field, offset)) {
    const ty = analysis.types.get(e);
    const objTy = analysis.types.get(e.object);
    if (objTy?.k === 'args') {
      const info = analysis.probes.find((p) => offset >= p.probe.start && offset <= p.probe.end);
      const f = info && analysis.argsFields(info)?.find((x) => x.name === e.field.name);
      if (f)
        return {
          markdown:
            '```c\n' +
            `${f.type} ${f.name}` +
            '\n```\nTracepoint field' +
            (info.tracepoints.length === 1
              ? ` of \`${info.tracepoints[0].category}:${info.tracepoints[0].event}\``
              : ''),
          span: e.field,
        };
    }
    if (ty && ty.k !== 'unknown')
      return {
        markdown:
          '```c\n' +
          `${display(ty)} ${e.field.name}` +
          '\n```\nMember of `' +
          (objTy ? display(objTy) : '?') +
          '`',
        span: e.field,
      };
    return undefined;
  }
  if (e.kind === 'call' && contains(e.callee, offset)) {
    const row = dialect.func(e.callee.name);
    if (row) return { markdown: code(row.signature) + `\n${row.doc}`, span: e.callee };
    const b = dialect.builtin(e.callee.name);
    if (b) return { markdown: code(`${b.name}: ${b.type}`) + `\n${b.doc}`, span: e.callee };
    return undefined;
  }
  if (e.kind === 'ident' && e.name === 'args') {
    const info = analysis.probes.find((p) => offset >= p.probe.start && offset <= p.probe.end);
    const fields = info && analysis.argsFields(info);
    if (info && fields) {
      const tp = info.tracepoints[0];
      const struct = `struct _tracepoint_${tp.category}_${tp.event}`;
      const access = dialect.has('argsDot') ? 'a struct: `args.field`' : 'a pointer: `args->field`';
      return {
        markdown:
          '```c\n' +
          `${struct} {\n${fields.map((f) => `  ${f.type} ${f.name};`).join('\n')}\n}` +
          `\n\`\`\`\nIn bpftrace ${dialect.name} \`args\` is ${access}.`,
        span: e,
      };
    }
  }
  if (e.kind === 'ident') {
    const b = dialect.builtin(e.name);
    if (b)
      return {
        markdown:
          code(`${b.name}: ${b.type}`) +
          `\n${b.doc}` +
          (b.probes ? `\n\nAvailable in ${b.probes.join(', ')} probes.` : ''),
        span: e,
      };
    const c = analysis.constants.get(e.name);
    if (c) return { markdown: code(`${e.name} = ${c.value}`) + `\nFrom ${c.origin}`, span: e };
    const k = analysis.catalog.enumConstant(e.name);
    if (k !== undefined)
      return { markdown: code(`${e.name} = ${k}`) + '\nKernel enum constant (BTF)', span: e };
  }
  if (e.kind === 'cast') {
    const ty = analysis.types.get(e);
    if (ty && offset < e.operand.start) {
      const members =
        (e.type.tag === 'struct' || e.type.tag === 'union') && analysis.structMembers(e.type.name);
      const layout = members
        ? '\n```c\n' +
          `${e.type.tag} ${e.type.name} {\n${members.map((m) => `  ${m.type} ${m.name};`).join('\n')}\n}` +
          '\n```'
        : '';
      return { markdown: code(display(ty)) + layout, span: e.type };
    }
  }
  return undefined;
}
