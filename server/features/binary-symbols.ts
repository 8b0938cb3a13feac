// What a bound document's binaries hold, for completion and hover: uprobe/uretprobe function
// names from the binary's symbol table (the one symbol cache by build-id, through the target's
// facts), labelled demangled and inserted mangled (quoted where bpftrace needs it), and USDT
// probes from the binary's notes. Prefix lookups are binary searches over the table's sorted
// blobs, so a binary of 10^6 symbols answers a keystroke in well under a millisecond or two.
import {
  type CompletionItem,
  CompletionItemKind,
  type CompletionList,
  type Range,
} from 'vscode-languageserver';
import { uprobeFunctionName } from '../../core/probe/names';
import type { SymbolTable } from '../../core/symbols/table';
import type { Analysis } from '../analysis/analyzer';
import type { TargetFacts } from '../facts';
import { markdownText, terminalText } from '../../core/text/untrusted';

/** Items per answer; the list is marked incomplete so that each keystroke narrows on the server. */
const LIMIT = 200;

const UPROBE_PROVIDERS = new Set(['uprobe', 'uretprobe', 'u', 'ur']);
const USDT_PROVIDERS = new Set(['usdt', 'U']);

/**
 * Completion after `uprobe:BINARY:` (or `usdt:BINARY:`) on a line outside probe bodies;
 * undefined when the cursor is not there or the binary's symbols are not known (yet).
 */
export function binarySymbolCompletion(
  before: string,
  facts: TargetFacts | undefined,
  replace: (len: number) => Range,
): CompletionList | undefined {
  if (!facts) return undefined;
  const m = /(?:^|[\s,])(\w+):([^\s:,{"]+):("?)([^\s,{"]*)$/.exec(before);
  if (!m) return undefined;
  const [, provider, binary, quote, typed] = m;
  const isUprobe = UPROBE_PROVIDERS.has(provider);
  if (!isUprobe && !USDT_PROVIDERS.has(provider)) return undefined;
  const table = facts.binary(binary)?.table;
  if (!table) return undefined;
  const range = replace(quote.length + typed.length);
  if (!isUprobe) {
    return {
      isIncomplete: false,
      items: table.meta.usdt.map((probe) => ({
        label: probe,
        kind: CompletionItemKind.Event,
        detail: `USDT probe of ${binary}`,
        textEdit: { range, newText: probe },
      })),
    };
  }
  return { isIncomplete: true, items: functionItems(table, typed, range) };
}

function functionItems(table: SymbolTable, typed: string, range: Range): CompletionItem[] {
  const items: CompletionItem[] = [];
  const seen = new Set<string>();
  const add = (name: string, display: string) => {
    if (seen.has(name) || items.length >= LIMIT) return;
    seen.add(name);
    const mangled = display !== name;
    items.push({
      label: display,
      kind: CompletionItemKind.Function,
      detail: mangled ? name : undefined,
      // The client filters what it shows by this against the typed text (demangled or mangled).
      filterText: typed.startsWith('_Z') ? name : display,
      sortText: display,
      textEdit: { range, newText: uprobeFunctionName(name) },
    });
  };
  // What was typed is either the demangled text (`Envoy::Network::`) or a raw symbol (`_ZN5…`, `malloc`).
  for (const { name, display } of table.withDisplayPrefix(typed, LIMIT)) add(name, display);
  for (const name of table.withPrefix(typed, LIMIT)) add(name, table.displayOf(name) ?? name);
  return items;
}

/** Hover on a uprobe's function: its demangled name, or that the binary has no such symbol. */
export function binarySymbolHover(
  analysis: Analysis,
  offset: number,
  facts: TargetFacts | undefined,
): string | undefined {
  if (!facts) return undefined;
  for (const item of analysis.program.items) {
    if (item.kind !== 'probe') continue;
    for (const ap of item.attachPoints) {
      if (!UPROBE_PROVIDERS.has(ap.provider.name) || ap.parts.length < 2) continue;
      const fn = ap.parts[ap.parts.length - 1];
      if (offset < fn.start || offset > fn.end) continue;
      const binary = unquote(ap.parts[0].name);
      const table = facts.binary(binary)?.table;
      if (!table) return undefined;
      const name = unquote(fn.name);
      const display = table.displayOf(name);
      if (display === undefined)
        return name.includes('*')
          ? undefined
          : `${markdownText(name)} is not a function symbol of ${markdownText(binary)}`;
      if (display === name) return undefined;
      // In a code block nothing is markup but a fence: backticks of the (untrusted) name go.
      return `\`\`\`cpp\n${terminalText(display.replace(/`/g, "'"))}\n\`\`\`\nin ${markdownText(binary)}`;
    }
  }
  return undefined;
}

function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
}
