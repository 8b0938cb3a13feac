// The mini-Envoy's own per-worker counters, read from its admin API by the test itself (not through
// the product's admin reader), to pace a client or to compare with what a trace says.
import type { MiniEnvoy } from '../targets/mini-envoy';

/** One of a listener's per-worker stats, `listener.<addr>_<port>.worker_<i>.<stat>`. */
export type WorkerStat = 'downstream_cx_total' | 'downstream_cx_active';

/** `stat` of each worker on the 127.0.0.1 listener at `port`, in worker order. */
export async function workerStats(envoy: MiniEnvoy, port: number, stat: WorkerStat): Promise<number[]> {
  const prefix = `listener.127.0.0.1_${port}.worker_`;
  const filter = encodeURIComponent(`^${prefix.replace(/\./g, '\\.')}\\d+\\.${stat}$`);
  const response = await fetch(`http://127.0.0.1:${envoy.adminPort}/stats?format=json&filter=${filter}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = await response.text();
  if (response.status !== 200)
    throw new Error(`admin /stats answered ${response.status}: ${body.slice(0, 200)}`);
  const { stats } = JSON.parse(body) as { stats: { name: string; value: number }[] };
  const out = new Array<number>(envoy.concurrency).fill(0);
  for (const s of stats) out[Number(s.name.slice(prefix.length).split('.')[0])] = s.value;
  return out;
}
