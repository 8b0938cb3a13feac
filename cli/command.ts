// The contract every `fieldtrace` subcommand follows. Subcommands call the same modules the
// extension uses (server analysis, frame resolver, state reducer, runner): no second implementation.
import { type Readable, type Writable } from 'node:stream';
import { terminalText } from '../core/text/untrusted';

export interface CliIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  cwd: string;
  env: NodeJS.ProcessEnv;
}

export interface CliCommand {
  name: string;
  /** One line for `fieldtrace --help`. */
  summary: string;
  /** Full `--help` text of the subcommand. */
  usage: string;
  /** Returns the exit code: 0 success, 1 findings (e.g. errors in a script), 2 usage error. */
  run(args: string[], io: CliIo): Promise<number>;
}

/** Thrown for bad arguments: printed as one line, exit code 2. */
export class UsageError extends Error {}

/**
 * The one way the commands print: what they print may hold names, paths and messages from a
 * traced process or a node, so control characters are shown as escapes (terminalText).
 */
export function write(stream: Writable, text: string): void {
  const safe = terminalText(text);
  stream.write(safe.endsWith('\n') ? safe : `${safe}\n`);
}

/** The whole of stdin as text. */
export function readStdin(io: CliIo): Promise<string> {
  return new Promise((done, fail) => {
    let text = '';
    io.stdin.setEncoding('utf8');
    io.stdin.on('data', (chunk: string) => (text += chunk));
    io.stdin.on('end', () => done(text));
    io.stdin.on('error', fail);
  });
}
