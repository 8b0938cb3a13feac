// The trace runner with real bpftrace, locally and over a real sshd: events, clean stop with
// the END maps, the session log, quoting of everything user-supplied, an SSH drop mid-trace,
// sudo -n for a non-root user, and escalation when SIGINT is ignored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SessionTraceEvent, TraceEvent } from '../../../common/events';
import { connectSsh, type SshConnection } from '../../../core/ssh/client';
import { probeNode } from '../../../core/nodes/probe';
import { LocalTransport, type NodeTransport } from '../../../core/nodes/transport';
import { TraceRun } from '../../../core/trace/runner';
import { diagnosticRange, TraceSession } from '../../../core/trace/session';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { bpftraceAvailable, canCreateUsers, createTestUser, type TestUser } from '../../helpers/users';
import { TraceStreamParser } from '../../../core/trace/stream-parser';

const haveBpftrace = bpftraceAvailable();

async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** bpftrace processes on this machine whose command line names `dir`. */
function localBpftraceIn(dir: string): string[] {
  return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes(dir) && /bpftrace/.test(l) && !l.includes('fieldtrace-wrapper'));
}

function readLog(file: string): SessionTraceEvent[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as SessionTraceEvent);
}

const TICKS =
  'interval:ms:20 { @ticks = count(); printf("tick %d\\n", nsecs); }\nEND { printf("bye\\n"); }\n';

describe('trace runner', { skip: !haveBpftrace }, () => {
  let logDir: string;
  let sshd: SshdHarness | undefined;
  const users: TestUser[] = [];
  before(async () => {
    if (sshdAvailable()) sshd = await startSshd();
    logDir = path.join(sshd?.dir ?? execFileSync('mktemp', ['-d']).toString().trim(), 'logs');
  });
  after(async () => {
    for (const u of users) u.remove();
    await sshd?.stop();
  });

  async function startSession(
    transport: NodeTransport,
    script: string,
    extra: Partial<Parameters<typeof TraceSession.start>[0]> = {},
  ) {
    const events: TraceEvent[] = [];
    const session = await TraceSession.start({
      transport,
      probe: await probeNode(transport),
      script,
      logDir,
      parser: new TraceStreamParser(),
      onEvent: (e) => events.push(e.event),
      ...extra,
    });
    return { session, events };
  }

  it('runs locally: attached, output, then SIGINT prints the END maps; the log holds every event', async () => {
    const { session, events } = await startSession(new LocalTransport(), TICKS);
    try {
      await waitFor(
        'three ticks',
        () => events.filter((e) => e.type === 'output' && e.text.startsWith('tick')).length >= 3,
      );
      const result = await session.stop();
      assert.equal(result.exitCode, 0);
      assert.deepEqual(result.remaining, []);
      assert.ok(
        events.some((e) => e.type === 'output' && e.text === 'bye\n'),
        'END ran',
      );
      assert.ok(
        events.some((e) => e.type === 'map' && e.name === '@ticks' && Number(e.value) >= 3),
        JSON.stringify(events.slice(-4)),
      );
      assert.equal(events.at(-1)?.type, 'ended');
      const log = readLog(session.logPath);
      assert.deepEqual(
        log.map((l) => l.event),
        events,
      );
      assert.ok(log.every((l) => l.sessionId === session.id && l.nodeId === 'local'));
      assert.ok(session.firstEventMs !== undefined && session.attachedMs !== undefined);
    } finally {
      if (session.running) await session.stop();
    }
  });

  it('runs with --unsafe when the script says // fieldtrace: unsafe or the setting asks; not otherwise', async () => {
    const body = 'BEGIN {\n  system("echo unsafe-ran");\n  exit();\n}\n';
    const run = async (script: string, unsafe?: boolean) => {
      const { session, events } = await startSession(new LocalTransport(), script, { unsafe });
      const end = await session.ended;
      return { end, session, ran: events.some((e) => e.type === 'output' && e.text.includes('unsafe-ran')) };
    };
    const pragma = await run(`// fieldtrace: unsafe\n${body}`);
    assert.equal(pragma.end.exitCode, 0, JSON.stringify(pragma.session.diagnostics));
    assert.ok(pragma.ran);
    const setting = await run(body, true);
    assert.equal(setting.end.exitCode, 0, JSON.stringify(setting.session.diagnostics));
    assert.ok(setting.ran);
    const safe = await run(body);
    assert.notEqual(safe.end.exitCode, 0);
    assert.ok(!safe.ran);
    assert.ok(
      safe.session.diagnostics.some((d) => /unsafe function being used in safe mode/.test(d.message)),
      JSON.stringify(safe.session.diagnostics),
    );
  });

  it('escalates to SIGKILL when SIGINT is ignored, and nothing remains', async () => {
    const fake = path.join(logDir, 'bpftrace');
    writeFileSync(
      fake,
      '#!/bin/sh\ntrap \'\' INT\necho \'{"type": "attached_probes", "data": {"probes": 1}}\'\nwhile :; do sleep 0.05; done\n',
    );
    chmodSync(fake, 0o755);
    const events: TraceEvent[] = [];
    const run = await TraceRun.start({
      transport: new LocalTransport(),
      script: 'BEGIN {}',
      privilege: 'root',
      bpftrace: fake,
      parser: new TraceStreamParser(),
      onEvent: (e) => events.push(e),
      stopTimeoutsMs: { interrupt: 300, kill: 3000 },
    });
    await waitFor('attached', () => events.some((e) => e.type === 'attached'));
    const end = await run.stop();
    assert.equal(end.exitCode, 137);
    assert.match(end.reason ?? '', /ignored SIGINT .* killed/);
    const tag = path.basename(run.dir);
    assert.deepEqual(
      readdirSync('/tmp').filter((f) => f.startsWith(tag)),
      [],
      'the wrapper removed its folder',
    );
  });

  describe('over SSH', { skip: !sshdAvailable() }, () => {
    const callbacks = { confirmUnknownHostKey: async () => false };

    for (const transfer of ['stdin', 'file'] as const)
      it(`quotes host aliases, file names, arguments and script text full of shell metacharacters (script by ${transfer})`, async () => {
        const h = sshd!;
        const alias = `ft;$(touch${'${IFS}'}pwned)|\`id\`&${transfer}`;
        h.addLoopbackHost(alias);
        const conn = await connectSsh(alias, { env: h.env, callbacks });
        // Relative: a command that ran would create it in the session's working folder (root's home).
        const marker = 'ft-pwned';
        const markers = ['/root', h.home, process.cwd(), '/'].map((d) => path.join(d, marker));
        // bpftrace 0.17 caps string literals at 64 bytes.
        const nasty = `'; touch ${marker};"$(touch ${marker})"\`id\`$HOME\\ *`;
        try {
          const script = `// ${nasty}\nBEGIN { printf("arg=%s|\\n", str($1)); printf("%s\\n", "${nasty.replace(/[\\"]/g, '\\$&')}"); exit(); }\n`;
          const { session, events } = await startSession(conn, script, {
            scriptName: `x'; touch ${marker} #$(id).bt`,
            positional: [nasty],
            transfer,
          });
          const end = await session.ended;
          assert.equal(end.exitCode, 0, JSON.stringify(events));
          const out = events.filter((e) => e.type === 'output').map((e) => (e as { text: string }).text);
          assert.ok(out.includes(`arg=${nasty}|\n`), out.join(''));
          assert.ok(out.includes(`${nasty}\n`), out.join(''));
          assert.equal(session.nodeId, alias);
          assert.deepEqual(
            markers.filter((m) => existsSync(m)),
            [],
            'no metacharacter was interpreted',
          );
        } finally {
          conn.close();
        }
      });

    it('maps a node compile error to the exact range of the script', async () => {
      const h = sshd!;
      const conn = await connectSsh(h.alias, { env: h.env, callbacks });
      try {
        const script = 'BEGIN {\n  printf("fine\\n");\n}\n\ninterval:s:1 {\n  @x[1] = nosuchvar + 1;\n}\n';
        const { session } = await startSession(conn, script, { scriptName: 'broken $(x).bt' });
        const end = await session.ended;
        assert.notEqual(end.exitCode, 0);
        const errors = session.diagnostics.filter((d) => d.severity === 'error');
        assert.equal(errors.length, 1, JSON.stringify(session.diagnostics));
        assert.ok(session.isScriptDiagnostic(errors[0]!), errors[0]!.file);
        assert.ok(!session.isScriptDiagnostic({ ...errors[0]!, file: '/usr/include/linux/in.h' }));
        const range = diagnosticRange(errors[0]!, script);
        assert.ok(range);
        const lines = script.split('\n');
        assert.equal(
          range.startLine,
          lines.findIndex((l) => l.includes('nosuchvar')),
        );
        const text = lines[range.startLine]!.slice(range.startColumn, range.endColumn);
        assert.equal(text, 'nosuchvar');
        assert.match(errors[0]!.message, /Unknown identifier: 'nosuchvar'/);
      } finally {
        conn.close();
      }
    });

    it('keeps every received event in the log when the SSH connection dies, and bpftrace is gone within 5 s', async () => {
      const h = sshd!;
      const conn: SshConnection = await connectSsh(h.alias, { env: h.env, callbacks });
      const { session, events } = await startSession(conn, TICKS);
      const dir = session.runDir ?? '';
      await waitFor('ten ticks', () => events.filter((e) => e.type === 'output').length >= 10);
      assert.equal(localBpftraceIn(dir).length, 1);
      conn.destroy();
      const end = await session.ended;
      assert.match(end.reason ?? '', /connection .* lost/);
      const deadline = Date.now() + 5000;
      while (localBpftraceIn(dir).length && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      assert.deepEqual(localBpftraceIn(dir), [], 'bpftrace of the session still running 5 s after the drop');
      const logged = readLog(session.logPath).map((l) => l.event);
      assert.deepEqual(logged, events, 'the log holds exactly what was received');
      assert.ok(logged.filter((e) => e.type === 'output').length >= 10);
    });

    it('runs through sudo -n for a user with passwordless sudo; refuses a user without it', async (t) => {
      if (!canCreateUsers()) return t.skip('cannot create users');
      const h = sshd!;
      const withSudo = createTestUser(h.dir, 'ftrs', { sudo: true });
      const without = createTestUser(h.dir, 'ftrn');
      users.push(withSudo, without);
      for (const u of [withSudo, without]) {
        h.authorize(u.name);
        h.addLoopbackHost(u.name, u.name);
      }
      const conn = await connectSsh(withSudo.name, { env: h.env, callbacks });
      try {
        const { session, events } = await startSession(conn, TICKS);
        await waitFor('ticks', () => events.filter((e) => e.type === 'output').length >= 2);
        const ps = execFileSync('ps', ['-eo', 'user=,args='], { encoding: 'utf8' });
        assert.match(
          ps,
          new RegExp(`^root\\s+\\S*bpftrace -f json .*${path.basename(session.runDir ?? '')}`, 'm'),
        );
        const result = await session.stop();
        assert.equal(result.exitCode, 0);
        assert.deepEqual(result.remaining, []);
        assert.ok(events.some((e) => e.type === 'map'));
      } finally {
        conn.close();
      }
      const plain = await connectSsh(without.name, { env: h.env, callbacks });
      try {
        await assert.rejects(startSession(plain, TICKS), /is not root and cannot use `sudo -n`/);
      } finally {
        plain.close();
      }
    });
  });
});
