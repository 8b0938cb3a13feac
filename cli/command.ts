// The contract every `fieldtrace` subcommand follows. Subcommands call the same modules the
// extension uses (server analysis, frame resolver, state reducer, runner): no second implementation.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
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

/** Why a file could not be read: the common causes in words, the rest as the system says it. */
function unreadable(error: unknown): string {
  const { code, message } = error as NodeJS.ErrnoException;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return message ?? String(error);
}

/**
 * A text file an operand or option names, relative to the working directory; one that cannot be
 * read is a usage error that says why in words (`<label>: no such file`).
 */
export async function readTextFile(file: string, io: CliIo, label = `cannot read ${file}`): Promise<string> {
  try {
    return await readFile(resolve(io.cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`${label}: ${unreadable(error)}`);
  }
}

/** One FILE operand read as it comes (`-`: stdin): run's SCRIPT, state's LOGs. */
export async function readOperand(file: string, io: CliIo): Promise<string> {
  return file === '-' ? readStdin(io) : readTextFile(file, io);
}

/**
 * The FILE operands of a command that reads them with readInputs: stdin (`-`) can be read only
 * once; with `what`, at least one is required.
 */
export function checkInputFiles(files: readonly string[], what?: string): void {
  if (what && !files.length) throw new UsageError(`no ${what} given (FILE..., or - for stdin)`);
  if (files.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
}

/**
 * The files named on the command line (`-`: stdin), all read before anything is printed or
 * changed, so that an unreadable one is a usage error that comes first.
 */
export async function readInputs(
  files: readonly string[],
  io: CliIo,
): Promise<Array<{ file: string; text: string }>> {
  checkInputFiles(files);
  const inputs: Array<{ file: string; text: string }> = [];
  for (const file of files) {
    inputs.push({ file, text: await readOperand(file, io) });
  }
  return inputs;
}
