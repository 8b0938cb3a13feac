// Benchmark: a fleet of N loopback "nodes" (sshd in network namespaces, as the fleet test makes
// them), connected to and probed at once, against the slowest node connected to and probed alone;
// then start-to-first-event of a small script on all N at once. Needs root, sshd, bpftrace, ip.
// Usage: npm run bench:fleet [-- --sizes 1,3,8 --runs 3]
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { probeNode } from '../core/nodes/probe';
import { connectSsh } from '../core/ssh/client';
import { TraceSession } from '../core/trace/session';
import { TraceStreamParser } from '../core/trace/stream-parser';
import { createNetns, type TestNetns } from '../test/helpers/netns';
import { type SshdHarness, startSshd } from '../test/helpers/sshd';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const SIZES = arg('--sizes', '1,3,8').split(',').map(Number);
const RUNS = Number(arg('--runs', '3'));
const SCRIPT = 'BEGIN { printf("begin\\n"); }\n';
const callbacks = { confirmUnknownHostKey: async () => false };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function connectAndProbe(sshd: SshdHarness, alias: string): Promise<number> {
  const t0 = performance.now();
  const conn = await connectSsh(alias, { env: sshd.env, callbacks });
  try {
    const probe = await probeNode(conn);
    if (probe.problems.length) throw new Error(`${alias}: ${probe.problems.join(' ')}`);
    return performance.now() - t0;
  } finally {
    conn.close();
  }
}

async function startToFirstEvent(sshd: SshdHarness, alias: string, logDir: string): Promise<number> {
  const t0 = performance.now();
  const conn = await connectSsh(alias, { env: sshd.env, callbacks });
  try {
    const probe = await probeNode(conn);
    let resolveFirst: (ms: number) => void = () => undefined;
    const first = new Promise<number>((r) => (resolveFirst = r));
    const session = await TraceSession.start({
      transport: conn,
      probe,
      script: SCRIPT,
      logDir,
      parser: new TraceStreamParser(),
      onEvent: ({ event }) => {
        if (event.type === 'output') resolveFirst(performance.now() - t0);
      },
    });
    const ms = await Promise.race([first, session.ended.then(() => performance.now() - t0)]);
    await session.stop();
    return ms;
  } finally {
    conn.close();
  }
}

async function main(): Promise<void> {
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-bench-fleet-'));
  const spaces: TestNetns[] = [];
  const servers: SshdHarness[] = [];
  try {
    const max = Math.max(...SIZES);
    for (let i = 0; i < max; i++) {
      const netns = createNetns(i);
      spaces.push(netns);
      const first = servers[0];
      servers.push(
        await startSshd({
          alias: `bench-node-${i}`,
          netns: netns.name,
          address: netns.address,
          ...(first ? { clientOf: first } : {}),
        }),
      );
    }
    const client = servers[0]!;
    console.log(`bench:fleet — medians of ${RUNS} runs (${os.cpus().length} cores, ${os.release()})`);
    for (const n of SIZES) {
      const nodes = servers.slice(0, n).map((s) => s.alias);
      const slowestAlone: number[] = [];
      const together: number[] = [];
      const firstEvent: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        const alone: number[] = [];
        for (const alias of nodes) alone.push(await connectAndProbe(client, alias));
        slowestAlone.push(Math.max(...alone));
        const t0 = performance.now();
        await Promise.all(nodes.map((alias) => connectAndProbe(client, alias)));
        together.push(performance.now() - t0);
        const firsts = await Promise.all(nodes.map((alias) => startToFirstEvent(client, alias, logDir)));
        firstEvent.push(Math.max(...firsts));
      }
      const a = median(slowestAlone);
      const b = median(together);
      console.log(
        `N=${String(n).padStart(2)}  connect+probe: slowest node alone ${a.toFixed(0).padStart(5)} ms, ` +
          `all at once ${b.toFixed(0).padStart(5)} ms (+${(b - a).toFixed(0)} ms; goal ≤ +300)  ` +
          `start to first event on all: ${median(firstEvent).toFixed(0).padStart(6)} ms`,
      );
    }
  } finally {
    for (const s of servers.reverse()) await s.stop();
    for (const ns of spaces) ns.remove();
    rmSync(logDir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
