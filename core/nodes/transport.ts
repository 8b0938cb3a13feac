// How the runner and the probe reach a node: this machine (child_process) or SSH (ssh2).
// Both take one shell command line, always built with shellCommand() from quoted words.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { LOCAL_NODE } from '../../common/nodes';

export interface ProcessExit {
  code: number | null;
  signal: string | null;
}

export interface NodeProcess {
  readonly stdout: Readable;
  readonly stderr: Readable;
  readonly stdin: Writable;
  readonly exited: Promise<ProcessExit>;
  /** Drops the channel (SSH) or kills the shell (local); the remote wrapper notices EOF. */
  destroy(): void;
}

export interface ExecResult extends ProcessExit {
  stdout: string;
  stderr: string;
}

export interface NodeTransport {
  /** "local" or the SSH destination as the user named it. */
  readonly nodeId: string;
  /** Starts `/bin/sh -c command` on the node (the login shell never interprets our words). */
  spawn(command: string): Promise<NodeProcess>;
  /** Writes a file the node's user can read; `mode` applies on creation. */
  writeFile(file: string, content: string | Buffer, mode: number): Promise<void>;
  /** Resolves when the connection is gone (never for local). */
  readonly closed: Promise<void>;
  close(): void;
}

/** Runs a command to completion, collecting its output (capped: probes only). */
export async function execOnNode(
  transport: NodeTransport,
  command: string,
  options: { stdin?: string; timeoutMs?: number; maxBytes?: number } = {},
): Promise<ExecResult> {
  const proc = await transport.spawn(command);
  const max = options.maxBytes ?? 16 * 1024 * 1024;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outBytes = 0;
  let errBytes = 0;
  proc.stdout.on('data', (b: Buffer) => {
    if ((outBytes += b.length) <= max) out.push(b);
  });
  proc.stderr.on('data', (b: Buffer) => {
    if ((errBytes += b.length) <= max) err.push(b);
  });
  proc.stdin.on('error', () => undefined);
  proc.stdin.end(options.stdin ?? '');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      proc.destroy();
      reject(
        new Error(
          `'${command.slice(0, 80)}' on ${transport.nodeId} did not finish in ${options.timeoutMs} ms`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
  });
  try {
    const exit = await Promise.race([proc.exited, timeout]);
    // Let the pipes drain: 'exit' can precede the last 'data'.
    await Promise.all([streamDone(proc.stdout), streamDone(proc.stderr)]);
    return {
      ...exit,
      stdout: Buffer.concat(out).toString('utf8'),
      stderr: Buffer.concat(err).toString('utf8'),
    };
  } finally {
    clearTimeout(timer);
  }
}

export function streamDone(stream: Readable): Promise<void> {
  if (stream.readableEnded || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => resolve();
    stream.once('end', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

/** This machine: `/bin/sh -c` through child_process; files are written directly. */
export class LocalTransport implements NodeTransport {
  readonly nodeId = LOCAL_NODE;
  readonly closed = new Promise<void>(() => undefined);
  private readonly children = new Set<ReturnType<typeof spawn>>();

  async spawn(command: string): Promise<NodeProcess> {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    const exited = new Promise<ProcessExit>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        this.children.delete(child);
        resolve({ code, signal });
      });
    });
    return {
      stdout: child.stdout,
      stderr: child.stderr,
      stdin: child.stdin,
      exited,
      destroy: () => {
        // Closing stdin is what the wrapper watches; SIGKILL of the shell alone would orphan it.
        child.stdin.destroy();
        child.stdout.destroy();
        child.stderr.destroy();
      },
    };
  }

  async writeFile(file: string, content: string | Buffer, mode: number): Promise<void> {
    await writeFile(file, content, { mode, flag: 'wx' });
  }

  close(): void {
    for (const c of this.children) c.stdin?.destroy();
  }
}

/** A private temp folder on this machine (tests and the CLI's local runs use it for logs). */
export async function localPrivateDir(prefix: string): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
