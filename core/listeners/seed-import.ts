// Importer for ONE specific text format: the output of the bpftrace script in the article
// "逆向工程与云原生现场分析 Part2" (trace-envoy-socket-listen.bt): its printf lines
// (`comm:NAME            : bind AF_INET: ip:… port:… fd=…`), the `stack:` blocks after them and
// the END map dumps (`@fd2bind[31]: (0.0.0.0, 15001)`). It is kept apart from the generic readers
// on purpose: nothing here applies to any other script.
//
// That output has no thread ids and no times: threads are told apart by name (the main thread,
// named like the process, gets tid = pid; others get negative placeholder ids), and every time is
// 0. Facts that only the END maps hold are replayed after the printed events by a thread named
// END_MAP_THREAD, so the view says where they come from.
import type { TraceEvent } from '../../common/events';

export const END_MAP_THREAD = '(END map dump)';

export interface SeedImport {
  events: TraceEvent[];
  /** Lines that look like the script's output but could not be read. */
  unreadable: string[];
  /** Processes the script reported watching. */
  pids: number[];
}

type Pending =
  | { kind: 'bind'; fd: number; address: string; port: number }
  | { kind: 'dup'; oldFd: number; newFd: number }
  | { kind: 'listen'; fd: number }
  | { kind: 'sockopt'; fd: number; level: number; optname: number; value: number };

/** Recognises the seed script's output: its section headers or its comm-prefixed lines. */
export function looksLikeSeedOutput(text: string): boolean {
  return (
    /^#{10} (bind|listen|setsockopt|sys_enter_dup)\(\) #{10}\s*$/m.test(text) ||
    /^watched \S+ pid: \d+$/m.test(text)
  );
}

/** Splits `comm:%-16s: rest` with the fixed width first, so a name holding ": " cannot shift fields. */
function splitComm(line: string): { comm: string; rest: string } | undefined {
  if (!line.startsWith('comm:')) return undefined;
  if (line.length > 23 && line.slice(21, 23) === ': ')
    return { comm: line.slice(5, 21).trimEnd(), rest: line.slice(23) };
  const m = /^comm:(.+?)\s*: (.*)$/.exec(line);
  return m ? { comm: m[1].trimEnd(), rest: m[2] } : undefined;
}

export function importSeedOutput(text: string): SeedImport {
  const events: TraceEvent[] = [];
  const unreadable: string[] = [];
  const pids: number[] = [];
  let pid = 0;
  let processName = '';
  const tids = new Map<string, number>();
  const seen = {
    bind: new Set<number>(),
    dup: new Set<number>(),
    listen: new Set<number>(),
    opt: new Set<string>(),
  };
  const fromMaps: Pending[] = [];
  let stackOf: { stack?: string[] } | undefined;
  let inStack = false;

  const tidFor = (comm: string): number => {
    if (comm === processName) return pid;
    let tid = tids.get(`${pid}/${comm}`);
    if (tid === undefined) tids.set(`${pid}/${comm}`, (tid = -(tids.size + 1)));
    return tid;
  };
  const origin = (comm: string) => ({ timeNs: 0, pid, tid: tidFor(comm), comm });

  for (const raw of text.split(/\r?\n/)) {
    if (inStack) {
      if (/^\s+\S/.test(raw)) {
        (stackOf!.stack ??= []).push(raw.trim());
        continue;
      }
      inStack = false;
    }
    const line = raw.trimEnd();
    if (!line) continue;
    if (line.startsWith('stack:')) {
      const frame = line.slice(6).trim();
      if (stackOf) {
        inStack = true;
        if (frame) (stackOf.stack ??= []).push(frame);
      }
      continue;
    }
    const watched = /^watched (\S+) pid: (\d+)$/.exec(line);
    if (watched) {
      processName = watched[1];
      pid = Number(watched[2]);
      pids.push(pid);
      events.push({ type: 'exec', timeNs: 0, pid, tid: pid, comm: processName, path: processName });
      continue;
    }
    const mapLine = /^@(\w+)\[(-?\d+)\]: (.*)$/.exec(line);
    if (mapLine) {
      const key = Number(mapLine[2]);
      const value = mapLine[3];
      let m: RegExpExecArray | null;
      if (mapLine[1] === 'fd2bind' && (m = /^\(([^,]*), (\d+)\)$/.exec(value)))
        fromMaps.push({ kind: 'bind', fd: key, address: m[1], port: Number(m[2]) });
      else if (mapLine[1] === 'dup_fd_new2old' && /^\d+$/.test(value))
        fromMaps.push({ kind: 'dup', oldFd: Number(value), newFd: key });
      else if (mapLine[1] === 'dup_fd_old2new' && /^\d+$/.test(value))
        fromMaps.push({ kind: 'dup', oldFd: key, newFd: Number(value) });
      else if (mapLine[1] === 'fd2listen') fromMaps.push({ kind: 'listen', fd: key });
      else if (mapLine[1] === 'fd2sockopt' && (m = /^\((-?\d+), (-?\d+), (-?\d+)\)$/.exec(value)))
        fromMaps.push({
          kind: 'sockopt',
          fd: key,
          level: Number(m[1]),
          optname: Number(m[2]),
          value: Number(m[3]),
        });
      continue;
    }
    const split = splitComm(line);
    if (!split) {
      stackOf = undefined;
      continue;
    }
    const { comm, rest } = split;
    let m: RegExpExecArray | null;
    if (
      (m = /^setsockopt: level=(-?\d+), fd=(-?\d+), optname=(-?\d+), optval=(-?\d+), optlen=(\d+)\.?$/.exec(
        rest,
      ))
    ) {
      const e: TraceEvent = {
        type: 'setsockopt',
        ...origin(comm),
        fd: Number(m[2]),
        level: Number(m[1]),
        optname: Number(m[3]),
        value: Number(m[4]),
        optlen: Number(m[5]),
      };
      seen.opt.add(`${e.fd}/${e.level}/${e.optname}`);
      events.push(e);
      stackOf = e;
    } else if ((m = /^bind AF_INET: ip:(\S+)\s+port:(\d+)\s+fd=(-?\d+)$/.exec(rest))) {
      const e: TraceEvent = {
        type: 'bind',
        ...origin(comm),
        fd: Number(m[3]),
        address: { family: 'inet', address: m[1], port: Number(m[2]) },
      };
      seen.bind.add(e.fd);
      events.push(e);
      stackOf = e;
    } else if ((m = /^listen\(\) fd=(-?\d+), ip:.*, port:\s*\d+$/.exec(rest))) {
      const e: TraceEvent = { type: 'listen', ...origin(comm), fd: Number(m[1]), backlog: -1 };
      seen.listen.add(e.fd);
      events.push(e);
      stackOf = e;
    } else if (/^listen\(\) on an dupliated old_fd=\d+$/.test(rest)) {
      // The script's own note that the next line's fd is a dup; the dup event says it already.
    } else if ((m = /^duping_fd=(-?\d+), new_fd=(-?\d+)$/.exec(rest))) {
      const e: TraceEvent = {
        type: 'dup',
        ...origin(comm),
        oldFd: Number(m[1]),
        newFd: Number(m[2]),
        via: 'dup',
      };
      seen.dup.add(e.newFd);
      events.push(e);
      stackOf = e;
    } else {
      unreadable.push(line);
      stackOf = undefined;
    }
  }

  // END maps: only what the printed part did not show (the article cut its output short).
  const order = { bind: 0, dup: 1, listen: 2, sockopt: 3 };
  fromMaps.sort((a, b) => order[a.kind] - order[b.kind]);
  const mapOrigin = { timeNs: 0, pid, tid: 0, comm: END_MAP_THREAD };
  for (const f of fromMaps) {
    if (f.kind === 'bind' && !seen.bind.has(f.fd)) {
      seen.bind.add(f.fd);
      events.push({
        type: 'bind',
        ...mapOrigin,
        fd: f.fd,
        address: { family: 'inet', address: f.address, port: f.port },
      });
    } else if (f.kind === 'dup' && !seen.dup.has(f.newFd)) {
      seen.dup.add(f.newFd);
      events.push({ type: 'dup', ...mapOrigin, oldFd: f.oldFd, newFd: f.newFd, via: 'dup' });
    } else if (f.kind === 'listen' && !seen.listen.has(f.fd)) {
      seen.listen.add(f.fd);
      events.push({ type: 'listen', ...mapOrigin, fd: f.fd, backlog: -1 });
    } else if (f.kind === 'sockopt' && !seen.opt.has(`${f.fd}/${f.level}/${f.optname}`)) {
      seen.opt.add(`${f.fd}/${f.level}/${f.optname}`);
      events.push({
        type: 'setsockopt',
        ...mapOrigin,
        fd: f.fd,
        level: f.level,
        optname: f.optname,
        value: f.value,
        optlen: 4,
      });
    }
  }
  return { events, unreadable, pids };
}
