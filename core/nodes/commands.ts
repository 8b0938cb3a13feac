// The one way to run a program on a node with arguments (never a shell line of user text): on
// this machine through execFile, on a node through its transport with every word quoted by
// shellCommand() (and `sudo -n` in front where the node grants root that way). Every call is
// bounded in time and output; the bounds are the command's own (a `ps` and a DWARF lookup of a
// large binary need very different ones), given per call.
import { execFile } from 'node:child_process';
import { shellCommand } from './shell';
import { execOnNode, type NodeTransport } from './transport';

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
