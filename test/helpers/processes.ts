// Processes of a test's own making: those named `comm` below a root process (e.g. the bpftrace
// runs under one test sshd), read from /proc, so that other users of the machine never count.
import { readdirSync, readFileSync } from 'node:fs';

export function descendantsNamed(rootPid: number, comm: string): number[] {
  const parent = new Map<number, number>();
  const names = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      names.set(Number(entry), stat.slice(stat.indexOf('(') + 1, close));
      parent.set(Number(entry), Number(stat.slice(close + 2).split(' ')[1]));
    } catch {
      // The process exited while we looked.
    }
  }
  const under = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === rootPid) return true;
    return false;
  };
  return [...names].filter(([pid, name]) => name === comm && under(pid)).map(([pid]) => pid);
}
