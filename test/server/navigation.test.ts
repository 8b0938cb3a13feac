import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DefinitionRequest,
  DocumentHighlightKind,
  DocumentHighlightRequest,
  type Location,
  PrepareRenameRequest,
  ReferencesRequest,
  RenameRequest,
} from 'vscode-languageserver-protocol';
import { positionOf, startServer } from './harness';

const TEXT = `kprobe:vfs_read { @start[tid] = nsecs; $t = nsecs; }
kretprobe:vfs_read /@start[tid]/ {
  $t = nsecs - @start[tid];
  @lat = hist($t);
  delete(@start[tid]);
}
END { clear(@start); }
`;

test('definition and references of maps span probes; of scratch variables stay in their probe', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const uri = h.open('nav.bt', TEXT);
    const def = (await h.client.sendRequest(DefinitionRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@start[tid]);', 1),
    })) as Location[];
    assert.equal(def.length, 1);
    assert.deepEqual(def[0].range.start, positionOf(TEXT, '@start'));
    const refs = await h.client.sendRequest(ReferencesRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@start'),
      context: { includeDeclaration: true },
    });
    assert.equal(refs?.length, 5);
    const noDecl = await h.client.sendRequest(ReferencesRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@start'),
      context: { includeDeclaration: false },
    });
    assert.equal(noDecl?.length, 4);
    const varRefs = await h.client.sendRequest(ReferencesRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, 'hist($t', 5),
      context: { includeDeclaration: true },
    });
    assert.deepEqual(
      varRefs?.map((r) => r.range.start.line),
      [2, 3],
    );
    const varDef = (await h.client.sendRequest(DefinitionRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, 'hist($t', 5),
    })) as Location[];
    assert.equal(varDef[0].range.start.line, 2);
  } finally {
    await h.close();
  }
});

test('rename of a map and of a variable, with validation of the new name', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const uri = h.open('rename.bt', TEXT);
    const prepared = await h.client.sendRequest(PrepareRenameRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@lat', 2),
    });
    assert.deepEqual(prepared, {
      range: { start: positionOf(TEXT, '@lat'), end: positionOf(TEXT, '@lat', 4) },
      placeholder: '@lat',
    });
    const edit = await h.client.sendRequest(RenameRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@start'),
      newName: 'begin',
    });
    const changes = edit?.changes?.[uri] ?? [];
    assert.equal(changes.length, 5);
    assert.ok(changes.every((c) => c.newText === '@begin'));
    const varEdit = await h.client.sendRequest(RenameRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, 'hist($t', 5),
      newName: '$latency',
    });
    assert.equal(varEdit?.changes?.[uri].length, 2);
    await assert.rejects(
      h.client.sendRequest(RenameRequest.type, {
        textDocument: { uri },
        position: positionOf(TEXT, '@lat'),
        newName: '@9bad name',
      }),
      /not a valid map name/,
    );
    const nothing = await h.client.sendRequest(PrepareRenameRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, 'nsecs'),
    });
    assert.equal(nothing, null);
  } finally {
    await h.close();
  }
});

test('definition of a macro, of a script struct and of a declared map', async () => {
  const h = await startServer({ bpftraceVersion: '0.26' });
  try {
    const text = `struct pair { int a; int b; };
macro twice($x) { $x * 2 }
let @seen = lruhash(64);
BEGIN { $p = (struct pair *)0; @seen[1] = twice(3); print($p->a); }
`;
    const uri = h.open('defs.bt', text);
    const at = async (needle: string, offset = 1) =>
      (await h.client.sendRequest(DefinitionRequest.type, {
        textDocument: { uri },
        position: positionOf(text, needle, offset),
      })) as Location[] | null;
    assert.deepEqual((await at('twice(3)'))?.[0].range.start, positionOf(text, 'twice'));
    assert.deepEqual((await at('pair *'))?.[0].range.start, positionOf(text, 'pair'));
    assert.deepEqual((await at('@seen[1]'))?.[0].range.start, positionOf(text, '@seen'));
  } finally {
    await h.close();
  }
});

test('document highlights mark writes and reads of a map', async () => {
  const h = await startServer({ bpftraceVersion: '0.17' });
  try {
    const uri = h.open('hl.bt', TEXT);
    const highlights = await h.client.sendRequest(DocumentHighlightRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@lat'),
    });
    assert.deepEqual(
      highlights?.map((x) => [x.range.start.line, x.kind]),
      [[3, DocumentHighlightKind.Write]],
    );
    const start = await h.client.sendRequest(DocumentHighlightRequest.type, {
      textDocument: { uri },
      position: positionOf(TEXT, '@start'),
    });
    assert.equal(start?.length, 5);
    assert.equal(start?.filter((x) => x.kind === DocumentHighlightKind.Write).length, 1);
  } finally {
    await h.close();
  }
});
