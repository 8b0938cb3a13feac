// Runs the `fieldtrace` command line as a child process, as users and CI pipelines do.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BUNDLED_CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** true: the bundled dist/cli.js (default); false: cli/main.ts through tsx. */
  bundled?: boolean;
  /** Sends SIGINT (a user's Ctrl+C) the first time stdout satisfies this. */
  interruptWhen?: (stdout: string) => boolean;
}

/** Killed after 60 s so that a hung command fails its test instead of the whole run. */
export function runFieldtrace(args: string[], options: CliRunOptions = {}): Promise<CliRun> {
  const entry =
    options.bundled === false ? ['--import', 'tsx', path.join(REPO_ROOT, 'cli/main.ts')] : [BUNDLED_CLI];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: options.cwd ?? REPO_ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!interrupted && options.interruptWhen?.(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
