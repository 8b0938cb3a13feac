// Benchmark: events/s through the stream parser (line splitting, JSON, listener lines with their
// stacks, typed events) and on into an event emitter, against bare JSON.parse of the same lines
// in the same run. Goal: ratio >= 0.5.
// The input is real: a listener trace of the mini-Envoy with 200 connections, captured here when
// run as root with bpftrace; otherwise (or with --synthetic) lines shaped like those.
// Usage: npm run bench:stream [-- --rounds N] [--synthetic]
import { spawn, spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TraceEvent } from '../common/events';
import { listenerTraceEnvironment, listenerTraceScript } from '../core/trace/listener-script';
import { TraceStreamParser } from '../core/trace/stream-parser';
import { buildMiniEnvoy, startMiniEnvoy } from '../test/targets/mini-envoy';

const arg = (name: string) => process.argv.indexOf(name);
const ROUNDS = arg('--rounds') > 0 ? Number(process.argv[arg('--rounds') + 1]) : 31;
const CHUNK = 64 * 1024;

async function capture(): Promise<Buffer> {
  const version = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).stdout?.trim() || '0.17';
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-bench-'));
  const file = path.join(dir, 'l.bt');
  writeFileSync(file, listenerTraceScript({ target: { comm: 'envoy' }, bpftraceVersion: version }));
  const bpftrace = spawn('bpftrace', ['-f', 'json', file], {
    stdio: ['ignore', 'pipe', 'ignore'],
    env: { ...process.env, ...listenerTraceEnvironment(version) },
  });
  const chunks: Buffer[] = [];
  const parser = new TraceStreamParser({ attachedWhen: 'begin' });
  // Accepts are counted in the kernel: running totals per (pid, tid, listening fd) every interval.
  const totals = new Map<string, number>();
  const accepted = () => [...totals.values()].reduce((sum, n) => sum + n, 0);
  let attached = false;
  bpftrace.stdout.on('data', (c: Buffer) => {
    chunks.push(c);
    for (const e of parser.pushStdout(c)) {
      if (e.type === 'attached') attached = true;
      if (e.type === 'accepts') totals.set(`${e.pid}/${e.tid}/${e.listenFd}`, e.total);
    }
  });
  const until = async (ok: () => boolean, what: string) => {
    const deadline = Date.now() + 30_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`capture: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  try {
    await until(() => attached, 'bpftrace');
    const envoy = await startMiniEnvoy({ binary: (await buildMiniEnvoy()).clang });
    try {
      for (let i = 0; i < 200; i++) {
        await new Promise<void>((resolve, reject) => {
          const s = net.connect(envoy.ports[i % 2], '127.0.0.1', () => {
            s.end();
            resolve();
          });
          s.once('error', reject);
        });
      }
      await until(() => accepted() >= 200, '200 accepts counted');
    } finally {
      await envoy.stop();
    }
  } finally {
    bpftrace.kill('SIGINT');
    await new Promise((r) => bpftrace.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
  return Buffer.concat(chunks);
}

function synthetic(): Buffer {
  const hex = (s: string) =>
    [...Buffer.from(s.padEnd(16, '\0'))].map((b) => `\\\\x${b.toString(16).padStart(2, '0')}`).join('');
  const frames = Array.from(
    { length: 24 },
    (_, i) =>
      `        Envoy::Network::Frame${i}::call(std::__1::shared_ptr<Envoy::Network::Socket>)+${i * 7}`,
  ).join('\\n');
  const lines: string[] = ['{"type": "attached_probes", "data": {"probes": 30}}'];
  for (let i = 0; i < 2000; i++) {
    const comm = hex(`wrk:worker_${i % 2}`);
    lines.push(
      `{"type": "printf", "data": "FT1 accept ${1e12 + i} 100 ${101 + (i % 2)} 16 ${20 + (i % 50)} 2 ${40000 + i} 0 127.0.0.1 ${comm}\\n${frames}\\n\\n"}`,
    );
    lines.push(
      `{"type": "printf", "data": "FT1 setsockopt ${1e12 + i} 100 101 ${20 + (i % 50)} 6 1 1 4 - ${comm}\\n${frames}\\n\\n"}`,
    );
    lines.push(
      `{"type": "printf", "data": "FT1 close ${1e12 + i} 100 101 ${20 + (i % 50)} 0 0 0 0 - ${comm}\\n"}`,
    );
  }
  return Buffer.from(lines.join('\n') + '\n');
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** The same records with the stacks left out (a listener trace run with withStacks: false). */
function withoutStacks(input: Buffer): Buffer {
  const out: string[] = [];
  for (const line of input.toString('utf8').split('\n')) {
    if (!line.trim()) continue;
    const record = JSON.parse(line) as { type: string; data: unknown };
    if (record.type === 'printf' && typeof record.data === 'string' && record.data.startsWith('FT1 ')) {
      // Written the way bpftrace writes a printf record (a space after each colon).
      out.push(
        `{"type": "printf", "data": ${JSON.stringify(record.data.slice(0, record.data.indexOf('\n') + 1))}}`,
      );
    } else {
      out.push(line);
    }
  }
  return Buffer.from(out.join('\n') + '\n');
}

function measure(label: string, input: Buffer): void {
  const lines = input
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
  const bare = (): number => {
    let n = 0;
    for (const line of lines) if (JSON.parse(line)) n++;
    return n;
  };
  const bus = new EventEmitter();
  let received = 0;
  bus.on('event', () => received++);
  const parse = (toBus: boolean): number => {
    const parser = new TraceStreamParser({ nodeId: 'bench' });
    let n = 0;
    const take = (events: TraceEvent[]) => {
      n += events.length;
      if (toBus) for (const e of events) bus.emit('event', e);
    };
    for (let i = 0; i < input.length; i += CHUNK) take(parser.pushStdout(input.subarray(i, i + CHUNK)));
    take(parser.end());
    return n;
  };
  const timed = (fn: () => number) => {
    const t0 = performance.now();
    const n = fn();
    return { n, ms: performance.now() - t0 };
  };
  for (let i = 0; i < 3; i++) {
    bare();
    parse(true);
  }
  // Each round times the three side by side; the ratio is taken per round, so that load from
  // other processes (which drifts) cancels out, and the median over rounds is reported.
  const bareRates: number[] = [];
  const parserRates: number[] = [];
  const busRates: number[] = [];
  const parserRatios: number[] = [];
  const busRatios: number[] = [];
  let events = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const b = timed(bare);
    const p = timed(() => parse(false));
    const e = timed(() => parse(true));
    events = p.n;
    const bareRate = b.n / (b.ms / 1000);
    bareRates.push(bareRate);
    parserRates.push(p.n / (p.ms / 1000));
    busRates.push(e.n / (e.ms / 1000));
    parserRatios.push(p.n / (p.ms / 1000) / bareRate);
    busRatios.push(e.n / (e.ms / 1000) / bareRate);
  }
  const types = new Map<string, number>();
  const sampleParser = new TraceStreamParser();
  for (const e of [...sampleParser.pushStdout(input), ...sampleParser.end()])
    types.set(e.type, (types.get(e.type) ?? 0) + 1);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  console.log(
    `\n${label}: ${lines.length} lines, ${(input.length / 1024 / 1024).toFixed(2)} MiB, ${events} events`,
  );
  console.log(`  (${[...types].map(([t, n]) => `${t} ${n}`).join(', ')})`);
  console.log(`  bare JSON.parse:          ${fmt(median(bareRates))} lines/s`);
  console.log(
    `  stream parser:            ${fmt(median(parserRates))} events/s  ratio ${median(parserRatios).toFixed(2)}`,
  );
  console.log(
    `  stream parser + emitter:  ${fmt(median(busRates))} events/s  ratio ${median(busRatios).toFixed(2)} (goal >= 0.5)`,
  );
  console.log(`  (median of ${ROUNDS} paired rounds; ${received} events reached the emitter)`);
}

async function main(): Promise<void> {
  const canCapture = process.getuid?.() === 0 && spawnSync('bpftrace', ['--version']).status === 0;
  const real = canCapture && arg('--synthetic') < 0;
  const input = real ? await capture() : synthetic();
  const what = real
    ? 'listener trace of the mini-Envoy, 200 connections (captured now)'
    : 'synthetic listener lines';
  measure(`${what}, with stacks`, input);
  measure(`${what}, stacks left out`, withoutStacks(input));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
