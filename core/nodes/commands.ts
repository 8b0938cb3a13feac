// The one way to run a program on a node with arguments (never a shell line of user text): on
// this machine through execFile, on a node through its transport with every word quoted by
// shellCommand() (and `sudo -n` in front where the node grants root that way). Every call is
// bounded in time and output; the bounds are the command's own (a `ps` and a DWARF lookup of a
// large binary need very different ones), given per call.
import { execFile } from 'node:child_process';
import { StringDecoder } from 'node:string_decoder';
import { shellCommand } from './shell';
import { execOnNode, streamDone, type NodeTransport } from './transport';

export interface CommandLimits {
  /** The command is stopped, and the call fails, after this long. */
  timeoutMs: number;
  /** Output beyond this many bytes: fails locally (execFile), is cut on a node (execOnNode). */
  maxBytes: number;
}

/** Enough for the probes, `ps`, `ss`, `/proc` reads and the admin checks. */
export const COMMAND_LIMITS: CommandLimits = { timeoutMs: 20_000, maxBytes: 32 * 1024 * 1024 };

/**
 * Runs a program with arguments (never through a shell) and returns its stdout; fails with the
 * program's stderr when it exits non-zero, runs out of time or writes too much.
 */
export type CommandRunner = (argv: string[], limits?: Partial<CommandLimits>) => Promise<string>;

export const localRunner: CommandRunner = (argv, limits) => {
  const { timeoutMs, maxBytes } = { ...COMMAND_LIMITS, ...limits };
  return new Promise((resolve, reject) => {
    execFile(
      argv[0],
      argv.slice(1),
      { timeout: timeoutMs, maxBuffer: maxBytes, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${argv.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
  });
};

/**
 * A runner over a node transport (this machine or SSH): the words are quoted into one command
 * line, prefixed by `sudo -n` when the node grants privileges that way.
 */
export function transportRunner(transport: NodeTransport, privilege?: 'root' | 'sudo'): CommandRunner {
  return async (argv, limits) => {
    const { timeoutMs, maxBytes } = { ...COMMAND_LIMITS, ...limits };
    const words = privilege === 'sudo' ? ['sudo', '-n', ...argv] : argv;
    const r = await execOnNode(transport, shellCommand(words), { timeoutMs, maxBytes });
    if (r.code !== 0)
      throw new Error(
        `${argv[0]} on ${transport.nodeId} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
      );
    return r.stdout;
  };
}

export interface StreamLimits {
  privilege?: 'root' | 'sudo';
  /** Whole run, default 120 s: symbol tables of large binaries take seconds to print. */
  timeoutMs?: number;
  /** Bytes of stdout read before the command is stopped, default 1 GiB. */
  maxBytes?: number;
  /** Longer lines are cut (never buffered whole), default 64 KiB. */
  maxLineBytes?: number;
}

export interface StreamResult {
  code: number | null;
  stderr: string;
  bytes: number;
  /** True when maxBytes stopped the command before its end. */
  truncated: boolean;
}

/**
 * Runs a program with arguments on a node and hands its stdout to `onLine` line by line as it
 * arrives, so that outputs of hundreds of MB (symbol tables) are never held whole. A non-zero
 * exit is returned, not thrown: tools like readelf print what they can and then fail.
 */
export async function streamLines(
  transport: NodeTransport,
  argv: string[],
  onLine: (line: string) => void,
  limits: StreamLimits = {},
): Promise<StreamResult> {
  const words = limits.privilege === 'sudo' ? ['sudo', '-n', '--', ...argv] : argv;
  const proc = await transport.spawn(shellCommand(words));
  const maxBytes = limits.maxBytes ?? 1024 * 1024 * 1024;
  const maxLine = limits.maxLineBytes ?? 64 * 1024;
  let bytes = 0;
  let truncated = false;
  // Text, not per-line Buffers: splitting decoded chunks is several times faster on the
  // millions of lines of a symbol table. The decoder keeps a character split across chunks.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let stderr = '';
  const emit = (line: string) => onLine(line.length > maxLine ? line.slice(0, maxLine) : line);
  proc.stdout.on('data', (b: Buffer) => {
    if (truncated) return;
    bytes += b.length;
    const lines = (rest + decoder.write(b)).split('\n');
    rest = lines.pop() ?? '';
    if (rest.length > maxLine) rest = rest.slice(0, maxLine);
    for (const line of lines) emit(line);
    if (bytes > maxBytes) {
      truncated = true;
      proc.destroy();
    }
  });
  proc.stderr.on('data', (b: Buffer) => {
    if (stderr.length < 4096) stderr += b.toString('utf8');
  });
  proc.stdin.on('error', () => undefined);
  proc.stdin.end();
  let timer: NodeJS.Timeout | undefined;
  const timeoutMs = limits.timeoutMs ?? 120_000;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.destroy();
      reject(new Error(`${argv[0]} on ${transport.nodeId} did not finish in ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  try {
    const exit = await Promise.race([proc.exited, timeout]);
    await Promise.all([streamDone(proc.stdout), streamDone(proc.stderr)]);
    rest += decoder.end();
    if (rest && !truncated) emit(rest);
    return { code: truncated ? null : exit.code, stderr: stderr.slice(0, 4096), bytes, truncated };
  } finally {
    clearTimeout(timer);
  }
}
