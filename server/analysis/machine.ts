// Machine facts: what the node a script will run on has (probe types its bpftrace and kernel
// support, kernel functions, binaries and their symbols, kernel symbols). The language rules
// never need them; when a document is bound to a machine, these checks turn "may not exist"
// into bpftrace's own verdict there. Without facts every hook here is silent.
import type { AttachPoint, CallExpr } from '../syntax/ast';
import type { Checker } from './checker';
import type { ProbeRow } from './dialects';

/** What is known of the target machine; every member optional (unknown = not checked). */
export interface MachineFacts {
  /** The machine's name for messages ("node web-1", "this machine"). */
  where: string;
}

/** Called for every attach point whose probe type and parts passed the language checks. */
export function machineAttachPoint(cx: Checker, _ap: AttachPoint, _row: ProbeRow): void {
  if (!cx.facts) return;
}

/** Called for every call of a known function after its arguments were checked (kaddr...). */
export function machineCall(cx: Checker, _call: CallExpr): void {
  if (!cx.facts) return;
}
