// The processes of a node, read with `ps` and a fixed argv and parsed here: for the pickers that
// ask "which process?", the listener trace's name targets and the leftover check after a trace.
// Kernel threads are left out: they hold no sockets and run no bpftrace.
import * as path from 'node:path';
import { type CommandRunner, localRunner } from './commands';

export interface ProcessEntry {
  pid: number;
  /** The program's file name (from argv[0]), what a user recognises: `envoy`, `pilot-agent`. */
  name: string;
  /** The whole command line as ps prints it (cut by ps at its own width limit with -ww off). */
  commandLine: string;
}

/** Programs a Fieldtrace user most likely means, best first. */
const LIKELY = ['envoy', 'pilot-agent', 'istio-proxy', 'nginx', 'haproxy'];

/** Reads `ps -eo pid=,args=` output; a line that is not `<pid> <args>` is skipped. */
export function parsePs(output: string): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const line of output.split('\n')) {
    const m = /^\s*(\d+)\s+(.*?)\s*$/.exec(line);
    if (!m) continue;
    const commandLine = m[2] as string;
    // Kernel threads print as `[kworker/0:1]`: no user-space sockets to look at.
    if (commandLine === '' || /^\[.*\]$/.test(commandLine)) continue;
    const argv0 = commandLine.split(/\s+/)[0] as string;
    out.push({ pid: Number(m[1]), name: path.posix.basename(argv0.replace(/:$/, '')), commandLine });
  }
  return out;
}

/**
 * Orders processes for a picker: the pids the user already traces first, then likely proxies,
 * then the rest by name; the picker's own process and `ps` itself are dropped.
 */
export function rankProcesses(
  processes: ProcessEntry[],
  traced: ReadonlySet<number> = new Set(),
): ProcessEntry[] {
  const likely = (p: ProcessEntry) => {
    const i = LIKELY.indexOf(p.name);
    return i < 0 ? LIKELY.length : i;
  };
  return processes
    .filter((p) => !/^ps -eo pid=,args=/.test(p.commandLine))
    .sort(
      (a, b) =>
        Number(traced.has(b.pid)) - Number(traced.has(a.pid)) ||
        likely(a) - likely(b) ||
        a.name.localeCompare(b.name) ||
        a.pid - b.pid,
    );
}

/** The node's processes, ranked; `run` is this machine by default, else a node's runner. */
export async function listProcesses(
  run: CommandRunner = localRunner,
  traced?: ReadonlySet<number>,
): Promise<ProcessEntry[]> {
  return rankProcesses(parsePs(await run(['ps', '-eo', 'pid=,args='])), traced);
}

/** Processes on the node whose main thread is named `comm` (`ps -o comm`), by pid. */
export async function pidsNamed(run: CommandRunner, comm: string): Promise<number[]> {
  const out = await run(['ps', '-eo', 'pid=,comm=']);
  const pids: number[] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\d+) (.*?)\s*$/.exec(line);
    if (m && m[2] === comm) pids.push(Number(m[1]));
  }
  return pids;
}
