// Exact lines from DWARF against the mini-Envoy target (g++ -O0, clang++/libc++ -O0, clang++ -O2),
// and a live bpftrace trace of the clang builds whose real `$_N` lambdas, `__invoke` thunks and
// `std::__1::` frames are resolved through the index and through DWARF.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { demangle } from '../../../core/stacks/demangle';
import { connectSsh } from '../../../core/ssh/client';
import { transportRunner } from '../../../core/nodes/commands';
import { DwarfResolver } from '../../../core/stacks/dwarf';
import { extractStacks, type Frame } from '../../../core/stacks/frames';
import type { Resolution } from '../../../core/stacks/resolution';
import { Resolver } from '../../../core/stacks/resolver';
import { SourceIndex } from '../../../core/stacks/sourceIndex';
import { listenerTraceScript } from '../../../core/trace/listener-script';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { buildMiniEnvoy, type MiniEnvoyBinaries, startMiniEnvoy } from '../../targets/mini-envoy';

const MINI = path.resolve(__dirname, '../../targets/mini-envoy');
const SETUP =
  'Envoy::Network::TcpListenerImpl::setupServerSocket(Envoy::Event::DispatcherImpl&, Envoy::Network::Socket&)';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ft-dwarf-'));
// A checkout somewhere else than the build directory: DWARF paths must be mapped onto it.
const checkout = path.join(tmp, 'checkout');
let bins: MiniEnvoyBinaries;

before(async () => {
  bins = await buildMiniEnvoy();
  cpSync(MINI, checkout, { recursive: true });
});
after(() => rmSync(tmp, { recursive: true, force: true }));

function lineOf(rel: string, needle: string): number {
  const text = readFileSync(path.join(MINI, rel), 'utf8');
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${rel} lacks ${needle}`);
  return text.slice(0, at).split('\n').length;
}

const LISTEN_LINE = () =>
  lineOf('source/common/network/tcp_listener_impl.cc', 'socket.ioHandle().listen(backlog_size_)');

/** Offset of the return address of the last call made on `line` of `fn`, read from objdump's line-annotated disassembly. */
function returnOffsetOnLine(binary: string, fn: string, line: number): number {
  const out = execFileSync(
    'objdump',
    ['-d', '-l', '-C', '--no-show-raw-insn', `--disassemble=${fn}`, binary],
    {
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    },
  );
  const start = parseInt(new RegExp(`^([0-9a-f]+) <`, 'm').exec(out)![1], 16);
  let current = 0;
  const insns: Array<{ addr: number; line: number; text: string }> = [];
  for (const l of out.split('\n')) {
    const loc = /:(\d+)(?: \(discriminator \d+\))?$/.exec(l);
    if (loc && l.startsWith('/')) current = Number(loc[1]);
    const ins = /^\s+([0-9a-f]+):\t(.*)$/.exec(l);
    if (ins) insns.push({ addr: parseInt(ins[1], 16), line: current, text: ins[2] });
  }
  const calls = insns.map((x, i) => ({ ...x, i })).filter((x) => x.line === line && /^call/.test(x.text));
  assert.ok(calls.length, `no call on line ${line} in ${fn}`);
  const last = calls[calls.length - 1];
  return insns[last.i + 1].addr - start;
}

describe('DWARF lines on the mini-Envoy', () => {
  for (const variant of ['gcc', 'clang', 'clangO2'] as const) {
    it(`${variant}: a caller frame at setupServerSocket+N opens the line of its listen() call`, async () => {
      const binary = bins[variant];
      const line = LISTEN_LINE();
      const off = returnOffsetOnLine(binary, SETUP, line);
      const dwarf = new DwarfResolver(binary, [checkout]);
      const frames: Frame[] = [
        { raw: 'listen+7', symbol: 'listen', offset: 7, mangled: false },
        { raw: `${SETUP}+${off}`, symbol: SETUP, offset: off, mangled: false },
      ];
      const [inner, r] = await dwarf.resolveStack(frames);
      assert.equal(inner, undefined, 'libc frames are not in the binary');
      assert.equal(r?.resolvedBy, 'dwarf');
      assert.equal(r?.location?.file, path.join(checkout, 'source/common/network/tcp_listener_impl.cc'));
      assert.equal(r?.location?.line, line);
      // Without the -1 the return address may already belong to the next line: check we did not rely on luck.
      assert.ok(off > 0);
    });
  }
});

const haveBpftrace = (() => {
  try {
    execFileSync('bpftrace', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
})();

/** Traces a mini-Envoy start with the listener script; returns bpftrace's text output once the workers listened. */
async function traceStart(binary: string): Promise<string> {
  const script = path.join(tmp, 'listener.bt');
  writeFileSync(
    script,
    listenerTraceScript({
      target: { comm: 'envoy' },
      bpftraceVersion: execFileSync('bpftrace', ['--version'], { encoding: 'utf8' }),
    }),
  );
  const bt: ChildProcess = spawn('bpftrace', [script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  bt.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  bt.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise((r) => bt.on('close', r));
  const until = async (cond: () => boolean, what: string, ms: number) => {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline || bt.exitCode !== null)
        throw new Error(`timed out waiting for ${what}; bpftrace: ${err.slice(-500)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  try {
    await until(() => /FT1 attached/.test(out), 'bpftrace to attach', 30_000);
    const envoy = await startMiniEnvoy({ binary });
    try {
      // Two workers listen on two listeners (dup'ed sockets): four setupServerSocket stacks.
      await until(() => (out.match(/setupServerSocket/g) ?? []).length >= 4, 'the workers to listen', 20_000);
    } finally {
      await envoy.stop();
    }
  } finally {
    bt.kill('SIGINT');
    const killer = setTimeout(() => bt.kill('SIGKILL'), 5000);
    await closed;
    clearTimeout(killer);
  }
  return out;
}

describe(
  'a live trace of the clang++/libc++ mini-Envoy',
  { skip: !haveBpftrace && process.env.CI !== 'true' ? 'needs bpftrace as root' : false },
  () => {
    it('resolves $_N lambdas, __invoke thunks and std::__1:: wrappers through the index, and exact lines through DWARF', async () => {
      const out = await traceStart(bins.clang);
      const stacks = extractStacks(out);
      assert.ok(stacks.length >= 4);
      const resolver = new Resolver(await SourceIndex.build([checkout]));
      const dwarf = new DwarfResolver(bins.clang, [checkout]);
      const all: Resolution[] = [];
      let exactListen = 0;
      for (const s of stacks) {
        const byIndex = await resolver.resolveStack(s.frames);
        all.push(...byIndex);
        const names = await demangle(s.frames.map((f) => f.symbol));
        const exact = await dwarf.resolveStack(s.frames.map((f, i) => ({ ...f, symbol: names[i] })));
        exact.forEach((e, i) => {
          if (s.frames[i].symbol.startsWith(SETUP) && e?.location?.line === LISTEN_LINE()) exactListen++;
        });
      }
      assert.ok(exactListen >= 4, `setupServerSocket frames at the listen() line via DWARF: ${exactListen}`);
      const text = (r: Resolution) =>
        readFileSync(r.location!.file, 'utf8').split('\n')[r.location!.line - 1];
      const lambdas = all.filter((r) => r.parsed?.kind === 'lambda');
      assert.ok(
        lambdas.some((r) => /\$_\d+::__invoke/.test(r.symbol)),
        'a clang __invoke thunk was traced',
      );
      assert.ok(
        lambdas.some((r) => r.symbol.startsWith('std::__1::__function::__func<')),
        'a std::function wrapper was traced',
      );
      for (const r of all) {
        if (!r.symbol.includes('Envoy::')) continue;
        const p = r.parsed!;
        if (p.scope[0] === 'std' && p.kind !== 'lambda') {
          // make_shared<Envoy::…> and friends: library code, said so.
          assert.match(r.reason ?? '', /std library code/, r.frame);
          continue;
        }
        assert.ok(r.location, `${r.frame}: ${r.reason}`);
        if (p.kind === 'lambda') assert.match(text(r), /\[[^\]]*\]\s*\(/, `${r.frame} -> ${text(r)}`);
        else assert.ok(text(r).includes(p.name.replace(/^~/, '')), `${r.frame} -> ${text(r)}`);
      }
      // The worker's posted lambda is chosen by its callee, the thread's by being the only one.
      const posted = lambdas.find((r) =>
        /WorkerImpl::addListener.*\$_\d+::operator\(\)\(\) const/.test(r.symbol),
      );
      assert.match(posted?.reason ?? '', /calls addListener/);
    });

    it('-O2: inlined frames come with their inline chain', async () => {
      const out = await traceStart(bins.clangO2);
      const dwarf = new DwarfResolver(bins.clangO2, [checkout]);
      let chains = 0;
      let listenLines = 0;
      for (const s of extractStacks(out)) {
        const names = await demangle(s.frames.map((f) => f.symbol));
        const exact = await dwarf.resolveStack(s.frames.map((f, i) => ({ ...f, symbol: names[i] })));
        for (const [i, e] of exact.entries()) {
          if (e?.inlined && e.inlined.length > 1) chains++;
          if (names[i] === SETUP && e?.location?.line === LISTEN_LINE()) listenLines++;
        }
      }
      assert.ok(listenLines >= 4, `setupServerSocket at the listen() line: ${listenLines}`);
      assert.ok(chains > 0, 'some -O2 frame has inlined functions');
    });
  },
);

describe(
  'DWARF on a node over SSH',
  { skip: !sshdAvailable() && process.env.CI !== 'true' ? 'needs OpenSSH sshd' : false },
  () => {
    let sshd: SshdHarness | undefined;
    before(async () => {
      sshd = await startSshd();
    });
    after(async () => {
      await sshd?.stop();
    });

    it('runs nm and addr2line on the node through the SSH transport', async () => {
      const conn = await connectSsh(sshd!.alias, {
        env: sshd!.env,
        callbacks: { confirmUnknownHostKey: async () => assert.fail('the test host key is known') },
      });
      try {
        const line = LISTEN_LINE();
        const off = returnOffsetOnLine(bins.clang, SETUP, line);
        // The binary path as the node sees it (here the same machine, under a name that needs quoting).
        const remoteBinary = path.join(tmp, "envoy binary's copy");
        cpSync(bins.clang, remoteBinary);
        const dwarf = new DwarfResolver(remoteBinary, [checkout], { runner: transportRunner(conn) });
        const [, r] = await dwarf.resolveStack([
          { raw: 'listen+7', symbol: 'listen', offset: 7, mangled: false },
          { raw: `${SETUP}+${off}`, symbol: SETUP, offset: off, mangled: false },
        ]);
        assert.equal(r?.location?.file, path.join(checkout, 'source/common/network/tcp_listener_impl.cc'));
        assert.equal(r?.location?.line, line);
      } finally {
        conn.close();
      }
    });
  },
);
