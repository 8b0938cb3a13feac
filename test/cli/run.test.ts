// `fieldtrace run` as a child process: usage errors, a local run with arguments, Ctrl+C
// (SIGINT) printing the maps, a script error in compiler format, and a run over real SSH.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bpftraceAvailable } from '../helpers/users';
import { type SshdHarness, sshdAvailable, startSshd } from '../helpers/sshd';
import { startMiniEnvoy } from '../targets/mini-envoy';
import { type CliRun, runFieldtrace } from '../helpers/cli';

const ROOT = path.resolve(__dirname, '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const haveBpftrace = bpftraceAvailable();

type Run = CliRun;

function fieldtrace(
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; interruptWhen?: (stdout: string) => boolean },
): Promise<Run> {
  return runFieldtrace(['run', ...args], opts);
}

describe('fieldtrace run', { skip: !haveBpftrace }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-cli-run-'));
    // The bundled CLI is what users run; build it when a local run has none (npm test builds first).
    if (!existsSync(CLI) || process.env.CI !== 'true')
      execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'ignore' });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2 with a one-line reason on usage errors', async () => {
    for (const args of [
      [],
      ['--bogus', 'x.bt'],
      ['a.bt', 'b.bt'],
      ['--listener-trace', 'x.bt'],
      ['--no-stacks', 'x.bt'],
      ['--listener-trace', '--target', 'container:x'],
      ['--node'],
      ['-x'],
      ['--listener-trace', '--target', 'o"brien'],
    ]) {
      const r = await fieldtrace(args, { cwd: dir });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /^fieldtrace run: /);
    }
  });

  it('runs a script on this machine with positional arguments and writes the session log', async () => {
    const script = path.join(dir, 'hello.bt');
    writeFileSync(script, 'BEGIN { printf("hello %s\\n", str($1)); @n = count(); exit(); }\n');
    const logs = path.join(dir, 'logs-hello');
    const r = await fieldtrace(['--log-dir', logs, script, '--', "it's $(me)"], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^hello it's \$\(me\)$/m);
    assert.match(r.stdout, /@n: 1/);
    const [log] = readdirSync(logs);
    assert.ok(log?.endsWith('.jsonl'));
    const lines = readFileSync(path.join(logs, log), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.at(-1).event.type, 'ended');
  });

  it('arguments after -- stay positional: -c and --unsafe never reach bpftrace as options, -h is no help', async () => {
    const script = path.join(dir, 'args.bt');
    writeFileSync(
      script,
      'BEGIN { printf("args %s|%s|%s|%s\\n", str($1), str($2), str($3), str($4)); exit(); }\n',
    );
    const marker = path.join(dir, 'pwned');
    const r = await fieldtrace(
      ['--log-dir', path.join(dir, 'logs-args'), script, '--', '-c', `touch ${marker}`, '--unsafe', '-h'],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      new RegExp(`^args -c\\|touch ${marker.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}\\|--unsafe\\|-h$`, 'm'),
    );
    assert.ok(!existsSync(marker), 'bpftrace did not run -c');
  });

  it('Ctrl+C stops cleanly: END runs, maps print, exit 0', async () => {
    const script = path.join(dir, 'ticks.bt');
    writeFileSync(
      script,
      'interval:ms:20 { @ticks = count(); printf("tick\\n"); }\nEND { printf("bye\\n"); }\n',
    );
    const r = await fieldtrace(['--log-dir', dir, script], {
      cwd: dir,
      interruptWhen: (out) => out.split('tick').length > 3,
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^bye$/m);
    assert.match(r.stdout, /@ticks: \d+/);
    assert.match(r.stderr, /stopping/);
  });

  it('prints script errors in compiler format with the right line and exits 1', async () => {
    const script = path.join(dir, 'broken.bt');
    writeFileSync(script, 'BEGIN {\n  printf("ok\\n");\n  @x = nosuchfunction(1);\n}\n');
    const r = await fieldtrace(['--log-dir', dir, 'broken.bt'], { cwd: dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^broken\.bt:3:\d+: error: .*nosuchfunction/m);
  });

  for (const mode of ['full', 'none', 'folded'] as const)
    it(`--listener-trace --target PID${{ full: '', none: ' --no-stacks', folded: ' --fold-stacks' }[mode]} prints the accepts of a running mini-Envoy live`, async (t) => {
      const envoy = await startMiniEnvoy({ concurrency: 2 });
      t.after(() => envoy.stop());
      // Connections made before the probes attach are not seen: keep connecting until one is.
      let connecting = true;
      const load = (async () => {
        while (connecting) {
          await new Promise<void>((resolve) => {
            const s = net.connect(envoy.ports[0] as number, '127.0.0.1', () => s.end());
            s.once('close', () => resolve());
            s.once('error', () => resolve());
          });
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const r = await fieldtrace(
        [
          '--listener-trace',
          '--target',
          String(envoy.pid),
          ...(mode === 'none' ? ['--no-stacks'] : mode === 'folded' ? ['--fold-stacks'] : []),
          '--log-dir',
          dir,
        ],
        {
          cwd: dir,
          interruptWhen: (out) => /wrk:worker_\d\[\d+\/\d+\] accept\(fd \d+\) = \d+/.test(out),
        },
      );
      connecting = false;
      await load;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^wrk:worker_\\d\\[${envoy.pid}/\\d+\\] accept\\(fd`, 'm'));
      // Attached to a running process: its listeners come from a snapshot first.
      assert.match(
        r.stdout,
        new RegExp(
          `^snapshot of pid ${envoy.pid} at the start: (?:.*, )?fd \\d+ 127\\.0\\.0\\.1:${envoy.ports[0]}`,
          'm',
        ),
      );
      if (mode === 'full') assert.match(r.stdout, /Envoy::/, 'stacks with Envoy frames');
      else if (mode === 'folded') {
        // One line per stack, no frame: the accept's line is followed by its folded stack.
        assert.match(r.stdout, /\] accept\(fd \d+\) = \d+.*\n {8}stack: \d+ frames\n/);
        assert.doesNotMatch(r.stdout, /Envoy::/, 'no frame printed');
      } else assert.doesNotMatch(r.stdout, /Envoy::|\+\d+$/m, 'no stacks');
    });

  describe('over SSH', { skip: !sshdAvailable() }, () => {
    let sshd: SshdHarness;
    before(async () => {
      sshd = await startSshd();
    });
    after(async () => sshd?.stop());

    it('runs on an SSH config host, and refuses an unknown host key', async () => {
      const env = { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: '' };
      const script = path.join(dir, 'remote.bt');
      writeFileSync(script, 'BEGIN { printf("on the node\\n"); exit(); }\n');
      const ok = await fieldtrace(['--node', sshd.alias, '--log-dir', dir, script], { cwd: dir, env });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^on the node$/m);
      sshd.clearKnownHosts();
      try {
        const refused = await fieldtrace(['--node', sshd.alias, script], { cwd: dir, env });
        assert.equal(refused.code, 1);
        assert.ok(refused.stderr.includes(sshd.hostKeyFingerprint), refused.stderr);
        assert.match(refused.stderr, /Host key verification failed/);
      } finally {
        sshd.trustHostKey();
      }
    });
  });
});
