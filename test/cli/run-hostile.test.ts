// A traced process chooses its thread name and the names of the files it opens. Real bpftrace
// traces one that names itself with terminal escapes and opens a file whose name holds escapes
// and a newline: `fieldtrace run` (a user script's printf, and the listener trace's records)
// shows them as visible escapes, and the session log keeps the raw bytes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runFieldtrace } from '../helpers/cli';
import { hasRawControl } from '../helpers/fuzz';
import { bpftraceAvailable } from '../helpers/users';

// 15 bytes, the kernel's limit: clear the screen, set the window title, return to column 0.
const THREAD_NAME = '\x1b[2J\x1b]0;t\x07\rok';
const FILE_NAME = 'f\x1b[31mred\nforged line';

const TARGET = `
const fs = require('fs'), net = require('net'), path = require('path');
fs.writeFileSync('/proc/self/comm', process.argv[2]);
const file = path.join(process.argv[1], process.argv[3]);
console.log('ready');
setInterval(() => {
  fs.closeSync(fs.openSync(file, 'w'));
  const s = net.createServer().listen(0, '127.0.0.1', () => s.close());
}, 100);
`;

describe('fieldtrace run: hostile names from the traced process', { skip: !bpftraceAvailable() }, () => {
  let dir: string;
  let target: ChildProcess;
  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-hostile-run-'));
    target = spawn(process.execPath, ['-e', TARGET, dir, THREAD_NAME, FILE_NAME], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise((resolve) => target.stdout!.once('data', resolve));
  });
  after(() => {
    target?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  function rawLog(logs: string): string {
    const [log] = readdirSync(logs);
    return readFileSync(path.join(logs, log!), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.stringify(JSON.parse(l)))
      .join('\n');
  }

  it(
    "a user script's printf of comm and a file name: visible escapes on the terminal, raw bytes in the log",
    { timeout: 90_000 },
    async () => {
      const script = path.join(dir, 'open.bt');
      writeFileSync(
        script,
        'tracepoint:syscalls:sys_enter_openat /pid == $1/ { printf("open %s by %s\\n", str(args->filename), comm); }\n',
      );
      const logs = path.join(dir, 'logs-open');
      const r = await runFieldtrace(['run', '--log-dir', logs, script, '--', String(target.pid)], {
        bundled: false,
        interruptWhen: (out) => out.includes('forged line by '),
      });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!hasRawControl(r.stdout) && !hasRawControl(r.stderr), JSON.stringify(r.stdout.slice(0, 400)));
      // The script's own format decides its lines: the name's newline stays, its escapes do not.
      assert.match(r.stdout, /^open \S*f\\u001b\[31mred\nforged line by /m);
      assert.ok(r.stdout.includes('by \\u001b[2J\\u001b]0;t\\u0007\\u000dok'), r.stdout.slice(0, 400));
      const log = readFileSync(path.join(logs, readdirSync(logs)[0]!), 'utf8');
      assert.ok(log.includes('\\u001b[2J'), 'the log keeps the raw bytes (JSON-escaped)');
      assert.ok(rawLog(logs).length > 0);
    },
  );

  it(
    'the listener trace: the thread name decoded from hex is shown escaped',
    { timeout: 90_000 },
    async () => {
      const logs = path.join(dir, 'logs-listener');
      const r = await runFieldtrace(
        ['run', '--log-dir', logs, '--listener-trace', '--no-stacks', '--target', String(target.pid)],
        { bundled: false, interruptWhen: (out) => /listen\(fd/.test(out) },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!hasRawControl(r.stdout) && !hasRawControl(r.stderr), JSON.stringify(r.stdout.slice(0, 400)));
      assert.match(r.stdout, /^\\u001b\[2J\\u001b\]0;t\\u0007\\u000dok\[\d+\/\d+\] listen\(fd/m);
      const events = readFileSync(path.join(logs, readdirSync(logs)[0]!), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: { type: string; comm?: string } });
      assert.ok(
        events.some((e) => e.event.type === 'listen' && e.event.comm === THREAD_NAME),
        'raw in the log',
      );
    },
  );
});
