// Envoy admin cross-check: `/listeners?format=json`, `/server_info` and the per-worker listener
// counters of `/stats`, read-only. The admin address (127.0.0.1:15000 in a sidecar) lives in the
// pod's network namespace, so the GET can run inside it (`nsenter -t PID -n`).
import { execFile } from 'node:child_process';
import * as http from 'node:http';
import type { AdminRecord } from '../../common/events';
import type {
  AdminSummaryView,
  AdminWorkerStat,
  ListenerBalanceConfig,
} from '../../common/listeners-protocol';
import { envoyVersionAtLeast } from './envoy-version';
import type { CommandRunner } from '../nodes/commands';

export type AdminReport = AdminRecord;
export type AdminListener = AdminRecord['listeners'][number];

/** Performs one GET of an admin path (`/server_info`) and returns the body. */
export type AdminGet = (path: string) => Promise<string>;

const ADMIN_TIMEOUT_MS = 5000;
const MAX_BODY = 16 * 1024 * 1024;

function checkAddress(host: string, port: number): void {
  if (!/^[0-9a-fA-F.:]+$/.test(host)) throw new Error(`admin host must be an IP address: ${host}`);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad admin port: ${port}`);
}

/**
 * A GET on an address this process can reach (same network namespace). Bounded in size and in
 * total time: a port that trickles a byte now and then (which resets an idle timeout) is cut at
 * `timeoutMs` all the same.
 */
export function directAdminGet(host: string, port: number, timeoutMs = ADMIN_TIMEOUT_MS): AdminGet {
  checkAddress(host, port);
  return (path) =>
    new Promise((resolve, reject) => {
      const req = http.get({ host, port, path, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error(`admin ${path}: body over ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          clearTimeout(deadline);
          const body = Buffer.concat(chunks).toString('utf8');
          if ((res.statusCode ?? 0) >= 400) reject(new Error(`admin ${path}: HTTP ${res.statusCode}`));
          else resolve(body);
        });
        res.on('error', reject);
      });
      const deadline = setTimeout(
        () => req.destroy(new Error(`admin ${path}: no complete answer in ${timeoutMs} ms`)),
        timeoutMs,
      );
      req.on('timeout', () => req.destroy(new Error(`admin ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
    });
}

// Runs inside the target's network namespace: a GET with Node itself, so the node needs no curl.
const NETNS_GET = `const [h,p,u]=process.argv.slice(1);require('http').get({host:h,port:+p,path:u,timeout:${ADMIN_TIMEOUT_MS}},r=>{if(r.statusCode>=400){console.error('HTTP '+r.statusCode);process.exit(1)}r.pipe(process.stdout)}).on('error',e=>{console.error(e.message);process.exit(1)}).on('timeout',function(){this.destroy(new Error('timeout'))})`;

/**
 * A GET run inside the network namespace of `pid` on this machine (`nsenter -t PID -n node -e …`),
 * for an admin address that only the pod's loopback knows. Arguments go as argv, never a shell.
 */
export function netnsAdminGet(pid: number, host = '127.0.0.1', port = 15000): AdminGet {
  checkAddress(host, port);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a process id: ${pid}`);
  return (path) =>
    new Promise((resolve, reject) => {
      if (!path.startsWith('/')) return reject(new Error(`admin path must start with /: ${path}`));
      execFile(
        'nsenter',
        ['-t', String(pid), '-n', process.execPath, '-e', NETNS_GET, host, String(port), path],
        { timeout: ADMIN_TIMEOUT_MS + 2000, maxBuffer: MAX_BODY },
        (error, stdout, stderr) => {
          if (error)
            reject(new Error(`admin ${path} in the netns of pid ${pid}: ${stderr.trim() || error.message}`));
          else resolve(stdout);
        },
      );
    });
}

// A GET with bash's /dev/tcp, for nodes without curl. Fixed text: host, port, path and the Host
// header arrive as $0..$3, never pasted into the script.
const BASH_GET = [
  'exec 3<>"/dev/tcp/$0/$1" || exit 7',
  'printf "GET %s HTTP/1.1\\r\\nHost: %s\\r\\nConnection: close\\r\\nAccept: */*\\r\\n\\r\\n" "$2" "$3" >&3',
  // Bounded: an admin port that never stops sending ends at MAX_BODY bytes (and `timeout`).
  `head -c ${MAX_BODY + 1} <&3`,
].join('\n');

export type AdminClient = 'curl' | 'bash';

// A chunk-size line is hex digits, optionally followed by `;extensions`: nothing else (no sign,
// no `0x`, no spaces), and at most 7 digits, so one chunk can never claim more than MAX_BODY.
const CHUNK_SIZE_LINE = /^([0-9A-Fa-f]{1,7})(?:;[^\r\n]*)?$/;

/**
 * The body of a raw HTTP/1.x response (chunked or not); an error status is an error. What an
 * admin port sends is untrusted: every chunk size is parsed strictly, must fit in what is left,
 * and each step moves forward, so the loop ends after at most one pass over the input.
 */
export function httpResponseBody(raw: string, path: string): string {
  if (raw.length > MAX_BODY) throw new Error(`admin ${path}: response over ${MAX_BODY} bytes`);
  const headerEnd = raw.indexOf('\r\n\r\n');
  if (headerEnd < 0) throw new Error(`admin ${path}: no HTTP response (${JSON.stringify(raw.slice(0, 80))})`);
  const [statusLine = '', ...headerLines] = raw.slice(0, headerEnd).split('\r\n');
  const status = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  if (!status)
    throw new Error(`admin ${path}: not an HTTP status line: ${JSON.stringify(statusLine.slice(0, 80))}`);
  if (Number(status[1]) >= 400) throw new Error(`admin ${path}: HTTP ${status[1]}`);
  const body = raw.slice(headerEnd + 4);
  const chunked = headerLines.some((h) => /^transfer-encoding:\s*chunked\s*$/i.test(h));
  if (!chunked) return body;
  // Chunk sizes count bytes, so the body is cut as bytes. (The runner hands back text: a chunk
  // boundary inside a multi-byte character would not survive; Envoy's JSON is ASCII in practice.)
  const bytes = Buffer.from(body, 'utf8');
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd < 0) throw new Error(`admin ${path}: chunked body cut short`);
    const sizeLine = CHUNK_SIZE_LINE.exec(bytes.subarray(at, lineEnd).toString('latin1'));
    if (!sizeLine) throw new Error(`admin ${path}: bad chunk size`);
    const size = parseInt(sizeLine[1], 16);
    if (size === 0) break;
    const dataEnd = lineEnd + 2 + size;
    if (dataEnd + 2 > bytes.length) throw new Error(`admin ${path}: chunked body cut short`);
    if (bytes[dataEnd] !== 0x0d || bytes[dataEnd + 1] !== 0x0a)
      throw new Error(`admin ${path}: chunk not followed by CRLF`);
    parts.push(bytes.subarray(lineEnd + 2, dataEnd));
    at = dataEnd + 2;
  }
  return Buffer.concat(parts).toString('utf8');
}

const MISSING_CURL = /failed to execute curl|curl: (command )?not found|exit 127\b/i;

/**
 * A GET run on a node through a command runner (SSH), inside the network namespace of `pid`:
 * with the node's curl, or with bash's /dev/tcp where curl is missing (then bash for the rest of
 * this getter's life). Every word is a separate argument; the path is checked to be a plain path.
 */
export function commandAdminGet(
  run: CommandRunner,
  pid: number,
  host = '127.0.0.1',
  port = 15000,
  clients: readonly AdminClient[] = ['curl', 'bash'],
): AdminGet {
  checkAddress(host, port);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`not a process id: ${pid}`);
  const netns = ['nsenter', '-t', String(pid), '-n'];
  const seconds = String(ADMIN_TIMEOUT_MS / 1000);
  const hostHeader = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  let remaining = [...clients];
  return async (path) => {
    if (!/^\/[\w./?=&%^*+-]*$/.test(path)) throw new Error(`admin path with unexpected characters: ${path}`);
    for (;;) {
      const client = remaining[0];
      if (client === undefined) throw new Error('no admin client to try');
      if (client === 'bash') {
        const raw = await run([
          ...netns,
          'timeout',
          seconds,
          'bash',
          '-c',
          BASH_GET,
          host,
          String(port),
          path,
          hostHeader,
        ]);
        return httpResponseBody(raw, path);
      }
      try {
        return await run([
          ...netns,
          'curl',
          '-sS',
          '--fail',
          '--max-time',
          seconds,
          `http://${hostHeader}${path}`,
        ]);
      } catch (error) {
        if (
          remaining.length < 2 ||
          !MISSING_CURL.test(error instanceof Error ? error.message : String(error))
        )
          throw error;
        remaining = remaining.slice(1);
      }
    }
  };
}

interface SocketAddressJson {
  socket_address?: { address?: unknown; port_value?: unknown };
}

function readAddress(value: unknown): { address: string; port: number } | undefined {
  const sa = (value as SocketAddressJson | undefined)?.socket_address;
  if (!sa || typeof sa.address !== 'string') return undefined;
  const port = Number(sa.port_value ?? 0);
  return Number.isInteger(port) ? { address: sa.address, port } : undefined;
}

/** `/listeners?format=json` (envoy.admin.v3.Listeners) → name and address of each listener. */
export function parseAdminListeners(body: string): { name: string; address: string; port: number }[] {
  const json = JSON.parse(body) as { listener_statuses?: unknown };
  if (!Array.isArray(json.listener_statuses)) throw new Error('/listeners: no listener_statuses array');
  const out: { name: string; address: string; port: number }[] = [];
  for (const s of json.listener_statuses as { name?: unknown; local_address?: unknown }[]) {
    const addr = readAddress(s.local_address);
    if (typeof s.name === 'string' && addr) out.push({ name: s.name, ...addr });
  }
  return out;
}

/** `/server_info` → version, state, concurrency. */
export function parseServerInfo(body: string): Pick<AdminSummaryView, 'version' | 'state' | 'concurrency'> {
  const json = JSON.parse(body) as {
    version?: unknown;
    state?: unknown;
    command_line_options?: { concurrency?: unknown };
  };
  const out: Pick<AdminSummaryView, 'version' | 'state' | 'concurrency'> = {};
  if (typeof json.version === 'string') out.version = json.version;
  if (typeof json.state === 'string') out.state = json.state;
  const concurrency = Number(json.command_line_options?.concurrency);
  if (Number.isInteger(concurrency)) out.concurrency = concurrency;
  return out;
}

/**
 * `/stats?format=json` → per listener stat prefix, per worker: downstream_cx_total/active.
 * Stat names look like `listener.0.0.0.0_15006.worker_0.downstream_cx_total`.
 */
export function parseWorkerStats(body: string): Map<string, AdminWorkerStat[]> {
  const json = JSON.parse(body) as { stats?: unknown };
  if (!Array.isArray(json.stats)) throw new Error('/stats: no stats array');
  const out = new Map<string, Map<number, AdminWorkerStat>>();
  for (const s of json.stats as { name?: unknown; value?: unknown }[]) {
    if (typeof s.name !== 'string' || typeof s.value !== 'number') continue;
    const m = /^listener\.(.+)\.worker_(\d+)\.downstream_cx_(total|active)$/.exec(s.name);
    if (!m) continue;
    let workers = out.get(m[1]);
    if (!workers) out.set(m[1], (workers = new Map()));
    const index = Number(m[2]);
    let w = workers.get(index);
    if (!w) workers.set(index, (w = { worker: index, total: 0 }));
    if (m[3] === 'total') w.total = s.value;
    else w.active = s.value;
  }
  return new Map([...out].map(([k, v]) => [k, [...v.values()].sort((a, b) => a.worker - b.worker)]));
}

/** The stat prefix Envoy derives from an address when no stat_prefix is set: `0.0.0.0_15006`. */
export function statPrefixFor(address: string, port: number): string {
  return `${address}_${port}`.replace(/:/g, '_');
}

/**
 * The `mask` for `/config_dump?resource=…_listeners` that keeps only what the balance finding
 * needs: a whole Istio dump is megabytes. Envoy trims inside the listener's Any by these paths,
 * and a path the version's Listener lacks is an error (a crash before masks were validated), so
 * each field is asked for only from the version that has it. Undefined: nothing worth asking.
 */
export function listenerConfigMask(
  version: string | undefined,
  resource: 'dynamic' | 'static',
): string | undefined {
  if (envoyVersionAtLeast(version, 1, 12) !== true) return undefined;
  const fields = ['name', 'address', 'connection_balance_config'];
  if (envoyVersionAtLeast(version, 1, 20)) fields.push('enable_reuse_port');
  else if (envoyVersionAtLeast(version, 1, 13)) fields.push('reuse_port');
  const inner = resource === 'dynamic' ? 'active_state.listener' : 'listener';
  return [...(resource === 'dynamic' ? ['name'] : []), ...fields.map((f) => `${inner}.${f}`)].join(',');
}

/**
 * `/config_dump?resource=dynamic_listeners|static_listeners` → each listener's balancing
 * settings. Absent fields read as the version's defaults: `enable_reuse_port` is on from 1.20
 * (Linux), `reuse_port` was off before.
 */
export function parseListenerConfigs(body: string, version: string | undefined): ListenerBalanceConfig[] {
  const json = JSON.parse(body) as { configs?: unknown };
  if (!Array.isArray(json.configs)) throw new Error('/config_dump: no configs array');
  const out: ListenerBalanceConfig[] = [];
  for (const c of json.configs as Record<string, unknown>[]) {
    const active = c?.active_state as { listener?: unknown } | undefined;
    const listener = (active?.listener ?? c?.listener) as Record<string, unknown> | undefined;
    const name =
      typeof listener?.name === 'string' ? listener.name : typeof c?.name === 'string' ? c.name : undefined;
    if (!listener || !name) continue;
    const config: ListenerBalanceConfig = { name };
    const balance = listener.connection_balance_config as Record<string, unknown> | undefined;
    if (balance && typeof balance === 'object')
      if ('exact_balance' in balance) config.balancer = 'exact_balance';
      else if ('extend_balance' in balance) config.balancer = 'extend_balance';
    const field =
      typeof listener.enable_reuse_port === 'boolean' ? listener.enable_reuse_port : listener.reuse_port;
    const modern = envoyVersionAtLeast(version, 1, 20);
    if (typeof field === 'boolean') {
      config.reusePort = field;
      config.reusePortFrom = 'field';
    } else if (modern !== undefined) {
      config.reusePort = modern;
      config.reusePortFrom = 'default';
    }
    out.push(config);
  }
  return out;
}

/** Each listener's balancing settings, dynamic and static; a failed read is a note, not fatal. */
async function readListenerConfigs(
  get: AdminGet,
  version: string | undefined,
): Promise<{ configs: ListenerBalanceConfig[]; note?: string }> {
  const configs: ListenerBalanceConfig[] = [];
  const problems: string[] = [];
  for (const resource of ['dynamic', 'static'] as const) {
    const mask = listenerConfigMask(version, resource);
    if (!mask) return { configs, note: 'Envoy older than 1.12 has no connection_balance_config to read.' };
    try {
      const body = await get(`/config_dump?resource=${resource}_listeners&mask=${encodeURIComponent(mask)}`);
      configs.push(...parseListenerConfigs(body, version));
    } catch (error) {
      problems.push(`${resource} listeners: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return problems.length > 0 && configs.length === 0
    ? { configs, note: `config_dump not read (${problems.join('; ')})` }
    : { configs };
}

// What an admin port says is untrusted: its texts and lists are cut to sizes the views, the
// session log and the webview's message checks all take (a name of megabytes must not make the
// whole sidebar state unreadable).
const MAX_ADMIN_TEXT = 256;
const MAX_ADMIN_LISTENERS = 4096;
const MAX_ADMIN_WORKERS = 1024;

function cut(text: string): string {
  return text.length > MAX_ADMIN_TEXT ? `${text.slice(0, MAX_ADMIN_TEXT - 1)}…` : text;
}

/** The report with every text and list cut to its bound. */
export function bounded(report: AdminReport): AdminReport {
  const summary = { ...report.summary, address: cut(report.summary.address) };
  for (const key of ['version', 'state', 'error'] as const) {
    const value = summary[key];
    if (value !== undefined) summary[key] = cut(value);
  }
  return {
    summary,
    listeners: report.listeners.slice(0, MAX_ADMIN_LISTENERS).map((l) => {
      const listener: AdminListener = {
        ...l,
        name: cut(l.name),
        address: cut(l.address),
        workers: l.workers.slice(0, MAX_ADMIN_WORKERS),
      };
      if (l.statPrefix !== undefined) listener.statPrefix = cut(l.statPrefix);
      if (l.config) listener.config = { ...l.config, name: cut(l.config.name) };
      return listener;
    }),
  };
}

/** Where an admin API is read: its port, and the words that say where (`127.0.0.1:15000 (netns of pid 7)`). */
export interface AdminPlace {
  label: string;
  port: number;
}

/** Reads the endpoints and joins them per listener. Never calls a mutating endpoint. */
export async function readAdmin(get: AdminGet, where: AdminPlace): Promise<AdminReport> {
  const summary: AdminSummaryView = { address: where.label, port: where.port };
  try {
    // The counters first: they are what a read beside a trace compares, and each GET takes a
    // moment (a process on the node), so the others come after them.
    const stats = parseWorkerStats(
      await get('/stats?format=json&filter=' + encodeURIComponent('^listener\\..*worker_')),
    );
    Object.assign(summary, parseServerInfo(await get('/server_info')));
    const listeners = parseAdminListeners(await get('/listeners?format=json'));
    const { configs, note } = await readListenerConfigs(get, summary.version);
    if (note) summary.configNote = note;
    const report: AdminReport = { summary, listeners: [] };
    for (const l of listeners) {
      const prefix = [statPrefixFor(l.address, l.port), l.name].find((p) => stats.has(p));
      const entry: AdminListener = { ...l, workers: prefix ? stats.get(prefix)! : [] };
      if (prefix) entry.statPrefix = prefix;
      const config = configs.find((c) => c.name === l.name);
      if (config) entry.config = config;
      report.listeners.push(entry);
    }
    if (stats.size === 0)
      summary.statsNote =
        'The admin API has no listener.*.worker_N.* stats. Istio keeps them out by default (stats inclusion list); enable them with the pod annotation proxy.istio.io/config: {proxyStatsMatcher: {inclusionRegexps: ["listener\\\\..*"]}} and restart the proxy.';
    return bounded(report);
  } catch (error) {
    summary.error = error instanceof Error ? error.message : String(error);
    return bounded({ summary, listeners: [] });
  }
}
