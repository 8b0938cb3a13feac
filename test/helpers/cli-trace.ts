// `fieldtrace run --listener-trace` as users run it, for tests that trace a real target through the
// command line: started through tsx, followed through its session log (replayed by the product's
// reducer while it runs), stopped with SIGINT as a user's Ctrl+C (so the stop's own work, such as
// the last Envoy admin read, happens), and its log replayed by `fieldtrace state`.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import type { SessionTraceEvent } from '../../common/events';
import type { ListenerState, ListenerView } from '../../common/listeners-protocol';
import { ListenerReducer } from '../../core/listeners/reducer';
import { REPO_ROOT } from './cli';
import { interrupt, waitFor } from './listener-trace';

export interface CliTrace {
  /** The session log's lines so far. */
  lines(): string[];
  /** The listener state of the log so far. */
  state(): ListenerState;
  logPath(): string;
  /** Wall time from `attached` to the end of stop(), in seconds (after stop). */
  seconds(): number;
  /** SIGINT as a user's Ctrl+C (see interrupt()); resolves once the CLI has exited. */
  stop(): Promise<void>;
}

export interface CliTraceOptions {
  /** What `--target` is given: a pid, a process name, container:PID. */
  target: string;
  /** The `--log-dir`; the test owns it. */
  logDir: string;
  /** More options of `fieldtrace run`, e.g. `['--envoy-admin', '127.0.0.1:9901']`. */
  args?: string[];
}

/** `fieldtrace run --listener-trace --target TARGET …`, resolved once the trace has attached. */
export async function startCliTrace(t: TestContext, options: CliTraceOptions): Promise<CliTrace> {
  const { target, logDir } = options;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(REPO_ROOT, 'cli/main.ts'),
      'run',
      '--listener-trace',
      '--target',
      target,
      '--log-dir',
      logDir,
      ...(options.args ?? []),
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-8192)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let attachedAt = 0;
  let stoppedAt = 0;
  const stop = async () => {
    await interrupt(child, exited);
    stoppedAt ||= Date.now();
  };
  t.after(stop);
  const logPath = () => {
    const file = readdirSync(logDir).find((f) => f.endsWith('.jsonl'));
    return file ? path.join(logDir, file) : '';
  };
  const lines = () => (logPath() ? readFileSync(logPath(), 'utf8').split('\n').filter(Boolean) : []);
  await waitFor(
    'the trace to attach',
    () => {
      if (child.exitCode !== null) throw new Error(`fieldtrace run exited: ${stderr}`);
      return lines().some((l) => l.includes('"type":"attached"')) ? true : undefined;
    },
    { timeoutMs: 90_000, detail: () => stderr, everyMs: 100 },
  );
  attachedAt = Date.now();
  return {
    lines,
    logPath,
    state: () => {
      const reducer = new ListenerReducer();
      for (const l of lines()) reducer.apply(JSON.parse(l) as SessionTraceEvent);
      return reducer.state();
    },
    seconds: () => ((stoppedAt || Date.now()) - attachedAt) / 1000,
    stop,
  };
}

/** The open listener on `port` of process `pid`. */
export function listenerOf(state: ListenerState, pid: number, port: number): ListenerView | undefined {
  return state.processes.find((p) => p.pid === pid)?.listeners.find((l) => l.port === port && !l.closed);
}

/** `fieldtrace state` on a session log, as JSON and as Markdown. */
export function replay(log: string): { state: ListenerState; markdown: string } {
  const run = (format: string) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', path.join(REPO_ROOT, 'cli/main.ts'), 'state', '--format', format, log],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
  const json = run('json');
  assert.equal(json.status, 0, json.stderr);
  return { state: JSON.parse(json.stdout) as ListenerState, markdown: run('markdown').stdout };
}
