// Source -> probe on the mini-Envoy built by g++ and by clang/libc++: a function definition line
// resolves to the symbols the function compiled to (an overloaded constructor to its own
// overload, a constructor's lambdas to their closures, clang's `$_N` quoted), the generated script
// runs on the real bpftrace and counts hits on every thread that runs the function, a stripped
// build with a .gnu_debuglink still resolves, one without symbols is said plainly, and over a
// loopback sshd `fieldtrace probe --node` reads the symbols there once per build-id.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalTransport } from '../../../core/nodes/transport';
import { probeForFunction, type ProbeResult } from '../../../core/probe/script';
import { SymbolCache } from '../../../core/symbols/cache';
import { runFieldtrace } from '../../helpers/cli';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';
import { buildMiniEnvoy, type MiniEnvoyBinaries, startMiniEnvoy } from '../../targets/mini-envoy';

const SOURCE = path.resolve(__dirname, '../../targets/mini-envoy/source');
const DISPATCHER = path.join(SOURCE, 'common/event/dispatcher_impl.cc');
const ADDRESS = path.join(SOURCE, 'common/network/address_impl.cc');

const local = { transport: new LocalTransport() };
const cache = new SymbolCache({ dir: null });
let binaries: MiniEnvoyBinaries;
let dir: string;

/** 1-based line of the first line of `file` holding `text`. */
function lineOf(file: string, text: string): number {
  const i = readFileSync(file, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text));
  assert.ok(i >= 0, `${text} in ${file}`);
  return i + 1;
}

async function probe(
  binary: string,
  file: string,
  line: number,
  latency = false,
  symbols = cache,
): Promise<ProbeResult> {
  const table = await symbols.tableFor(local, binary);
  return probeForFunction({ file, text: readFileSync(file, 'utf8'), line, binary, table, latency });
}

const bpftraceHere = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).status === 0;
const canTrace = bpftraceHere && process.getuid?.() === 0;

before(async () => {
  binaries = await buildMiniEnvoy();
  dir = mkdtempSync(path.join(os.tmpdir(), 'ft-probe-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('probeForFunction on the mini-Envoy', () => {
  for (const variant of ['gcc', 'clang'] as const) {
    it(`${variant}: an overloaded constructor resolves to its own overload (C1 and C2)`, async () => {
      const bin = binaries[variant];
      const bySockaddr = await probe(
        bin,
        ADDRESS,
        lineOf(ADDRESS, 'Ipv4Instance::Ipv4Instance(const sockaddr_in&'),
      );
      assert.ok(bySockaddr.script, bySockaddr.problem);
      assert.deepEqual(bySockaddr.symbols!.map((s) => s.name).sort(), [
        '_ZN5Envoy7Network7Address12Ipv4InstanceC1ERK11sockaddr_in',
        '_ZN5Envoy7Network7Address12Ipv4InstanceC2ERK11sockaddr_in',
      ]);
      const byText = await probe(
        bin,
        ADDRESS,
        lineOf(ADDRESS, 'Ipv4Instance::Ipv4Instance(const std::string&'),
      );
      assert.equal(byText.symbols!.length, 2);
      for (const s of byText.symbols!) {
        assert.match(
          s.display,
          /^Envoy::Network::Address::Ipv4Instance::Ipv4Instance\(std::.*basic_string.*, unsigned int\)$/,
        );
      }
    });

    it(`${variant}: the lambdas of a constructor resolve to their closures, nothing of std::function`, async () => {
      const r = await probe(
        binaries[variant],
        DISPATCHER,
        lineOf(DISPATCHER, 'DispatcherImpl::DispatcherImpl('),
      );
      assert.ok(r.script, r.problem);
      const lambdas = r.symbols!.filter((s) => s.role === 'lambda');
      const functions = r.symbols!.filter((s) => s.role === 'function');
      assert.equal(functions.length, 2, 'C1 and C2');
      // Two lambdas: one with a capture (operator() only), one captureless (operator() and its invoker).
      assert.equal(lambdas.length, 3, lambdas.map((s) => s.display).join('\n'));
      for (const s of lambdas)
        assert.match(
          s.display,
          /^Envoy::Event::DispatcherImpl::DispatcherImpl\(.*\)::(\$_\d+|\{lambda\(.*\)#\d\})::(operator\(\)|_FUN|__invoke)\(/,
        );
      if (variant === 'clang') {
        // `$` is outside a bare bpftrace identifier: 0.17 wants the name quoted.
        assert.match(r.script!, /uprobe:[^\n]*:"_ZZN5Envoy5Event14DispatcherImplC1[^"\n]*\$_\d[^"\n]*"/);
      }
    });
  }

  it('a line outside any function, and a function without a symbol, are said plainly', async () => {
    const outside = await probe(binaries.gcc, DISPATCHER, 1);
    assert.equal(outside.script, undefined);
    assert.match(outside.problem!, /is not inside a function definition/);
    // An inline member defined in a header and never called out of line has no symbol.
    const header = path.join(dir, 'extra.cc');
    writeFileSync(
      header,
      'namespace Envoy {\nnamespace Event {\nint DispatcherImpl::neverCompiled(int x) {\n  return x;\n}\n}\n}\n',
    );
    const missing = await probe(binaries.gcc, header, 4);
    assert.match(
      missing.problem!,
      /Envoy::Event::DispatcherImpl::neverCompiled has no symbol in .*envoy: it was inlined into its callers everywhere, or never compiled/,
    );
  });

  it('a stripped build resolves through its .gnu_debuglink; one without a debug file has no symbols', async () => {
    const stripped = path.join(dir, 'envoy');
    copyFileSync(binaries.gcc, stripped);
    execFileSync('objcopy', ['--only-keep-debug', stripped, `${stripped}.debug`]);
    execFileSync('strip', ['--strip-all', stripped]);
    execFileSync('objcopy', [`--add-gnu-debuglink=${stripped}.debug`, stripped], { cwd: dir });
    // Fresh caches: the same build-id would be answered from memory without reading the file.
    const fresh = new SymbolCache({ dir: null });
    const line = lineOf(ADDRESS, 'Ipv4Instance::Ipv4Instance(const sockaddr_in&');
    const r = await probe(stripped, ADDRESS, line, false, fresh);
    assert.equal((await fresh.tableFor(local, stripped)).meta.debugFile, `${stripped}.debug`);
    assert.equal(r.symbols!.length, 2, r.problem);
    assert.match(
      r.script!,
      new RegExp(`uprobe:${stripped}:_ZN5Envoy7Network7Address12Ipv4InstanceC1ERK11sockaddr_in`),
    );

    const bare = path.join(dir, 'bare', 'envoy');
    execFileSync('mkdir', ['-p', path.dirname(bare)]);
    copyFileSync(binaries.clang, bare);
    execFileSync('strip', ['--strip-all', bare]);
    const none = await probe(bare, ADDRESS, line, false, new SymbolCache({ dir: null }));
    assert.equal(none.script, undefined);
    assert.match(
      none.problem!,
      /is not among the exported functions of .*bare\/envoy, which is stripped, and no debug file was found \(looked for \/usr\/lib\/debug\/\.build-id\//,
    );
  });
});

/** Runs a script (with an exit after `seconds`) on the real bpftrace, starting the mini-Envoy once attached. */
async function traceWhileStarting(script: string, binary: string, seconds: number): Promise<string> {
  const file = path.join(dir, `trace-${Date.now()}.bt`);
  // BEGIN fires once every probe is attached ("Attaching N probes" is printed before).
  writeFileSync(file, `BEGIN { printf("attached\\n"); }\n${script}\ninterval:s:${seconds} { exit(); }\n`);
  const bpftrace = spawn('bpftrace', [file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  bpftrace.stdout.on('data', (d: Buffer) => (out += d.toString()));
  bpftrace.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const closed = new Promise<number | null>((resolve) => bpftrace.once('close', resolve));
  const killer = setTimeout(() => bpftrace.kill('SIGKILL'), (seconds + 30) * 1000);
  try {
    const deadline = Date.now() + 20_000;
    while (!/^attached$/m.test(out) && Date.now() < deadline && bpftrace.exitCode === null)
      await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /^attached$/m, `bpftrace did not attach: ${err}`);
    const envoy = await startMiniEnvoy({ binary });
    try {
      const code = await closed;
      assert.equal(code, 0, err);
    } finally {
      await envoy.stop();
    }
  } finally {
    clearTimeout(killer);
    if (bpftrace.exitCode === null) bpftrace.kill('SIGKILL');
  }
  return out;
}

/** `@calls[probe, comm, tid]: n` lines as comm -> hits. */
function hitsByThread(output: string): Map<string, number> {
  const hits = new Map<string, number>();
  for (const m of output.matchAll(/^@calls\[.*, ([^,\n]+), \d+\]: (\d+)$/gm))
    hits.set(m[1], (hits.get(m[1]) ?? 0) + Number(m[2]));
  return hits;
}

describe('generated scripts on the real bpftrace', { skip: !canTrace && process.env.CI !== 'true' }, () => {
  for (const variant of ['gcc', 'clang'] as const) {
    it(`${variant}: DispatcherImpl::run counts hits on the main thread and each worker`, async () => {
      const r = await probe(
        binaries[variant],
        DISPATCHER,
        lineOf(DISPATCHER, 'void DispatcherImpl::run(') + 1,
        true,
      );
      assert.ok(r.script, r.problem);
      const out = await traceWhileStarting(r.script!, binaries[variant], 3);
      const hits = hitsByThread(out);
      for (const thread of ['envoy', 'wrk:worker_0', 'wrk:worker_1'])
        assert.ok((hits.get(thread) ?? 0) >= 1, `${thread} in ${[...hits.keys()].join(', ')}\n${out}`);
    });
  }

  it('clang: the quoted `$_N` lambda probes attach and fire', async () => {
    const r = await probe(binaries.clang, DISPATCHER, lineOf(DISPATCHER, 'DispatcherImpl::DispatcherImpl('));
    const out = await traceWhileStarting(r.script!, binaries.clang, 3);
    assert.match(out, /^@calls\[uprobe:[^\n]*\$_\d[^\n]*\]: \d+$/m, out);
  });
});

describe('fieldtrace probe', () => {
  it('prints the script for FILE:LINE, and exits 2 on usage errors', async () => {
    const line = lineOf(ADDRESS, 'Ipv4Instance::Ipv4Instance(const sockaddr_in&');
    const ok = await runFieldtrace(['probe', `${ADDRESS}:${line}`, '--binary', binaries.gcc, '--latency'], {
      bundled: false,
    });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stdout,
      new RegExp(`^uprobe:${binaries.gcc}:_ZN5Envoy7Network7Address12Ipv4InstanceC1ERK11sockaddr_in,$`, 'm'),
    );
    assert.match(ok.stdout, /^uretprobe:/m);
    const usage = await runFieldtrace(['probe', ADDRESS, '--binary', binaries.gcc], { bundled: false });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /FILE:LINE is required/);
  });
});

describe('fieldtrace probe --node over SSH', { skip: !sshdAvailable() && process.env.CI !== 'true' }, () => {
  let sshd: SshdHarness;
  before(async () => {
    sshd = await startSshd({ trust: true });
  });
  after(async () => sshd?.stop());

  it('reads the symbols on the node once per build-id: a second run lists none', async () => {
    const cacheHome = path.join(dir, 'ssh-cache');
    const env = { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: '', XDG_CACHE_HOME: cacheHome };
    const line = lineOf(ADDRESS, 'Ipv4Instance::Ipv4Instance(const sockaddr_in&');
    const args = ['probe', `${ADDRESS}:${line}`, '--binary', binaries.clang, '--node', sshd.alias];
    const first = await runFieldtrace(args, { bundled: false, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^uprobe:\S+:_ZN5Envoy7Network7Address12Ipv4InstanceC1ERK11sockaddr_in,$/m);
    const cacheDir = path.join(cacheHome, 'fieldtrace', 'symbols');
    const [file] = readdirSync(cacheDir).filter((f) => f.endsWith('.ftsym'));
    assert.match(file ?? '', /^[0-9a-f]{40}\.ftsym$/, 'the table is cached under its build-id');
    const written = statSync(path.join(cacheDir, file)).mtimeMs;
    const second = await runFieldtrace(args, { bundled: false, env });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, first.stdout);
    // Written only after a listing: unchanged means the second run read the cache, not the node.
    assert.equal(statSync(path.join(cacheDir, file)).mtimeMs, written);
  });
});
