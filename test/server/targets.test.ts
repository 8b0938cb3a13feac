// Where the dialect comes from: the setting, the local `bpftrace --version`, the latest; and a
// configuration change at run time.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { DidChangeConfigurationNotification } from 'vscode-languageserver-protocol';
import { ServerStatusRequest } from '../../common/protocol';
import { startServer } from './harness';

const local = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
const hasBpftrace = local.status === 0;

test(
  'without a setting the local bpftrace decides the dialect',
  { skip: !hasBpftrace && process.env.CI !== 'true' },
  async () => {
    const h = await startServer({});
    try {
      await h.server.localDetection;
      const status = await h.client.sendRequest(ServerStatusRequest.type);
      const m = /v?(\d+)\.(\d+)/.exec(local.stdout)!;
      assert.equal(status.versionSource, 'local');
      assert.equal(status.defaultBpftraceVersion, `${m[1]}.${m[2]}`);
      assert.equal(status.localBpftraceVersion, `${m[1]}.${m[2]}`);
      assert.equal(status.catalog?.origin, 'bundled');
    } finally {
      await h.close();
    }
  },
);

test('a configuration change re-checks open documents in the new dialect', async () => {
  const h = await startServer({ bpftraceVersion: '0.26' });
  try {
    const uri = h.open('cfg.bt', 'BEGIN { let $x = 1; print($x); }\n');
    assert.deepEqual((await h.diagnostics(uri)).diagnostics, []);
    await h.client.sendNotification(DidChangeConfigurationNotification.type, {
      settings: { fieldtrace: { bpftrace: { version: '0.17' } } },
    });
    const deadline = Date.now() + 5000;
    let codes: Array<string | number | undefined> = [];
    while (Date.now() < deadline && !codes.includes('dialect')) {
      codes = (await h.diagnostics(uri, deadline - Date.now())).diagnostics.map((d) => d.code);
    }
    assert.ok(codes.includes('dialect'), 'let is flagged once the target is 0.17');
    const status = await h.client.sendRequest(ServerStatusRequest.type);
    assert.equal(status.defaultBpftraceVersion, '0.17');
    assert.equal(status.versionSource, 'setting');
  } finally {
    await h.close();
  }
});

test('scoping follows the dialect: probe scope before 0.22, block scope after', async () => {
  const text = 'BEGIN { if (1) { $x = 1; } print($x); }\n';
  const old = await startServer({ bpftraceVersion: '0.21' });
  try {
    assert.deepEqual((await old.diagnostics(old.open('s.bt', text))).diagnostics, []);
  } finally {
    await old.close();
  }
  const latest = await startServer({ bpftraceVersion: '0.22' });
  try {
    const ds = (await latest.diagnostics(latest.open('s.bt', text))).diagnostics;
    assert.deepEqual(
      ds.map((d) => [d.code, d.range.start.character]),
      [['undefined-variable', text.lastIndexOf('$x')]],
    );
  } finally {
    await latest.close();
  }
});

test('a numeric version from another editor config is accepted', async () => {
  const h = await startServer({ bpftraceVersion: 0.17 as unknown as string });
  try {
    const status = await h.client.sendRequest(ServerStatusRequest.type);
    assert.equal(status.defaultBpftraceVersion, '0.17');
    assert.equal(status.versionSource, 'setting');
  } finally {
    await h.close();
  }
});
