// Runs the real `bpftrace -d` on a script and reduces its output to a verdict: error or not, and
// where the first error is. Shared by scripts/record-corpus.ts and the differential test.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { declaresUnsafe } from '../../common/pragmas';

export interface Verdict {
  error: boolean;
  /** 1-based line of the first reported error; null when bpftrace gave no location. */
  line?: number | null;
  /** bpftrace locates some errors by a range of lines (`FILE:4-6: ERROR`, a probe with the blank
   * lines before it): the last line of that range. */
  lineEnd?: number;
  message?: string;
  /** The script failed only because a #include could not be compiled here (no kernel headers). */
  includeFailure?: boolean;
}

export interface ExpectationFile {
  bpftrace: string;
  kernel: string;
  scripts: Record<string, Verdict>;
}

/** Expectations for dialects we cannot run here, written by hand from bpftrace's docs. */
export interface DialectExpectationFile {
  dialect: string;
  scripts: Record<string, { error: boolean; line?: number }>;
}

export const CORPUS_DIR = __dirname;
/** Scripts of newer dialects only (expected-<version>.json), not part of the 0.17 recording. */
export const NEWER_DIR = 'newer';

/** Every `.bt` file of the corpus as a path relative to the corpus folder, sorted. */
export function corpusScripts(dir = CORPUS_DIR): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (d === CORPUS_DIR && name === NEWER_DIR) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.bt')) out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out;
}

/** The corpus's class of a script: its folder. */
export function scriptClass(script: string): string {
  return script.split('/')[0];
}

// bpftrace 0.17 prints these on every run here (no RLIMIT_MEMLOCK, unreadable
// available_filter_functions); the first one has no trailing newline, so it can glue to the next.
const NOISE = [
  /Error while reading traceable functions from [^:\n]*: [A-Za-z ]*?(?=ERROR:|\n|$)/g,
  /ERROR: Unknown error -1: couldn't set RLIMIT_MEMLOCK[^\n]*/g,
];

export function stripNoise(text: string): string {
  let out = text;
  for (const pattern of NOISE) out = out.replace(pattern, '');
  return out;
}

/** Reduces one run (exit status + stderr) to a verdict. */
export function parseVerdict(script: string, source: string, status: number | null, stderr: string): Verdict {
  const text = stripNoise(stderr);
  if (status === 0) return { error: false };
  const escaped = script.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const located = new RegExp(`^${escaped}:(\\d+)(?::\\d+-\\d+|-(\\d+))?: ERROR: (.*)$`, 'm').exec(text);
  const bare = /^(?:ERROR|FATAL): (.*)$/m.exec(text);
  const clang = /^(?:definitions\.h|[^\s:]+\.h):\d+:\d+: (?:fatal )?error: (.*)$/m.exec(text);
  const includeFailure = /^\s*#\s*include\b/m.test(source) && clang !== null;
  const verdict: Verdict = { error: true };
  if (located && (!clang || located.index < clang.index)) {
    verdict.line = Number(located[1]);
    if (located[2]) verdict.lineEnd = Number(located[2]);
    verdict.message = located[3].trim();
  } else {
    verdict.line = null;
    verdict.message = (
      clang?.[1] ??
      bare?.[1] ??
      text.trim().split('\n')[0] ??
      `exit status ${status}`
    ).trim();
  }
  if (includeFailure) verdict.includeFailure = true;
  return verdict;
}

export function bpftraceVersion(): string | undefined {
  const run = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

/** `bpftrace -d` of one corpus script (run from the corpus folder so paths match); with `--unsafe`
 * when the script carries the unsafe pragma, as a Run of it would. */
export function runBpftrace(script: string, dir = CORPUS_DIR, timeoutMs = 30_000): Promise<Verdict> {
  const source = readFileSync(join(dir, script), 'utf8');
  const args = [...(declaresUnsafe(source) ? ['--unsafe'] : []), '-d', script];
  return new Promise((resolve, reject) => {
    // -d dumps the AST and IR on stdout: discard it, the verdict is in the status and stderr.
    const child = spawn('bpftrace', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') reject(new Error(`bpftrace -d ${script} timed out after ${timeoutMs} ms`));
      // A FATAL abort (unknown provider in 0.17) ends with SIGABRT: still an error verdict.
      else resolve(parseVerdict(script, source, status ?? 128, stderr));
    });
  });
}

/** Runs many scripts with a small pool (bpftrace takes ~0.1 s each, mostly waiting on the kernel). */
export async function runAll(
  scripts: string[],
  dir = CORPUS_DIR,
  parallel = 4,
): Promise<Map<string, Verdict>> {
  const results = new Map<string, Verdict>();
  let next = 0;
  const worker = async () => {
    while (next < scripts.length) {
      const script = scripts[next++];
      results.set(script, await runBpftrace(script, dir));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, scripts.length) }, worker));
  return new Map(scripts.map((s) => [s, results.get(s)!]));
}
