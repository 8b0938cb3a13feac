// Benchmark: time from "Run" to the first event over loopback SSH (connect, host-key check,
// probe, SFTP upload, bpftrace start and attach) against bpftrace's own attach time run
// locally with no Fieldtrace in between. Needs root, bpftrace and sshd (test harness).
// Usage: npm run bench:ssh [-- --runs N]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeNode } from '../core/nodes/probe';
import { LocalTransport, type NodeTransport } from '../core/nodes/transport';
import { connectSsh } from '../core/ssh/client';
import { TraceSession } from '../core/trace/session';
import { TraceStreamParser } from '../core/trace/stream-parser';
import { startSshd } from '../test/helpers/sshd';

const SCRIPT =
  'tracepoint:syscalls:sys_enter_bind { printf("bind %d\\n", pid); }\nBEGIN { printf("begin\\n"); }\n';
const runsArg = process.argv.indexOf('--runs');
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 7;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** bpftrace alone: spawn to its attached_probes line. */
async function bareAttachMs(): Promise<number> {
  const t0 = performance.now();
  const child = spawn('bpftrace', ['-f', 'json', '-e', SCRIPT], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('"attached_probes"')) {
        const ms = performance.now() - t0;
        child.kill('SIGINT');
        child.once('exit', () => resolve(ms));
      }
    });
    child.once('error', reject);
  });
}

/** Fieldtrace: Run (connect, probe, upload, start) to the first event after attaching. */
async function fieldtraceRunMs(connect: () => Promise<NodeTransport>, logDir: string) {
  const t0 = performance.now();
  const transport = await connect();
  const connected = performance.now() - t0;
  const probe = await probeNode(transport);
  const probed = performance.now() - t0;
  let attached = 0;
  let first = 0;
  let resolveFirst: () => void = () => undefined;
  const gotFirst = new Promise<void>((r) => (resolveFirst = r));
  const session = await TraceSession.start({
    transport,
    probe,
    script: SCRIPT,
    logDir,
    parser: new TraceStreamParser(),
    onEvent: ({ event }) => {
      if (event.type === 'attached' && !attached) attached = performance.now() - t0;
      else if (event.type !== 'diagnostic' && attached && !first) {
        first = performance.now() - t0;
        resolveFirst();
      }
    },
  });
  await gotFirst;
  await session.stop();
  transport.close();
  return { connected, probed, attached, first };
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-bench-'));
  const sshd = await startSshd();
  try {
    const bare: number[] = [];
    for (let i = 0; i < RUNS; i++) bare.push(await bareAttachMs());
    const local: Awaited<ReturnType<typeof fieldtraceRunMs>>[] = [];
    for (let i = 0; i < RUNS; i++)
      local.push(await fieldtraceRunMs(async () => new LocalTransport(), logDir));
    const ssh: Awaited<ReturnType<typeof fieldtraceRunMs>>[] = [];
    const callbacks = { confirmUnknownHostKey: async () => false };
    for (let i = 0; i < RUNS; i++)
      ssh.push(await fieldtraceRunMs(() => connectSsh(sshd.alias, { env: sshd.env, callbacks }), logDir));
    const row = (name: string, r: typeof ssh) =>
      `${name.padEnd(26)} connect ${median(r.map((x) => x.connected))
        .toFixed(0)
        .padStart(5)} ms  probe ${median(r.map((x) => x.probed))
        .toFixed(0)
        .padStart(5)} ms  attached ${median(r.map((x) => x.attached))
        .toFixed(0)
        .padStart(5)} ms  first event ${median(r.map((x) => x.first))
        .toFixed(0)
        .padStart(
          5,
        )} ms  (start to first event, probe cached: ${median(r.map((x) => x.first - x.probed)).toFixed(0)} ms)`;
    console.log(`bench:ssh — medians of ${RUNS} runs (${os.cpus().length} cores, ${os.release()})`);
    console.log(`${'bpftrace alone (local)'.padEnd(26)} attached ${median(bare).toFixed(0).padStart(5)} ms`);
    console.log(row('Fieldtrace, this machine', local));
    console.log(row('Fieldtrace, loopback SSH', ssh));
    const overhead = median(ssh.map((x) => x.first)) - median(bare);
    console.log(`Run-to-first-event over SSH minus bpftrace's own attach time: ${overhead.toFixed(0)} ms`);
  } finally {
    await sshd.stop();
    rmSync(logDir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
