// Completion and hover from a bound document's binary: after `uprobe:BIN:` the server offers the
// binary's functions (demangled labels, mangled names inserted, clang's `$_N` quoted) from the
// one symbol cache, and hovers a uprobe's mangled name with its demangled form. The document runs
// on this machine (its dialect comes from the local bpftrace), whose facts the server reads itself.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  type CompletionItem,
  type CompletionList,
  CompletionRequest,
  type Hover,
  HoverRequest,
  type TextEdit,
} from 'vscode-languageserver-protocol';
import { bpftraceAvailable } from '../helpers/users';
import { buildMiniEnvoy, type MiniEnvoyBinaries } from '../targets/mini-envoy';
import { positionOf, type ServerHarness, startServer } from './harness';

const canTrace = bpftraceAvailable() && process.getuid?.() === 0;
let cacheHome: string;
let binaries: MiniEnvoyBinaries;
before(async () => {
  cacheHome = mkdtempSync(path.join(os.tmpdir(), 'ft-binsym-cache-'));
  process.env.XDG_CACHE_HOME = cacheHome;
  binaries = await buildMiniEnvoy();
});
after(() => rmSync(cacheHome, { recursive: true, force: true }));

async function completeAt(
  h: ServerHarness,
  uri: string,
  text: string,
  after: string,
): Promise<CompletionItem[]> {
  const position = positionOf(text, after);
  position.character += after.length;
  // The binary's symbols arrive after the first analysis names it: ask until they are there.
  for (let i = 0; i < 100; i++) {
    const r = (await h.client.sendRequest(CompletionRequest.type, {
      textDocument: { uri },
      position,
    })) as CompletionList | CompletionItem[] | null;
    const items = r && !Array.isArray(r) ? r.items : (r ?? []);
    if (r && !Array.isArray(r) && items.length) return items;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return [];
}

describe('binary symbols in the language server', { skip: !canTrace && process.env.CI !== 'true' }, () => {
  it('completes uprobe functions of the bound binary and hovers their demangled names', async () => {
    const h = await startServer();
    try {
      await h.server.localFacts;
      const text = `uprobe:${binaries.clang}:Envoy::Event::DispatcherImpl::Disp\n{ @n = count(); }\nuprobe:${binaries.clang}:_ZN5Envoy5Event14DispatcherImpl3runENS0_10Dispatcher7RunTypeE { exit(); }\n`;
      const uri = h.open('bound.bt', text);
      const items = await completeAt(h, uri, text, 'Envoy::Event::DispatcherImpl::Disp');
      const labels = items.map((i) => i.label);
      const ctor = items.find((i) =>
        /^Envoy::Event::DispatcherImpl::DispatcherImpl\(std::__1::basic_string/.test(i.label),
      );
      assert.ok(ctor, labels.join('\n'));
      assert.match((ctor.textEdit as TextEdit).newText, /^_ZN5Envoy5Event14DispatcherImplC[12]E/);
      const lambda = items.find((i) => /::\$_\d+::operator\(\)/.test(i.label));
      assert.ok(lambda, labels.join('\n'));
      // Quoted: `$` is not part of a bare bpftrace identifier.
      assert.match(
        (lambda.textEdit as TextEdit).newText,
        /^"_ZZN5Envoy5Event14DispatcherImplC[12].*\$_\d+.*"$/,
      );
      // Every item starts with what was typed, and nothing of another class slips in.
      for (const l of labels) assert.ok(l.startsWith('Envoy::Event::DispatcherImpl::Disp'), l);

      const at = positionOf(text, '_ZN5Envoy5Event14DispatcherImpl3run');
      at.character += 4;
      const hover = (await h.client.sendRequest(HoverRequest.type, {
        textDocument: { uri },
        position: at,
      })) as Hover;
      const value =
        typeof hover.contents === 'object' && 'value' in hover.contents ? hover.contents.value : '';
      assert.match(
        value,
        /^```cpp\nEnvoy::Event::DispatcherImpl::run\(Envoy::Event::Dispatcher::RunType\)\n```$/m,
      );
    } finally {
      await h.close();
    }
  });
});
