// bpftrace's stderr as diagnostics: positioned messages (with their echoed source line and
// underline folded in), unpositioned ones (also when glued to another line), known harmless noise
// as warnings explained once (bpftrace-warnings.ts), and an aborting C++ exception as one error
// that names its cause.
import type { TraceEvent } from '../../common/events';
import { knownWarning } from './bpftrace-warnings';
import type { SplitLine } from './line-splitter';

// bpftrace's positioned messages: `file.bt:12:3-10: ERROR: msg`, `stdin:1:1: WARNING: msg`.
const POSITIONED = /^(.*?):(\d+):(\d+)(?:-(\d+))?: (ERROR|WARNING): (.*)$/;
// Messages without a position; bpftrace may glue one to the end of another line.
const LEVEL = /(ERROR|WARNING|HINT): /g;
const STARTS_MESSAGE = /^(ERROR|WARNING|HINT): /;

// A C++ exception that escaped bpftrace: libstdc++ prints these two lines, then bpftrace aborts.
const TERMINATE = /^terminate called after throwing an instance of '(.*)'\s*$/;
const WHAT = /^\s*what\(\):\s*(.*)$/;
// bpftrace before 0.20, with its user-symbol cache on, reads /proc/PID/exe without catching the
// error it gets for a process that has exited since the event: the whole trace aborts.
const EXITED_PROCESS_EXE = /read_symlink: .*\[\/proc\/(\d+)\/exe\]/;

/** The one error that says why bpftrace aborted; `what` is the exception's message. */
export function crashDiagnostic(exception: string, what: string | undefined): TraceEvent {
  const exited = what === undefined ? null : EXITED_PROCESS_EXE.exec(what);
  const message = exited
    ? `bpftrace crashed resolving a user stack of process ${exited[1]}, which had already exited ` +
      '(a bpftrace bug before 0.20 when its user-symbol cache is on). The events before it are ' +
      'kept. Run the trace again, or run it without user stacks.'
    : `bpftrace crashed on an uncaught ${exception}${what ? `: ${what}` : ''}`;
  return { type: 'diagnostic', severity: 'error', message, crash: true };
}

/** Reads bpftrace's stderr, one line at a time, into diagnostics. */
export class DiagnosticReader {
  /** Lines still expected after a positioned message: the source line and its `~~~` underline. */
  private context = 0;
  /** The exception type of a `terminate called…` line, until its `what():` line arrives. */
  private crash: string | undefined;
  /** Known warnings explained so far in this run: each is explained once, then only shown. */
  private readonly explained = new Set<string>();

  line(line: SplitLine, out: TraceEvent[]): void {
    const text = line.text;
    if (this.crash !== undefined) {
      const what = WHAT.exec(text);
      const exception = this.crash;
      this.crash = undefined;
      out.push(crashDiagnostic(exception, what?.[1]));
      if (what) return;
    }
    const terminate = TERMINATE.exec(text);
    if (terminate) {
      this.crash = terminate[1];
      return;
    }
    if (text.trim() === '') return;
    const positioned = POSITIONED.exec(text);
    if (positioned) {
      const [, file, l, c, endC, level, message] = positioned;
      out.push({
        type: 'diagnostic',
        severity: level === 'ERROR' ? 'error' : 'warning',
        message,
        file,
        line: Number(l),
        column: Number(c),
        ...(endC !== undefined ? { endColumn: Number(endC) } : {}),
      });
      this.context = 2;
      return;
    }
    if (this.context > 0) {
      this.context--;
      // The echoed source line and the underline are part of the message above; a message of
      // its own (some versions print no echo) is not.
      if (STARTS_MESSAGE.test(text)) this.context = 0;
      else if (this.context === 1 || /^\s*~+\s*$/.test(text)) return;
    }
    this.unpositioned(text, out);
  }

  /** At the end of stderr: a crash whose `what():` line never came is still reported. */
  end(out: TraceEvent[]): void {
    if (this.crash !== undefined) out.push(crashDiagnostic(this.crash, undefined));
    this.crash = undefined;
  }

  private unpositioned(text: string, out: TraceEvent[]): void {
    const parts: { level: string | undefined; message: string }[] = [];
    let last = 0;
    let level: string | undefined;
    for (const m of text.matchAll(LEVEL)) {
      const before = text.slice(last, m.index).trim();
      if (before) parts.push({ level, message: before });
      level = m[1];
      last = m.index + m[0].length;
    }
    const rest = text.slice(last).trim();
    if (rest) parts.push({ level, message: rest });
    for (const part of parts) {
      // Known harmless noise is a warning even where bpftrace says ERROR (0.17 does).
      const known = knownWarning(part.message);
      const first = known !== undefined && !this.explained.has(known.id);
      if (known) this.explained.add(known.id);
      out.push({
        type: 'diagnostic',
        severity: part.level === 'ERROR' && !known ? 'error' : 'warning',
        message: part.level === 'HINT' ? `hint: ${part.message}` : part.message,
        ...(known ? { known: known.id } : {}),
        ...(known && first ? { explanation: known.explanation } : {}),
      });
    }
  }
}
