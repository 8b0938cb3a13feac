// Test helpers for the mini-Envoy target (test/targets/mini-envoy): build it, start it, stop it.
// Every test that traces a real process uses these, so a started target is always stopped:
// stop() escalates from SIGTERM to SIGKILL, and targets still running when the test process
// exits are killed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export const TARGETS_DIR = __dirname;
export const BUILD_DIR = path.join(TARGETS_DIR, 'build');

export interface MiniEnvoyBinaries {
  /** g++ -g -O0 -fno-omit-frame-pointer (libstdc++ frames). */
  gcc: string;
  /** clang++ -stdlib=libc++ -g -O0 -fno-omit-frame-pointer (Envoy's toolchain: `$_N`, `std::__1::`). */
  clang: string;
  /** clang++ -stdlib=libc++ -g -O2 -fno-omit-frame-pointer (inlined frames, for DWARF tests). */
  clangO2: string;
}

let building: Promise<MiniEnvoyBinaries> | undefined;

/** Builds the three binaries once per test process (build.sh itself skips up-to-date ones). */
export function buildMiniEnvoy(): Promise<MiniEnvoyBinaries> {
  building ??= execFileAsync('bash', [path.join(TARGETS_DIR, 'build.sh')], {
    maxBuffer: 16 * 1024 * 1024,
  }).then(
    () => ({
      gcc: path.join(BUILD_DIR, 'gcc', 'envoy'),
      clang: path.join(BUILD_DIR, 'clang', 'envoy'),
      clangO2: path.join(BUILD_DIR, 'clang-O2', 'envoy'),
    }),
    (error: { stderr?: string; message: string }) => {
      building = undefined;
      throw new Error(`building the mini-Envoy failed: ${error.stderr || error.message}`);
    },
  );
  return building;
}

export interface MiniEnvoyOptions {
  /** Path of the binary; default: the g++ build (built on demand). */
  binary?: string;
  /** Envoy >= 1.20 layout: one SO_REUSEPORT socket per worker, all made on the main thread. */
  reusePort?: boolean;
  /**
   * Every listener gets `connection_balance_config.exact_balance`: the worker that accepts hands
   * each connection to the worker with the fewest (it owns and counts it from then on).
   */
  exactBalance?: boolean;
  /** Worker threads (default 2). */
  concurrency?: number;
  /** Listener addresses `ip:port` or `[ip6]:port` (default two on 127.0.0.1:0). */
  listeners?: string[];
  /** Admin port (default 0: a free port on 127.0.0.1). */
  adminPort?: number;
  /** Command words put before the binary, e.g. `['ip', 'netns', 'exec', 'ns1']` (they must exec it). */
  prefix?: string[];
  /** How long to wait for the ready line (default 10 s). */
  readyTimeoutMs?: number;
}

export interface MiniEnvoyListener {
  name: string;
  address: string;
  port: number;
}

export interface MiniEnvoy {
  /** Process id of the target (from its ready line: the real one even behind a prefix). */
  pid: number;
  adminAddress: string;
  adminPort: number;
  /** Listener ports, in the order of `listeners`. */
  ports: number[];
  listeners: MiniEnvoyListener[];
  concurrency: number;
  reusePort: boolean;
  exactBalance: boolean;
  child: ChildProcess;
  /** Everything the target wrote to stderr so far. */
  stderr(): string;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

interface ReadyLine {
  ready: true;
  pid: number;
  admin: { address: string; port: number };
  listeners: MiniEnvoyListener[];
  concurrency: number;
  reuse_port: boolean;
  exact_balance: boolean;
}

function isReadyLine(value: unknown): value is ReadyLine {
  const v = value as Partial<ReadyLine> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.ready === true &&
    typeof v.pid === 'number' &&
    typeof v.admin?.port === 'number' &&
    Array.isArray(v.listeners)
  );
}

/** Starts the target and resolves when it has printed its ready line (all workers listening). */
export async function startMiniEnvoy(opts: MiniEnvoyOptions = {}): Promise<MiniEnvoy> {
  const binary = opts.binary ?? (await buildMiniEnvoy()).gcc;
  const args: string[] = [];
  if (opts.reusePort) args.push('--reuse-port');
  if (opts.exactBalance) args.push('--exact-balance');
  if (opts.concurrency !== undefined) args.push('--concurrency', String(opts.concurrency));
  if (opts.adminPort !== undefined) args.push('--admin-port', String(opts.adminPort));
  for (const listener of opts.listeners ?? []) args.push('--listener', listener);
  const argv = [...(opts.prefix ?? []), binary, ...args];

  installExitHook();
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });

  const stop = async (graceMs = 5000) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };

  const timeoutMs = opts.readyTimeoutMs ?? 10_000;
  try {
    const ready = await new Promise<ReadyLine>((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(
        () => reject(new Error(`mini-Envoy printed no ready line within ${timeoutMs} ms; stderr: ${stderr}`)),
        timeoutMs,
      );
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk;
        const newline = stdout.indexOf('\n');
        if (newline < 0) return;
        clearTimeout(timer);
        try {
          const parsed: unknown = JSON.parse(stdout.slice(0, newline));
          if (isReadyLine(parsed)) resolve(parsed);
          else reject(new Error(`unexpected first line from mini-Envoy: ${stdout.slice(0, newline)}`));
        } catch {
          reject(new Error(`unexpected first line from mini-Envoy: ${stdout.slice(0, newline)}`));
        }
      });
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      void exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(
          new Error(`mini-Envoy exited (code ${code}, signal ${signal}) before it was ready: ${stderr}`),
        );
      });
    });
    return {
      pid: ready.pid,
      adminAddress: ready.admin.address,
      adminPort: ready.admin.port,
      ports: ready.listeners.map((l) => l.port),
      listeners: ready.listeners,
      concurrency: ready.concurrency,
      reusePort: ready.reuse_port,
      exactBalance: ready.exact_balance,
      child,
      stderr: () => stderr,
      stop,
    };
  } catch (error) {
    await stop(1000);
    throw error;
  }
}
