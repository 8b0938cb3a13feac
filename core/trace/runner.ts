// Runs bpftrace on a node through any transport (this machine or SSH) and turns its output into
// typed events. bpftrace runs under a small sh wrapper that owns the stop protocol and dies with
// its channel: a line `int` on stdin sends SIGINT (bpftrace prints its maps and exits), `kill`
// sends SIGKILL, and EOF (channel closed, SSH dropped, editor gone) stops bpftrace on its own.
import { randomBytes } from 'node:crypto';
import { StringDecoder } from 'node:string_decoder';
import type { TraceEvent } from '../../common/events';
import { parsePs } from '../nodes/processes';
import { shellCommand, shellQuote } from '../nodes/shell';
import { execOnNode, type NodeProcess, type NodeTransport, type ProcessExit } from '../nodes/transport';

/** What the runner needs from the stream parser (core/trace/stream-parser.ts implements it). */
export interface TraceOutputParser {
  pushStdout(chunk: string): TraceEvent[];
  pushStderr(chunk: string): TraceEvent[];
  end(): TraceEvent[];
}

export type Privilege = 'root' | 'sudo';

export interface TraceRunOptions {
  transport: NodeTransport;
  /** The program text; it travels as a file (SFTP or a local write), never through a shell. */
  script: string;
  /** File name the node sees (bpftrace's errors name it); any characters but `/` and NUL. */
  scriptName?: string;
  /** bpftrace options placed before the script (e.g. `-q`, `-p 1234`). */
  bpftraceOptions?: string[];
  /** Positional parameters ($1, $2, …) placed after the script. */
  positional?: string[];
  /** How the node grants bpftrace its privileges (from the node probe). */
  privilege: Privilege;
  /** bpftrace command on the node (default: `bpftrace` from PATH). */
  bpftrace?: string;
  /** Environment for bpftrace (names `[A-Z_][A-Z0-9_]*`), passed through `env`. */
  environment?: Record<string, string>;
  parser: TraceOutputParser;
  onEvent(event: TraceEvent): void;
  /**
   * How the script reaches the node: `stdin` (default: the wrapper makes the folder and reads
   * the script first, one channel in all) or `file` (mktemp, then SFTP or a local write).
   */
  transfer?: 'stdin' | 'file';
  /** Wait after SIGINT before SIGKILL, then after SIGKILL before dropping the channel. */
  stopTimeoutsMs?: { interrupt: number; kill: number };
}

export interface TraceEnd {
  exitCode: number | null;
  signal: string | null;
  reason?: string;
}

// The wrapper gets everything as arguments ("$@"), so no user text is ever part of the program
// below: a private folder (or, with a script size, a mktemp template: the script then arrives
// first on stdin, which saves two SSH channel round trips), the script's file name, how many
// bpftrace words go before the script, then the bpftrace words and the positional parameters.
// `--` goes before the script: bpftrace's getopt reorders its arguments, so a positional `-c cmd`
// or `--unsafe` after the script would otherwise be read as an option (as root on the node).
// Background jobs of a non-interactive sh ignore SIGINT; bpftrace installs its own handler, so
// `kill -INT` still reaches it. Such a job also gets /dev/null as stdin, hence the copy on fd 3.
const WRAPPER = `dir=$1 name=$2 size=$3 nopts=$4
shift 4
umask 077
if [ "$size" != - ]; then
  dir=$(mktemp -d "$dir.XXXXXXXX") || exit 125
  head -c "$size" > "$dir/$name" || { rm -rf "$dir"; exit 125; }
fi
i=0
for w do
  [ "$i" = "$nopts" ] && set -- "$@" -- "$dir/$name"
  set -- "$@" "$w"
  shift
  i=$((i+1))
done
[ "$i" = "$nopts" ] && set -- "$@" -- "$dir/$name"
exec 3<&0
"$@" </dev/null 3<&- &
bt=$!
(
  while IFS= read -r cmd <&3; do
    case $cmd in
      int) kill -INT "$bt" 2>/dev/null ;;
      kill) kill -KILL "$bt" 2>/dev/null ;;
    esac
  done
  exec 3<&-
  kill -INT "$bt" 2>/dev/null
  i=0
  while kill -0 "$bt" 2>/dev/null && [ "$i" -lt 30 ]; do sleep 0.1; i=$((i+1)); done
  kill -KILL "$bt" 2>/dev/null
) &
watch=$!
wait "$bt"
rc=$?
kill "$watch" 2>/dev/null
rm -rf "$dir"
exit "$rc"`;

/** The shell line that runs the wrapper (exported for tests of the quoting). */
export function wrapperCommand(
  privilege: Privilege,
  run: { dir: string; scriptName: string; stdinBytes?: number },
  before: readonly string[],
  after: readonly string[],
): string {
  const words = [
    '/bin/sh',
    '-c',
    WRAPPER,
    'fieldtrace-wrapper',
    run.dir,
    run.scriptName,
    run.stdinBytes === undefined ? '-' : String(run.stdinBytes),
    String(before.length),
    ...before,
    ...after,
  ];
  return `exec ${shellCommand(privilege === 'sudo' ? ['sudo', '-n', '--', ...words] : words)}`;
}

export function safeScriptName(name: string | undefined): string {
  const base = (name ?? '').split('/').pop()?.replace(/\0/g, '') ?? '';
  return base && base !== '.' && base !== '..' ? base : 'script.bt';
}

/** Makes a mode-700 folder on the node for one run (mktemp -d creates it 0700). */
export async function makeRunDir(transport: NodeTransport): Promise<string> {
  const tag = randomBytes(6).toString('hex');
  const result = await execOnNode(
    transport,
    `umask 077 && mktemp -d ${shellQuote('/tmp/')}"fieldtrace.${tag}.XXXXXXXX"`,
    { timeoutMs: 15_000 },
  );
  const dir = result.stdout.trim();
  if (result.code !== 0 || !dir.startsWith('/tmp/fieldtrace.'))
    throw new Error(
      `${transport.nodeId}: cannot create a private temp folder: ${result.stderr.trim() || `exit ${result.code}`}`,
    );
  return dir;
}

/** PIDs of bpftrace processes on the node whose command line names `dir` (ours, nobody else's). */
export async function remainingBpftrace(transport: NodeTransport, dir: string): Promise<number[]> {
  const result = await execOnNode(transport, 'ps -eo pid=,args=', { timeoutMs: 15_000 });
  // The wrapper's own sh also names the folder; only bpftrace (or sudo running it) counts.
  return parsePs(result.stdout)
    .filter(
      ({ commandLine: args }) =>
        args.includes(dir) && /(^|[\s/])bpftrace(\s|$)/.test(args) && !args.includes('fieldtrace-wrapper'),
    )
    .map((p) => p.pid);
}

export class TraceRun {
  readonly ended: Promise<TraceEnd>;
  private stopping: Promise<TraceEnd> | undefined;
  private finished = false;
  private endReason: string | undefined;

  private constructor(
    readonly transport: NodeTransport,
    /** The run's folder on the node, or its unique prefix (`/tmp/fieldtrace.<tag>`) with stdin transfer. */
    readonly dir: string,
    readonly scriptPath: string,
    private readonly proc: NodeProcess,
    private readonly options: TraceRunOptions,
  ) {
    const emit = (events: TraceEvent[]) => {
      for (const e of events) if (e.type !== 'ended') options.onEvent(e);
    };
    const out = new StringDecoder('utf8');
    const err = new StringDecoder('utf8');
    proc.stdout.on('data', (b: Buffer) => emit(options.parser.pushStdout(out.write(b))));
    proc.stderr.on('data', (b: Buffer) => emit(options.parser.pushStderr(err.write(b))));
    proc.stdin.on('error', () => undefined);
    proc.stdout.on('error', () => undefined);
    proc.stderr.on('error', () => undefined);
    const drained = Promise.all([
      new Promise<void>((r) => proc.stdout.once('close', r).once('end', r)),
      new Promise<void>((r) => proc.stderr.once('close', r).once('end', r)),
    ]);
    this.ended = proc.exited
      .catch((error: Error): ProcessExit => {
        this.endReason ??= error.message;
        return { code: null, signal: null };
      })
      .then(async (exit) => {
        // Output can trail the exit notice; give the pipes a moment to deliver it.
        await Promise.race([drained, new Promise((r) => setTimeout(r, 500))]);
        emit(options.parser.pushStdout(out.end()));
        emit(options.parser.pushStderr(err.end()));
        emit(options.parser.end());
        this.finished = true;
        const end: TraceEnd = { exitCode: exit.code, signal: exit.signal, reason: this.endReason };
        options.onEvent({ type: 'ended', exitCode: end.exitCode, signal: end.signal, reason: end.reason });
        return end;
      });
    void transport.closed.then(() => {
      if (!this.finished) this.endReason ??= `connection to ${transport.nodeId} lost`;
    });
  }

  static async start(options: TraceRunOptions): Promise<TraceRun> {
    const { transport } = options;
    const scriptName = safeScriptName(options.scriptName);
    const env = Object.entries(options.environment ?? {}).map(([k, v]) => {
      if (!/^[A-Z_][A-Z0-9_]*$/.test(k)) throw new Error(`'${k}' is not an environment variable name`);
      return `${k}=${v}`;
    });
    const before = [
      ...(env.length ? ['env', ...env] : []),
      options.bpftrace ?? 'bpftrace',
      '-f',
      'json',
      ...(options.bpftraceOptions ?? []),
    ];
    const after = options.positional ?? [];
    if (options.transfer === 'file') {
      const dir = await makeRunDir(transport);
      const scriptPath = `${dir}/${scriptName}`;
      try {
        await transport.writeFile(scriptPath, options.script, 0o600);
      } catch (error) {
        await execOnNode(transport, shellCommand(['rm', '-rf', dir])).catch(() => undefined);
        throw error;
      }
      const proc = await transport.spawn(
        wrapperCommand(options.privilege, { dir, scriptName }, before, after),
      );
      return new TraceRun(transport, dir, scriptPath, proc, options);
    }
    // The folder's name is known up to mktemp's suffix: the tag alone identifies our processes.
    const prefix = `/tmp/fieldtrace.${randomBytes(6).toString('hex')}`;
    const script = Buffer.from(options.script, 'utf8');
    const proc = await transport.spawn(
      wrapperCommand(
        options.privilege,
        { dir: prefix, scriptName, stdinBytes: script.length },
        before,
        after,
      ),
    );
    proc.stdin.write(script);
    return new TraceRun(transport, prefix, `${prefix}.*/${scriptName}`, proc, options);
  }

  get running(): boolean {
    return !this.finished;
  }

  /** SIGINT (maps are printed), then SIGKILL, then the channel is dropped. */
  stop(reason = 'stopped'): Promise<TraceEnd> {
    this.stopping ??= (async () => {
      this.endReason ??= reason;
      const { interrupt, kill } = this.options.stopTimeoutsMs ?? { interrupt: 10_000, kill: 3_000 };
      const within = (ms: number) =>
        Promise.race([
          this.ended.then(() => true),
          new Promise<boolean>((r) => setTimeout(() => r(false), ms).unref()),
        ]);
      this.proc.stdin.write('int\n');
      if (!(await within(interrupt))) {
        this.endReason = `${reason}; bpftrace ignored SIGINT for ${interrupt} ms and was killed`;
        this.proc.stdin.write('kill\n');
        if (!(await within(kill))) this.proc.destroy();
      }
      return this.ended;
    })();
    return this.stopping;
  }

  /** Drops the channel at once; the wrapper on the node stops bpftrace when it sees EOF. */
  abandon(reason: string): void {
    this.endReason ??= reason;
    this.proc.destroy();
  }
}
