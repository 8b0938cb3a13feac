// Running one program on a node with arguments (never a shell line of user text): on this
// machine through execFile, on a node through its transport with every word quoted by
// shellCommand() (and `sudo -n` in front where the node grants root that way).
import { execFile } from 'node:child_process';
import { shellCommand } from './shell';
import { execOnNode, type NodeTransport } from './transport';

/** Runs a program with arguments (never through a shell) and returns its stdout. */
export type CommandRunner = (argv: string[]) => Promise<string>;

export const localRunner: CommandRunner = (argv) =>
  new Promise((resolve, reject) => {
    execFile(
      argv[0],
      argv.slice(1),
      { timeout: 15_000, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`${argv.join(' ')}: ${stderr.trim() || error.message}`));
        else resolve(stdout);
      },
    );
  });

/**
 * A runner over a node transport (this machine or SSH): the words are quoted into one command
 * line, prefixed by `sudo -n` when the node grants privileges that way.
 */
export function transportRunner(
  transport: NodeTransport,
  privilege: 'root' | 'sudo' | undefined,
): CommandRunner {
  return async (argv) => {
    const words = privilege === 'sudo' ? ['sudo', '-n', ...argv] : argv;
    const r = await execOnNode(transport, shellCommand(words), { timeoutMs: 20_000 });
    if (r.code !== 0)
      throw new Error(
        `${argv[0]} on ${transport.nodeId} failed (exit ${r.code}): ${r.stderr.trim().slice(0, 300)}`,
      );
    return r.stdout;
  };
}
