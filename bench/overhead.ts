// What the listener trace costs the traced process. An accept-bound server (Debian's nginx with
// two workers, and the mini-Envoy with two workers) is driven by wrk with `Connection: close` on
// loopback, untraced and traced in paired, alternating runs (the order flips every pair, so a
// drift of the machine does not favour one side). Per variant the median over the pairs of
// traced/untraced throughput is printed, with the figures of the traced runs:
//   stacks     `fieldtrace run --listener-trace` (the whole CLI: bpftrace, parser, session log)
//   no-stacks  the same with --no-stacks
//   floor      the same tracepoints attached with empty bodies by bpftrace alone: the cost no
//              script can go below on this kernel
// the server's CPU time per connection (traced/untraced: the cost as the traced process pays it,
// steadier than throughput when other work shares the machine), lost (bpftrace's lost events),
// log bytes per minute of load, bpftrace's CPU time per second of load and the CLI's.
// Run as root: npm run bench:overhead [-- --seconds 4 --pairs 5 --targets nginx,envoy
// --connections 20 --interval SECONDS --tree CHECKOUT]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as ListenerScript from '../core/trace/listener-script';
import { buildMiniEnvoy, startMiniEnvoy } from '../test/targets/mini-envoy';
import { startNginx } from '../test/targets/nginx';
import { freePort } from '../test/helpers/net';

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : fallback;
};
const SECONDS = Number(option('seconds', '4'));
const PAIRS = Math.max(3, Number(option('pairs', '5')));
const TARGETS = option('targets', 'nginx,envoy').split(',');
const CONNECTIONS = Number(option('connections', '20'));
const VARIANTS = option('variants', 'stacks,no-stacks,floor').split(',') as Variant[];
/** Seconds between the trace's count prints (empty: the CLI's default). */
const INTERVAL = option('interval', '');
type Variant = 'stacks' | 'no-stacks' | 'floor';

/** `--tree DIR`: measure the CLI and script of another checkout (e.g. main, for a before/after). */
const ROOT = path.resolve(option('tree', path.join(__dirname, '..')));
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { listenerTraceEnvironment, listenerTraceScript } = require(
  path.join(ROOT, 'core/trace/listener-script'),
) as typeof ListenerScript;
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
const BPFTRACE_VERSION = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).stdout.trim();

interface Target {
  name: string;
  port: number;
  /** What `fieldtrace run --target` is given. */
  traceTarget: string;
  pid: number;
  /** The server's processes (nginx: master and workers), whose CPU time is the cost per connection. */
  pids(): number[];
  stop(): Promise<void>;
}

interface Load {
  rps: number;
  requests: number;
  errors: number;
  /**
   * The server's CPU time (user + system, where BPF programs on its syscalls run) per request:
   * the cost of tracing as the traced process pays it, less swayed than throughput by other work
   * on the machine.
   */
  serverCpuPerRequest: number;
}

interface Traced {
  load: Load;
  lost: number;
  logBytesPerMinute: number;
  bpftraceCpuPerSecond: number;
  cliCpuPerSecond: number;
}

/** Started processes, ended if the benchmark is interrupted. */
const started = new Set<ChildProcess>();
const track = (child: ChildProcess): ChildProcess => {
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
};
const cleanups: (() => Promise<void>)[] = [];
process.once('SIGINT', () => {
  for (const child of started) child.kill('SIGINT');
  void Promise.allSettled(cleanups.map((c) => c())).then(() => process.exit(130));
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return [
      String(pid),
      stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')),
      ...stat.slice(stat.lastIndexOf(')') + 2).split(' '),
    ];
  } catch {
    return undefined;
  }
}

/** The process and every descendant of it, with their comm. */
function processTree(root: number): { pid: number; comm: string }[] {
  const parents = new Map<number, { ppid: number; comm: string }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const f = statFields(Number(name));
    if (f) parents.set(Number(name), { ppid: Number(f[3]), comm: f[1]! });
  }
  const out: { pid: number; comm: string }[] = [];
  const walk = (pid: number) => {
    out.push({ pid, comm: parents.get(pid)?.comm ?? '' });
    for (const [child, info] of parents) if (info.ppid === pid) walk(child);
  };
  walk(root);
  return out;
}

/** utime + stime in seconds (children that already exited are not counted). */
function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    if (f) ticks += Number(f[13]) + Number(f[14]);
  }
  return ticks / CLK_TCK;
}

async function drive(target: Target): Promise<Load> {
  const pids = target.pids();
  const cpu0 = cpuSeconds(pids);
  const wrk = track(
    spawn(
      'wrk',
      [
        '-t1',
        `-c${CONNECTIONS}`,
        `-d${SECONDS}s`,
        '-H',
        'Connection: close',
        `http://127.0.0.1:${target.port}/`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    ),
  );
  let out = '';
  wrk.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  wrk.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => wrk.once('close', r));
  const cpu = cpuSeconds(pids) - cpu0;
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const requests = /(\d+) requests in/.exec(out);
  if (code !== 0 || !rps || !requests) throw new Error(`wrk failed (${code}): ${out}`);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps: Number(rps[1]),
    requests: Number(requests[1]),
    errors:
      (errors ? errors.slice(1).reduce((s, n) => s + Number(n), 0) : 0) + (non2xx ? Number(non2xx[1]) : 0),
    serverCpuPerRequest: cpu / Math.max(1, Number(requests[1])),
  };
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function ended(child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await new Promise((r) => child.once('exit', r));
  clearTimeout(timer);
}

/** The tracepoints of the listener trace, attached with empty bodies. */
function floorScript(script: string): string {
  const probes = new Set<string>();
  for (const line of script.split('\n')) {
    const m = /^(tracepoint:[\w:]+)/.exec(line);
    if (m) probes.add(m[1]!);
  }
  return ['BEGIN { printf("ready\\n"); }', ...[...probes].map((p) => `${p} { }`), ''].join('\n');
}

async function tracedByCli(target: Target, stacks: boolean, dir: string): Promise<Traced> {
  const logDir = mkdtempSync(path.join(dir, 'log-'));
  const cli = track(
    spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(ROOT, 'cli/main.ts'),
        'run',
        '--listener-trace',
        '--target',
        target.traceTarget,
        ...(stacks ? [] : ['--no-stacks']),
        ...(INTERVAL ? ['--count-interval', INTERVAL] : []),
        '--log-dir',
        logDir,
      ],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    ),
  );
  let stderr = '';
  cli.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const logFile = () => readdirSync(logDir).find((f) => f.endsWith('.jsonl'));
  const log = () => path.join(logDir, logFile()!);
  try {
    await until(`the trace to attach (${stderr})`, () => {
      if (cli.exitCode !== null) throw new Error(`fieldtrace run exited: ${stderr}`);
      const f = logFile();
      return f !== undefined && readFileSync(path.join(logDir, f), 'utf8').includes('"type":"attached"');
    });
    const tree = processTree(cli.pid!);
    const bpftrace = tree.filter((p) => p.comm === 'bpftrace').map((p) => p.pid);
    if (bpftrace.length === 0) throw new Error('no bpftrace under fieldtrace run');
    const cpu0 = cpuSeconds(bpftrace);
    const cli0 = cpuSeconds([cli.pid!]);
    const bytes0 = statSync(log()).size;
    const t0 = Date.now();
    const load = await drive(target);
    const elapsed = (Date.now() - t0) / 1000;
    // Lines of the last second still on their way count for this load.
    await sleep(1200);
    const bytes1 = statSync(log()).size;
    const cpu1 = cpuSeconds(bpftrace);
    const cli1 = cpuSeconds([cli.pid!]);
    cli.kill('SIGINT');
    await ended(cli);
    let lost = 0;
    for (const line of readFileSync(log(), 'utf8').split('\n')) {
      if (!line.includes('"lost"')) continue;
      const event = (JSON.parse(line) as { event: { type: string; count?: number } }).event;
      if (event.type === 'lost') lost += event.count ?? 0;
    }
    return {
      load,
      lost,
      logBytesPerMinute: ((bytes1 - bytes0) / elapsed) * 60,
      bpftraceCpuPerSecond: (cpu1 - cpu0) / elapsed,
      cliCpuPerSecond: (cli1 - cli0) / elapsed,
    };
  } finally {
    if (cli.exitCode === null) {
      cli.kill('SIGINT');
      await ended(cli);
    }
    rmSync(logDir, { recursive: true, force: true });
  }
}

async function tracedByFloor(target: Target, stacks: boolean, dir: string): Promise<Traced> {
  const script = listenerTraceScript({
    target: { pid: target.pid },
    bpftraceVersion: BPFTRACE_VERSION,
    withStacks: stacks,
  });
  const file = path.join(dir, 'floor.bt');
  writeFileSync(file, floorScript(script));
  const bpftrace = track(
    spawn('bpftrace', ['-f', 'json', file], {
      stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, ...listenerTraceEnvironment(BPFTRACE_VERSION) },
    }),
  );
  let out = '';
  bpftrace.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  try {
    await until('the floor script to attach', () => {
      if (bpftrace.exitCode !== null) throw new Error('bpftrace (floor) exited');
      return out.includes('ready');
    });
    const cpu0 = cpuSeconds([bpftrace.pid!]);
    const t0 = Date.now();
    const load = await drive(target);
    const elapsed = (Date.now() - t0) / 1000;
    const cpu1 = cpuSeconds([bpftrace.pid!]);
    return {
      load,
      lost: 0,
      logBytesPerMinute: 0,
      bpftraceCpuPerSecond: (cpu1 - cpu0) / elapsed,
      cliCpuPerSecond: 0,
    };
  } finally {
    bpftrace.kill('SIGINT');
    await ended(bpftrace);
  }
}

async function startTarget(name: string): Promise<Target> {
  const port = await freePort();
  if (name === 'nginx') {
    const nginx = await startNginx({ port, workers: 2 });
    return {
      name: 'nginx (2 workers)',
      port,
      traceTarget: 'nginx',
      pid: nginx.pid,
      pids: () => [nginx.pid, ...nginx.workerPids()],
      stop: nginx.stop,
    };
  }
  const { clang } = await buildMiniEnvoy();
  const envoy = await startMiniEnvoy({ binary: clang, listeners: [`127.0.0.1:${port}`], concurrency: 2 });
  return {
    name: 'mini-Envoy (2 workers, dup layout)',
    port,
    traceTarget: String(envoy.pid),
    pid: envoy.pid,
    pids: () => [envoy.pid],
    stop: async () => void (await envoy.stop()),
  };
}

const fmt = (n: number, digits = 3) => n.toFixed(digits);

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('run as root (bpftrace attaches tracepoints)');
  for (const tool of ['bpftrace', 'wrk', 'nginx']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      throw new Error(`${tool} is not installed`);
  }
  if (!existsSync('/sys/kernel/tracing/events'))
    throw new Error('mount tracefs: mount -t tracefs nodev /sys/kernel/tracing');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-bench-overhead-'));
  console.log(
    `bench:overhead  ${BPFTRACE_VERSION}; ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; wrk -t1 -c${CONNECTIONS} -d${SECONDS}s Connection: close; ${PAIRS} pairs`,
  );
  try {
    for (const name of TARGETS) {
      const target = await startTarget(name);
      cleanups.push(target.stop);
      try {
        await drive(target); // warm-up
        console.log(`\n${target.name} on 127.0.0.1:${target.port}`);
        console.log(
          'variant    ratio (pairs)                untraced/s traced/s  CPU/conn ratio  lost   log/min  bpftrace CPU  CLI CPU  errors',
        );
        for (const variant of VARIANTS) {
          const ratios: number[] = [];
          const cpuRatios: number[] = [];
          const traced: Traced[] = [];
          const untraced: Load[] = [];
          for (let pair = 0; pair < PAIRS; pair++) {
            const runTraced = () =>
              variant === 'floor'
                ? tracedByFloor(target, true, dir)
                : tracedByCli(target, variant === 'stacks', dir);
            let u: Load;
            let t: Traced;
            if (pair % 2 === 0) {
              u = await drive(target);
              t = await runTraced();
            } else {
              t = await runTraced();
              u = await drive(target);
            }
            untraced.push(u);
            traced.push(t);
            ratios.push(t.load.rps / u.rps);
            cpuRatios.push(t.load.serverCpuPerRequest / u.serverCpuPerRequest);
          }
          const m = (f: (t: Traced) => number) => median(traced.map(f));
          console.log(
            [
              variant.padEnd(10),
              fmt(median(ratios)),
              `(${ratios.map((r) => fmt(r)).join(' ')})`.padEnd(22),
              fmt(median(untraced.map((u) => u.rps)), 0).padStart(9),
              fmt(
                m((t) => t.load.rps),
                0,
              ).padStart(8),
              `${fmt(median(untraced.map((u) => u.serverCpuPerRequest)) * 1e6, 0)}µs ×${fmt(median(cpuRatios), 2)}`.padStart(
                15,
              ),
              String(Math.max(...traced.map((t) => t.lost))).padStart(5),
              `${fmt(m((t) => t.logBytesPerMinute) / 1e6, 2)} MB`.padStart(9),
              `${fmt(
                m((t) => t.bpftraceCpuPerSecond),
                2,
              )} s/s`.padStart(13),
              `${fmt(
                m((t) => t.cliCpuPerSecond),
                2,
              )} s/s`.padStart(8),
              String(
                traced.reduce((s, t) => s + t.load.errors, 0) + untraced.reduce((s, u) => s + u.errors, 0),
              ).padStart(6),
            ].join(' '),
          );
        }
      } finally {
        await target.stop();
      }
    }
    console.log(
      `\nload at the end ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (other work on the machine shifts both sides of a pair alike)`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
