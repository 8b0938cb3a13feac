// `fieldtrace state` as a child process: exit codes, stdout, stderr, on the seed's text output
// and on a session log.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { SessionTraceEvent } from '../../common/events';
import type { ListenerState } from '../../common/listeners-protocol';

const root = path.resolve(__dirname, '../..');
const seedDir = path.resolve(root, '../shared/seed');
const seed = path.join(
  seedDir,
  readdirSync(seedDir).find((f) => /^000_.*\.txt$/.test(f))!,
);

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'cli/main.ts'), ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('state prints the seed grouping as markdown', () => {
  const r = cli(['state', seed]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /### inet 0\.0\.0\.0:15001 — virtual outbound\n\nLayout: \*\*shared-dup\*\*/);
  for (const [port, fds] of [
    [15001, '31, 37, 38'],
    [15006, '32, 39, 40'],
    [15090, '21, 33, 35'],
    [15021, '22, 34, 36'],
  ] as const) {
    const section = r.stdout.split('### ').find((s) => s.includes(`:${port} `))!;
    const listed = [...section.matchAll(/^ {2}- pid 2062496 fd (\d+)/gm)].map((m) => m[1]).join(', ');
    assert.equal(listed, fds, `fds of ${port}`);
  }
  assert.match(r.stdout, /### inet 127\.0\.0\.1:15000 — Envoy admin\n\nLayout: \*\*single\*\*/);
});

test('state --format json prints the state and reads a session log and stdin', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'ft-state-'));
  try {
    const base = { timeNs: 1, pid: 42, comm: 'srv' };
    const events: SessionTraceEvent[] = [
      { type: 'socket', ...base, tid: 42, fd: 3, family: 'inet', socketType: 1 },
      {
        type: 'bind',
        ...base,
        tid: 42,
        fd: 3,
        address: { family: 'inet', address: '127.0.0.1', port: 8080 },
      },
      { type: 'listen', ...base, tid: 42, fd: 3, backlog: 64 },
      { type: 'accept', ...base, tid: 43, comm: 'w1', listenFd: 3, fd: 9 },
    ].map((event) => ({ sessionId: 's1', nodeId: 'local', event }) as SessionTraceEvent);
    const log = path.join(dir, 'trace.jsonl');
    writeFileSync(
      log,
      events.map((e) => JSON.stringify(e)).join('\n') +
        '\n{"sessionId":"s1","nodeId":"local","event":{"type":"bind"}}\n',
    );
    const r = cli(['state', '--format', 'json', log]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /trace\.jsonl: line 5: timeNs is not a number/);
    const state = JSON.parse(r.stdout) as ListenerState;
    assert.equal(state.events, 4);
    assert.equal(state.malformed, 1);
    const l = state.processes[0].listeners[0];
    assert.equal(l.key, 'inet 127.0.0.1:8080');
    assert.deepEqual(
      l.accepts.map((a) => [a.name, a.count]),
      [['w1', 1]],
    );
    const fromStdin = cli(['state', '--format=json', '-'], events.map((e) => JSON.stringify(e)).join('\n'));
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(
      (JSON.parse(fromStdin.stdout) as ListenerState).processes[0].listeners[0].key,
      'inet 127.0.0.1:8080',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('state: usage errors exit 2 with one line, unreadable logs exit 1', () => {
  const noLog = cli(['state']);
  assert.equal(noLog.code, 2);
  assert.equal(noLog.stderr.trim().split('\n').length, 1);
  const badFormat = cli(['state', '--format', 'xml', seed]);
  assert.equal(badFormat.code, 2);
  assert.match(badFormat.stderr, /--format must be markdown or json/);
  for (const [args, message] of [
    [
      ['--frobnicate', seed],
      /^fieldtrace state: unknown option '--frobnicate' \(see fieldtrace state --help\)\n$/,
    ],
    [['--format'], /^fieldtrace state: --format needs a value\n$/],
    [['-', '-'], /^fieldtrace state: stdin \(-\) can be read only once\n$/],
  ] as Array<[string[], RegExp]>) {
    const r = cli(['state', ...args], '');
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, message);
  }
  const help = cli(['state', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: fieldtrace state/);
  const notALog = cli(['state', path.join(root, 'package.json')]);
  assert.equal(notALog.code, 1);
  assert.match(notALog.stderr, /not a trace log/);
});
