// ProxyCommand as OpenSSH runs it: `exec COMMAND` through the user's shell, whose stdin/stdout
// carry the SSH connection. The process lives exactly as long as the connection that uses it.
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a proxy wrote on stderr is kept for the failure message, at most this much (the tail). */
const STDERR_LIMIT = 4096;

export interface ProxyProcess {
  /** The SSH transport: writes go to the command's stdin, reads come from its stdout. */
  sock: Duplex;
  /** Why the proxy failed, for a connection error: exit status and the tail of its stderr. */
  describeFailure(waitMs?: number): Promise<string>;
  /** Ends the proxy (SIGHUP, as OpenSSH does when its connection ends); idempotent. */
  stop(): void;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startProxyCommand(command: string, env: NodeJS.ProcessEnv = process.env): ProxyProcess {
  const shell = env.SHELL || '/bin/sh';
  const child = spawn(shell, ['-c', `exec ${command}`], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-STDERR_LIMIT);
  });
  let spawnError: Error | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('error', (error) => {
      spawnError = error;
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  // A proxy that dies mid-write must not crash the extension host with EPIPE.
  child.stdin.on('error', () => undefined);
  const sock = Duplex.from({ readable: child.stdout, writable: child.stdin });
  sock.on('error', () => undefined);
  let stopped = false;
  return {
    sock,
    exited,
    stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGHUP');
    },
    async describeFailure(waitMs = 1000) {
      const status = await Promise.race([exited, sleep(waitMs, undefined, { ref: false })]);
      const how = spawnError
        ? `could not start (${spawnError.message})`
        : status === undefined
          ? 'is still running'
          : status.signal
            ? `ended by ${status.signal}`
            : `exited with code ${status.code}`;
      const text = visibleText(stderr.trim());
      return `ProxyCommand \`${visibleText(command)}\` ${how}${text ? `: ${text}` : ''}`;
    },
  };
}

/** Control bytes shown as `\xNN`: a proxy's output must not steer the terminal or the message. */
function visibleText(text: string): string {
  return text.replace(
    // eslint-disable-next-line no-control-regex
    /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}
