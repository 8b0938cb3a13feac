// Completion: probe types and aliases, tracepoint categories and events, args fields with their
// C types, struct members after `->`/`.` on typed expressions, builtins, functions (snippets),
// maps and scratch variables in scope, keywords.
import {
  type CompletionItem,
  CompletionItemKind,
  InsertTextFormat,
  MarkupKind,
  type Range,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from '../analysis/analyzer';
import type { Catalog } from '../catalog/catalog';
import { CONFIG_KEYS, HARDWARE_EVENTS, SOFTWARE_EVENTS } from '../analysis/dialects';
import { display, structName } from '../analysis/types';
import type { FieldExpr } from '../syntax/ast';
import { binarySymbolCompletion } from './binary-symbols';
import type { FeatureServer } from './feature-server';
import { exprsNear, probeAt } from './locate';

const KEYWORDS = ['if', 'else', 'unroll', 'while', 'for', 'return', 'break', 'continue', 'let'];

export function registerCompletion(server: FeatureServer): void {
  server.connection.onCompletion((params) => {
    const doc = server.documents.get(params.textDocument.uri);
    const analysis = server.analysis(params.textDocument.uri);
    if (!doc || !analysis) return [];
    const offset = doc.offsetAt(params.position);
    const trigger = params.context?.triggerCharacter;
    if (trigger && !triggerMakesSense(analysis, offset, trigger)) return [];
    if (!inBody(analysis, offset)) {
      const lineStart = analysis.text.lastIndexOf('\n', offset - 1) + 1;
      const symbols = binarySymbolCompletion(
        analysis.text.slice(lineStart, offset),
        server.facts?.(params.textDocument.uri),
        (len) => ({ start: doc.positionAt(offset - len), end: doc.positionAt(offset) }),
      );
      if (symbols) return symbols;
    }
    return complete(doc, analysis, offset);
  });
}

/** A trigger character opens the list only where it starts something: `->`, `tracepoint:`, `@`. */
function triggerMakesSense(analysis: Analysis, offset: number, trigger: string): boolean {
  const before = analysis.text.slice(Math.max(0, offset - 2), offset);
  if (trigger === '>') return before === '->';
  if (trigger === ':') return !inBody(analysis, offset);
  if (trigger === '.') return /[\w)\]]\.$/.test(before) && !/\d\.$/.test(before);
  return true;
}

function inBody(analysis: Analysis, offset: number): boolean {
  for (const item of analysis.program.items) {
    if (item.kind === 'probe') {
      if (
        offset > item.body.start &&
        offset <= item.body.end &&
        (item.body.closed ? offset < item.body.end : true)
      )
        return true;
      if (item.predicateSpan && offset > item.predicateSpan.start) {
        // An unfinished predicate (no closing `/` yet) extends to the cursor.
        const span = item.predicateSpan;
        const closed = span.end - span.start > 1 && analysis.text[span.end - 1] === '/';
        if (offset < span.end || (!closed && offset <= span.end)) return true;
      }
      if (item.predicate && !item.predicateSpan && offset > item.predicate.start) return true;
    } else if (item.kind === 'macro' && offset > item.body.start && offset < item.body.end) return true;
  }
  return false;
}

export function complete(doc: TextDocument, analysis: Analysis, offset: number): CompletionItem[] {
  const text = analysis.text;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  const before = text.slice(lineStart, offset);
  const replace = (len: number): Range => ({
    start: doc.positionAt(offset - len),
    end: doc.positionAt(offset),
  });
  const config = analysis.program.config;
  if (config && offset > config.start && offset < config.end) {
    const key = /(\w*)$/.exec(before)![1];
    if (/=\s*\w*$/.test(before)) return [];
    return CONFIG_KEYS.map((k) => ({
      label: k,
      kind: CompletionItemKind.Property,
      detail: 'config key',
      textEdit: { range: replace(key.length), newText: `${k} = ` },
    }));
  }
  if (!inBody(analysis, offset)) return attachPointItems(analysis, before, replace);

  const structPrefix = /\b(struct|union)\s+(\w*)$/.exec(before);
  if (structPrefix) {
    const names = new Set(knownStructs(analysis.catalog));
    for (const d of analysis.program.cDefinitions) if (d.keyword !== 'enum' && d.name) names.add(d.name.name);
    return [...names].map((name) => ({
      label: name,
      kind: CompletionItemKind.Struct,
      detail: `${structPrefix[1]} ${name}`,
      textEdit: { range: replace(structPrefix[2].length), newText: name },
    }));
  }
  // Field access: the parser leaves a field node (possibly with an empty name) after `->`/`.`.
  const access = /(->|\.)\s*(\w*)$/.exec(before);
  if (access) {
    let field: FieldExpr | undefined;
    exprsNear(analysis, offset, (e) => {
      if (
        e.kind === 'field' &&
        e.opSpan.end <= offset &&
        e.opSpan.end >= offset - access[0].length &&
        (!field || e.start >= field.start)
      )
        field = e;
    });
    if (field) return memberItems(analysis, field, offset, replace(access[2].length));
    return [];
  }
  const word = /([$@]?\w*)$/.exec(before)![1];
  const range = replace(word.length);
  const items: CompletionItem[] = [];
  const dialect = analysis.dialect;
  const item = (
    label: string,
    kind: CompletionItemKind,
    detail: string,
    doc?: string,
    extra: Partial<CompletionItem> = {},
  ): CompletionItem => ({
    label,
    kind,
    detail,
    documentation: doc ? { kind: MarkupKind.Markdown, value: doc } : undefined,
    textEdit: { range, newText: label },
    ...extra,
  });
  if (!word.startsWith('@')) {
    for (const v of analysis.vars) {
      if (
        offset >= v.scope.start &&
        offset <= v.scope.end + 1 &&
        (!word.startsWith('$') || v.name.startsWith(word)) &&
        !items.some((i) => i.label === v.name)
      ) {
        items.push(item(v.name, CompletionItemKind.Variable, display(v.ty), 'Scratch variable'));
      }
    }
  }
  if (!word.startsWith('$')) {
    for (const m of analysis.maps.values()) {
      if (m.name === word) continue;
      items.push(
        item(
          m.name,
          CompletionItemKind.Variable,
          `map${m.keyArity ? `[${m.keys?.map(display).join(', ')}]` : ''}: ${m.value ? display(m.value) : '?'}`,
          'Map',
        ),
      );
    }
  }
  if (word.startsWith('$') || word.startsWith('@')) return items;
  const probe = probeAt(analysis, offset);
  for (const b of dialect.builtins()) {
    if (b.probes && probe && !probe.rows.every((r) => r && b.probes!.includes(r.name))) continue;
    items.push(item(b.name, CompletionItemKind.Variable, b.type, b.doc, { sortText: `1${b.name}` }));
  }
  for (const f of dialect.funcs()) {
    if (dialect.builtin(f.name)) continue; // kstack/ustack: offered once, as builtins
    const [min] = dialect.arity(f);
    items.push(
      item(
        f.name,
        CompletionItemKind.Function,
        f.signature,
        f.doc + (f.aggregate ? '\n\nAssign it directly to a map: `@m = ' + f.name + '(...)`.' : ''),
        {
          textEdit: {
            range,
            newText: f.snippet
              .replace(/;$/, min === 0 && !f.snippet.includes('$') ? '' : ';')
              .replace(/;;$/, ';'),
          },
          insertTextFormat: InsertTextFormat.Snippet,
          sortText: `2${f.name}`,
        },
      ),
    );
  }
  for (const k of KEYWORDS) {
    if (k === 'let' && !dialect.has('let')) continue;
    if (k === 'for' && !dialect.has('forMap')) continue;
    items.push(item(k, CompletionItemKind.Keyword, 'keyword', undefined, { sortText: `3${k}` }));
  }
  for (const [name, c] of analysis.constants)
    items.push(
      item(name, CompletionItemKind.Constant, `${c.value} (${c.origin})`, undefined, {
        sortText: `4${name}`,
      }),
    );
  return items;
}

const structNames = new WeakMap<Catalog, string[]>();

/**
 * Structs whose layout the catalog has, found from tracepoint field types and, transitively,
 * member types (the catalog has no list of its own). Computed once per catalog.
 */
function knownStructs(catalog: Catalog): string[] {
  let names = structNames.get(catalog);
  if (names) return names;
  const found = new Set<string>();
  const queue: string[] = [
    'task_struct',
    'sock',
    'sk_buff',
    'file',
    'path',
    'dentry',
    'inode',
    'sockaddr',
    'sockaddr_in',
    'sockaddr_in6',
  ];
  const visit = (type: string) => {
    for (const m of type.matchAll(/\b(?:struct|union)\s+(\w+)/g)) queue.push(m[1]);
  };
  for (const c of catalog.categories())
    for (const e of catalog.events(c)) for (const f of catalog.fields(c, e) ?? []) visit(f.type);
  while (queue.length) {
    const name = queue.pop()!;
    if (found.has(name)) continue;
    const members = catalog.struct(name);
    if (!members) continue;
    found.add(name);
    for (const m of members) visit(m.type);
  }
  names = [...found].sort();
  structNames.set(catalog, names);
  return names;
}

function memberItems(analysis: Analysis, field: FieldExpr, offset: number, range: Range): CompletionItem[] {
  const ty = analysis.types.get(field.object);
  if (!ty) return [];
  const mk = (name: string, type: string, doc: string): CompletionItem => ({
    label: name,
    kind: CompletionItemKind.Field,
    detail: type,
    documentation: { kind: MarkupKind.Markdown, value: doc },
    textEdit: { range, newText: name },
  });
  if (ty.k === 'args') {
    const info = probeAt(analysis, offset);
    if (!info) return [];
    const fields = analysis.argsFields(info) ?? [];
    const where =
      info.tracepoints.length === 1
        ? `tracepoint:${info.tracepoints[0].category}:${info.tracepoints[0].event}`
        : `${info.tracepoints.length} tracepoints`;
    return fields.map((f) => mk(f.name, f.type, `\`${f.type} ${f.name}\` — field of ${where}`));
  }
  if (ty.k === 'tuple') return ty.elements.map((e, i) => mk(String(i), display(e), `Tuple element ${i}`));
  const sname = structName(ty);
  if (!sname) return [];
  return (analysis.structMembers(sname) ?? []).map((m) =>
    mk(m.name, m.type, `\`${m.type} ${m.name}\` — member of \`struct ${sname}\``),
  );
}

function attachPointItems(
  analysis: Analysis,
  before: string,
  replace: (len: number) => Range,
): CompletionItem[] {
  const dialect = analysis.dialect;
  const catalog = analysis.catalog;
  const m = /([\w*$./+-]*(?::[\w*$./+\-"]*)*)$/.exec(before);
  const word = m ? m[1] : '';
  const parts = word.split(':');
  const last = parts[parts.length - 1];
  const range = replace(last.length);
  const simple = (label: string, kind: CompletionItemKind, detail?: string): CompletionItem => ({
    label,
    kind,
    detail,
    textEdit: { range, newText: label },
  });
  if (parts.length === 1) {
    const items: CompletionItem[] = [];
    for (const p of dialect.probes()) {
      const name = dialect.probeName(p);
      items.push({
        label: name,
        kind: CompletionItemKind.Module,
        detail: p.aliases.length ? `probe (alias ${p.aliases.join(', ')})` : 'probe',
        documentation: { kind: MarkupKind.Markdown, value: p.doc },
        textEdit: { range, newText: name === p.name ? p.snippet : p.snippet.replace(p.name, name) },
        insertTextFormat: InsertTextFormat.Snippet,
      });
      for (const a of p.aliases) {
        if (a === 'kfunc' || a === 'kretfunc') continue;
        items.push({
          label: a,
          kind: CompletionItemKind.Module,
          detail: `alias of ${name}`,
          textEdit: { range, newText: a },
        });
      }
    }
    if (dialect.has('config')) items.push(simple('config', CompletionItemKind.Keyword, 'config = { ... }'));
    if (dialect.has('macro')) items.push(simple('macro', CompletionItemKind.Keyword, 'macro name(...) { }'));
    return items;
  }
  const row = dialect.probe(parts[0]);
  if (!row) return [];
  if (row.name === 'tracepoint') {
    if (parts.length === 2) {
      return catalog.categories().map((c) => ({
        ...simple(c, CompletionItemKind.Folder, `${catalog.events(c).length} events`),
        command: { title: 'next', command: 'editor.action.triggerSuggest' },
        textEdit: { range, newText: c + ':' },
      }));
    }
    if (parts.length === 3) {
      return catalog.events(parts[1]).map((e) => {
        const fields = catalog.fields(parts[1], e) ?? [];
        return {
          ...simple(e, CompletionItemKind.Event, `tracepoint:${parts[1]}:${e}`),
          documentation: {
            kind: MarkupKind.Markdown,
            value: fields.length
              ? '```c\n' + fields.map((f) => `${f.type} ${f.name};`).join('\n') + '\n```'
              : 'no fields',
          },
        };
      });
    }
    return [];
  }
  if ((row.name === 'interval' || row.name === 'profile') && parts.length === 2) {
    return ['s', 'ms', 'us', 'hz'].map((u) => simple(u, CompletionItemKind.Unit, 'unit'));
  }
  if (row.name === 'software' && parts.length === 2)
    return SOFTWARE_EVENTS.map((e) => simple(e, CompletionItemKind.Event, 'software event'));
  if (row.name === 'hardware' && parts.length === 2)
    return HARDWARE_EVENTS.map((e) => simple(e, CompletionItemKind.Event, 'hardware event'));
  return [];
}
