// Events as text for a terminal and the CLI, as bpftrace's own text mode would show them. Every
// string in an event may come from the traced process or the node (names, paths, symbols, printf
// output, messages): the whole rendering goes through terminalText(), so none of it can steer the
// terminal.
import type { AddressFamily, SyscallEvent, TraceEvent } from '../../common/events';
import { terminalText } from '../text/untrusted';

const FAMILY_NAMES: Record<AddressFamily, string> = {
  inet: 'AF_INET',
  inet6: 'AF_INET6',
  unix: 'AF_UNIX',
  other: 'AF_?',
};

// An unreadable line is shown so that a person sees what it was, not all of it: the log has it whole.
const MAX_SHOWN_LINE = 2000;

function shortened(line: string): string {
  return line.length <= MAX_SHOWN_LINE
    ? line
    : `${line.slice(0, MAX_SHOWN_LINE)}… (${line.length - MAX_SHOWN_LINE} more characters in the log)`;
}

/** A name or path inside a rendered line: a newline in it must not start a line of its own. */
function field(text: string): string {
  return terminalText(text, { field: true });
}

function hostPort(address: string, port: number, fam: AddressFamily): string {
  if (fam === 'unix') return address ? field(address) : '(unnamed)';
  return fam === 'inet6' ? `[${address}]:${port}` : `${address}:${port}`;
}

function describe(event: SyscallEvent): string {
  switch (event.type) {
    case 'socket':
      return `socket(${FAMILY_NAMES[event.family]}, type ${event.socketType}) = ${event.fd}`;
    case 'bind':
      return `bind(fd ${event.fd}, ${hostPort(event.address.address, event.address.port, event.address.family)}) = ${event.result ?? '?'}`;
    case 'listen':
      return `listen(fd ${event.fd}, backlog ${event.backlog}) = ${event.result ?? '?'}`;
    case 'setsockopt':
      return `setsockopt(fd ${event.fd}, level ${event.level}, optname ${event.optname}, value ${event.value ?? '?'}, optlen ${event.optlen})`;
    case 'dup':
      return `${event.via}(fd ${event.oldFd}) = ${event.newFd}`;
    case 'accept':
      return `accept(fd ${event.listenFd}) = ${event.fd}${event.peer ? ` from ${hostPort(event.peer.address, event.peer.port, event.peer.family)}` : ''}`;
    case 'accepts':
      return `accepts on fd ${event.listenFd}: ${event.total} so far`;
    case 'close':
      return `close(fd ${event.fd})${event.result !== undefined ? ` = ${event.result}` : ''}`;
    case 'exec':
      return `exec ${field(event.path)}`;
    case 'spawn':
      return event.thread ? `new thread ${event.childTid}` : `new process ${event.childPid}`;
    case 'thread-name':
      return `thread named ${field(event.name)}`;
    case 'exit':
      return event.processExit ? 'process exit' : 'thread exit';
  }
}

function renderMapValue(name: string, value: unknown): string {
  if (Array.isArray(value)) {
    // hist/lhist buckets: [{min, max, count}] (older versions: {interval: [lo, hi], count}).
    const rows = value.map(
      (b: { min?: number; max?: number; interval?: [number, number]; count?: number }) => {
        const lo = b.min ?? b.interval?.[0] ?? '';
        const hi = b.max ?? b.interval?.[1] ?? '';
        return { label: `[${lo}, ${hi})`, count: Number(b.count ?? 0) };
      },
    );
    const most = Math.max(1, ...rows.map((r) => r.count));
    const width = Math.max(0, ...rows.map((r) => r.label.length));
    return `${name}:\n${rows.map((r) => `${r.label.padEnd(width)} ${String(r.count).padStart(8)} |${'@'.repeat(Math.round((r.count / most) * 52)).padEnd(52)}|`).join('\n')}\n`;
  }
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    if (entries.length > 0 && entries.every(([, v]) => typeof v !== 'object' || v === null)) {
      return entries.map(([k, v]) => `${name}[${k}]: ${String(v)}`).join('\n') + '\n';
    }
    return entries.map(([k, v]) => renderMapValue(`${name}[${k}]`, v)).join('');
  }
  return `${name}: ${String(value)}\n`;
}

/**
 * One event as bpftrace's text mode would show it (stack frames indented by 8 spaces, or the one
 * line `options.stackLine` in their place), safe for
 * a terminal: control characters of the event's text are shown as escapes.
 */
export function renderText(event: TraceEvent, options: RenderOptions = {}): string {
  return terminalText(renderEvent(event, options));
}

/** A stack folded into one line: its frame count, and how many resolve to source when known. */
export function foldedStackText(frames: number, inSource?: number): string {
  const count = `${frames} frame${frames === 1 ? '' : 's'}`;
  return `stack: ${count}${inSource === undefined ? '' : `, ${inSource} in source`}`;
}

/** The title of an event's stack (the Stacks view's heading): its line without the stack. */
export function stackTitle(event: TraceEvent): string {
  return renderText({ ...event, stack: undefined } as TraceEvent).trim();
}

export interface RenderOptions {
  /** One line printed instead of the stack's frames (the trace terminal folds stacks). */
  stackLine?: string;
}

function renderEvent(event: TraceEvent, options: RenderOptions): string {
  switch (event.type) {
    case 'attached':
      return `Attaching ${event.probes} probe${event.probes === 1 ? '' : 's'}...\n`;
    case 'output':
      return event.text;
    case 'map':
      return renderMapValue(event.name, event.value) + '\n';
    case 'lost':
      return `WARNING: bpftrace lost ${event.count} events: steps of sockets (socket, bind, listen, dup, close, options) and first accepts may be missing; accept totals are counted in the kernel and stay exact\n`;
    case 'snapshot': {
      const { snapshot } = event;
      const fds = snapshot.listeners.flatMap((l) =>
        l.users
          .filter((u) => u.pid === snapshot.pid)
          .map((u) => `fd ${u.fd} ${hostPort(l.local.address, l.local.port, l.local.family)}`),
      );
      return `snapshot of pid ${snapshot.pid} at the start: ${fds.length ? fds.join(', ') : 'no listening fds'}\n`;
    }
    case 'admin': {
      const { summary, listeners } = event.report;
      if (summary.error) return `Envoy admin ${summary.address}: ${shortened(summary.error)}\n`;
      const counts = listeners
        .filter((l) => l.workers.length > 0)
        .slice(0, 8)
        .map((l) => `${l.name} [${l.workers.map((w) => w.total).join(', ')}]`);
      return (
        shortened(
          `Envoy admin ${summary.address}${summary.version ? ` (${summary.version})` : ''}: downstream_cx_total per worker: ${counts.length ? counts.join(', ') : 'none'}`,
        ) + '\n'
      );
    }
    case 'malformed':
      return `[unreadable line: ${event.reason}] ${shortened(event.line)}\n`;
    case 'diagnostic': {
      const where =
        event.line !== undefined
          ? `${event.file ?? 'script'}:${event.line}:${event.column ?? 1}${event.endColumn !== undefined ? `-${event.endColumn}` : ''}: `
          : '';
      const line = `${where}${event.severity === 'error' ? 'ERROR' : 'WARNING'}: ${event.message}`;
      // A known-benign warning: its meaning once, then the message alone, marked as explained.
      if (event.explanation) return `${line}\n  (${event.explanation})\n`;
      return event.known ? `${line} (harmless: explained above)\n` : `${line}\n`;
    }
    case 'ended':
      return `bpftrace ended (${event.signal ? `signal ${event.signal}` : `exit code ${event.exitCode}`})${event.reason ? `: ${event.reason}` : ''}\n`;
    default: {
      const head = `${field(event.comm)}[${event.pid}/${event.tid}] ${describe(event)}\n`;
      if (!event.stack) return head;
      if (options.stackLine !== undefined) return `${head}        ${options.stackLine}\n`;
      return `${head}${event.stack.map((f) => `        ${field(f)}\n`).join('')}\n`;
    }
  }
}
