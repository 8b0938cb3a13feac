// The built-in listener trace: a bpftrace script, generated for one target and one bpftrace
// version, that reports how a process creates, binds, duplicates, listens on and accepts from
// its sockets, which thread does each step, and with which user stack.
//
// Accepts are counted in the kernel, per (pid, tid, listening fd): only the first accept of each
// is a line; the totals that changed are printed every interval (a `counts` line, then a map
// print), and all of them at the end. Per-connection work (accepted fds, upstream sockets that
// are never bound, their options and closes) stays in the kernel.
//
// Every event is ONE printf whose structure no traced string can change:
//
//   FT1 <kind> <nsecs> <pid> <tid> <n0> <n1> <n2> <n3> <n4> <addr> <comm>[<ustack>]
//
// - the numbers are printed by %d, filled by name from LISTENER_EVENT_FIELDS (listener-record.ts,
//   the table the decoder reads them with);
// - <addr> is `-`, an `ntop()` address (no spaces possible) or `%rx` hex of bytes (unix paths,
//   exec paths, new thread names);
// - <comm> is `%rx` hex of the 16 bytes of the thread name (cut at the first NUL by the parser),
//   so a name with spaces, quotes or newlines cannot shift a field;
// - the user stack comes last: it starts with a newline and holds one frame per line.
//
// Targets are selected by process (thread-group) id, never by thread name for the workers:
// `comm` is the name of the *thread* (Envoy's workers are `wrk:worker_N`). A comm target picks
// the process at exec, at a rename to that name, or when its main thread is first seen, and
// then follows its pid.
import { atLeastBpftrace, type BpftraceVersion, parseBpftraceVersion } from '../../common/bpftrace-version';
import {
  ACCEPT_TOTALS_MAP,
  ATTACHED_KIND,
  COUNTS_KIND,
  LISTENER_LINE_TAG,
  listenerNumbers,
  type ListenerEventKind,
  type ListenerField,
} from './listener-record';

export interface ListenerTraceTarget {
  /** Name of the process' main thread (what `ps -o comm` shows), e.g. `envoy`. */
  comm?: string;
  /** Process (thread-group) id. */
  pid?: number;
  /** cgroup v2 id of a container (bpftrace's `cgroup` builtin). */
  cgroupId?: number;
}

export interface ListenerTraceOptions {
  target: ListenerTraceTarget;
  /** The node's bpftrace version: `0.17`, `v0.21.2`, `bpftrace v0.17.0`. */
  bpftraceVersion: string;
  /** Print the user stack with each socket event (default true). */
  withStacks?: boolean;
  /**
   * With a `comm` target: processes of that name already running (from `ps` on the node). They
   * are adopted at BEGIN, so their worker threads count before the main thread makes a call.
   */
  runningPids?: number[];
  /** How often the changed accept totals are printed (default 1000 ms). */
  countIntervalMs?: number;
  /**
   * Listening fds that exist when the trace starts (from a node snapshot): followed from BEGIN,
   * so that their closes, dups and options are seen like those of sockets made under the trace.
   */
  knownListeners?: { pid: number; fd: number }[];
}

export const DEFAULT_COUNT_INTERVAL_MS = 1000;

const AF_UNIX = 1;
const AF_INET = 2;
const AF_INET6 = 10;
const CLONE_THREAD = 0x10000;
const F_DUPFD = 0;
const F_DUPFD_CLOEXEC = 1030;
/** @ft_sk values: a followed fd (bound, listening or a dup of one) … */
const FOLLOWED = 1;
/** … or, in a forked process, its copy of a parent's followed fd that it closed … */
const CLOSED_COPY = 2;
/** … or a socket made under the trace and not yet bound: PENDING + the number of options kept. */
const PENDING = 16;
/** Options kept per pending socket (SO_REUSEADDR, SO_REUSEPORT, IPV6_V6ONLY, …); more are dropped. */
const OPTION_SLOTS = 4;
/** bpftrace's default string and buffer limit: longer exec paths are cut. */
const PATH_BYTES = 64;
/** A unix bind's path shares a BPF program with a stack id and the comm: 48 fits in 512 bytes. */
const UNIX_PATH_BYTES = 48;

/** The version the script is written for; a text without one is refused. */
function scriptVersion(text: string): BpftraceVersion {
  const version = parseBpftraceVersion(text);
  if (!version) {
    throw new Error(`cannot read a bpftrace version from '${text}' (expected e.g. 0.17 or v0.21.2)`);
  }
  return version;
}

/** Thread names are at most 15 bytes; quotes, backslashes and control characters are refused. */
export function checkTargetComm(comm: string): void {
  if (comm.length === 0) throw new Error('the target process name is empty');
  if (Buffer.byteLength(comm) > 15) {
    throw new Error(
      `the target process name '${comm}' is longer than 15 bytes: Linux keeps only 15 (use the pid)`,
    );
  }
  if (!/^[\x20-\x7e]+$/.test(comm) || /["\\]/.test(comm)) {
    throw new Error(
      `the target process name '${comm}' contains a quote, a backslash or a non-printable character; select it by pid`,
    );
  }
}

function checkId(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value <= 0)) {
    throw new Error(`${name} must be a positive integer, got ${value}`);
  }
}

/** Room for this many open sockets per trace (bpftrace's default map size is 4096 keys). */
const MAP_KEYS = 65536;

/**
 * Environment for the bpftrace that runs the listener trace (from 0.20 the script's config
 * block says the same). Without a symbol cache, 0.17 re-reads the binary's symbols for every
 * stack when ASLR is on: about 3 events/s with stacks here instead of thousands. 0.17's cache
 * is per executable, so a restarted target under the same trace gets the old symbols: start
 * one trace per process. The map size lets a busy proxy's sockets all be followed to close().
 */
export function listenerTraceEnvironment(bpftraceVersion: string): Record<string, string> {
  if (atLeastBpftrace(scriptVersion(bpftraceVersion), 0, 20)) return {};
  // The variable was renamed during 0.18/0.19; bpftrace ignores names it does not know.
  return {
    BPFTRACE_CACHE_USER_SYMBOLS: '1',
    BPFTRACE_MAP_KEYS_MAX: String(MAP_KEYS),
    BPFTRACE_MAX_MAP_KEYS: String(MAP_KEYS),
  };
}

export function listenerTraceScript(opts: ListenerTraceOptions): string {
  const version = scriptVersion(opts.bpftraceVersion);
  const { comm, pid, cgroupId } = opts.target;
  checkId('pid', pid);
  checkId('cgroupId', cgroupId);
  if (comm !== undefined) checkTargetComm(comm);
  if (comm === undefined && pid === undefined && cgroupId === undefined) {
    throw new Error('the listener trace needs a target: a process name, a pid or a cgroup id');
  }
  const intervalMs = opts.countIntervalMs ?? DEFAULT_COUNT_INTERVAL_MS;
  if (!Number.isSafeInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) {
    throw new Error(`the count interval must be a whole number of ms from 10 to 3600000, got ${intervalMs}`);
  }
  const known = opts.knownListeners ?? [];
  for (const k of known) {
    checkId('known listener pid', k.pid);
    if (!Number.isSafeInteger(k.fd) || k.fd < 0)
      throw new Error(`a known listener fd must be >= 0, got ${k.fd}`);
  }
  const withStacks = opts.withStacks ?? true;
  // 0.17/0.18: `args` is a pointer; from 0.19 it is a struct (and `.` is the modern spelling).
  const a = (field: string) => (atLeastBpftrace(version, 0, 19) ? `args.${field}` : `args->${field}`);
  const del = (map: string, key: string) =>
    atLeastBpftrace(version, 0, 22)
      ? `delete(${map}, ${key.includes(',') ? `(${key})` : key})`
      : `delete(${map}[${key}])`;

  // Which events belong to the target.
  const followComm = comm !== undefined && pid === undefined;
  const conditions: string[] = [];
  if (pid !== undefined) conditions.push(`pid == ${pid}`);
  if (cgroupId !== undefined) conditions.push(`cgroup == ${cgroupId}`);
  if (followComm) conditions.push(`(@ft_pid[pid] == 1 || (tid == pid && comm == "${comm}"))`);
  const selected = conditions.join(' && ');
  // In comm mode a process is adopted when it execs, at BEGIN when it already runs (runningPids),
  // or the first time its main thread is seen.
  const adopt = followComm ? '@ft_pid[pid] = 1; ' : '';

  // One printf per event; `stack` is off for process-life events, which need none.
  const line =
    (stack: boolean) =>
    <K extends ListenerEventKind>(
      kind: K,
      fields: Record<ListenerField<K>, string>,
      addrFmt: string,
      addrArg?: string,
      time = 'nsecs',
    ) => {
      const n = listenerNumbers(kind, fields, '0');
      const args = [time, 'pid', 'tid', ...n, ...(addrArg ? [addrArg] : []), 'buf(comm, 16)'];
      if (stack) args.push('ustack');
      const format = `${LISTENER_LINE_TAG} ${kind} %lu %d %d %d %d %d %d %d ${addrFmt} %rx${stack ? '%s' : ''}\\n`;
      return `printf("${format}", ${args.join(', ')});`;
    };
  const emit = line(withStacks);
  const emitNoStack = line(false);
  // Pairs a syscall's entry with its exit through per-thread scratch maps (a thread is in one
  // syscall at a time); @ft_in[tid] holds which syscall, so an exit never reads another's args.
  const ports = (expr: string) => `((${expr} & 0xff) << 8) | ((${expr} >> 8) & 0xff)`;
  const enter = (code: number, saves: string[]) =>
    `${adopt}@ft_in[tid] = ${code}; ${saves.map((s, i) => `@ft_a${i}[tid] = ${s};`).join(' ')}`;
  const done = `${del('@ft_in', 'tid')}; ${del('@ft_a0', 'tid')}; ${del('@ft_a1', 'tid')};`;

  const C = { socket: 1, bind: 2, listen: 3, dup: 4, dup2: 5, dup3: 6, fcntl: 7, close: 9 };
  const lines: string[] = [];
  const probe = (spec: string, predicate: string | undefined, body: string) => {
    lines.push(
      `${spec}${predicate ? ` /${predicate}/` : ''} {`,
      ...body.split('\n').map((l) => `  ${l}`),
      '}',
      '',
    );
  };

  lines.push(
    '// Fieldtrace listener trace (generated). Each event is one line:',
    `//   ${LISTENER_LINE_TAG} kind nsecs pid tid n0 n1 n2 n3 n4 addr comm-hex [ustack]`,
    `// Accepts are counted per (pid, tid, listening fd) in ${ACCEPT_TOTALS_MAP}; every ${intervalMs} ms a`,
    `// '${COUNTS_KIND}' line dates the print of the totals that changed since the previous one.`,
    `// target: ${[pid !== undefined ? `pid ${pid}` : '', cgroupId !== undefined ? `cgroup ${cgroupId}` : '', comm !== undefined ? `comm ${comm}` : ''].filter(Boolean).join(', ')}; bpftrace ${version.major}.${version.minor} dialect`,
    '',
  );
  if (atLeastBpftrace(version, 0, 20)) {
    lines.push('config = {', '  cache_user_symbols = "PER_PID";', `  max_map_keys = ${MAP_KEYS};`, '}', '');
  }

  // bpftrace announces `attached_probes` BEFORE it attaches; BEGIN runs once every probe is in
  // place. This marker is what the parser's `attachedWhen: 'begin'` waits for. Listening fds
  // the node snapshot found are followed from the start (their closes, dups and options).
  const running = followComm ? (opts.runningPids ?? []) : [];
  for (const p of running) checkId('running pid', p);
  probe(
    'BEGIN',
    undefined,
    [
      // A pid written as an unsigned integer, as the builtin `pid` is: 0.24 keys a map by the
      // sign of its first key and rejects the other sign (semantic_analyser.cpp validate_new_key).
      ...running.map((p) => `@ft_pid[(uint64)${p}] = 1;`),
      ...known.map((k) => `@ft_sk[(uint64)${k.pid}, ${k.fd}] = ${FOLLOWED};`),
      `printf("${LISTENER_LINE_TAG} ${ATTACHED_KIND} %lu 0 0 0 0 0 0 0 - 00\\n", nsecs);`,
    ].join('\n'),
  );

  // Process life: exec (adopts a comm target), threads and forks, names, exits.
  if (followComm) {
    probe('tracepoint:sched:sched_process_exec', `comm == "${comm}"`, '@ft_pid[pid] = 1;');
    probe('tracepoint:task:task_rename', `tid == pid && ${a('newcomm')} == "${comm}"`, '@ft_pid[pid] = 1;');
  }
  probe(
    'tracepoint:sched:sched_process_exec',
    selected,
    emitNoStack('exec', {}, '%rx', `buf(str(${a('filename')}), ${PATH_BYTES})`),
  );
  probe(
    'tracepoint:task:task_newtask',
    selected,
    emitNoStack(
      'spawn',
      { childTid: a('pid'), thread: `(${a('clone_flags')} & ${CLONE_THREAD}) != 0 ? 1 : 0` },
      '-',
      undefined,
    ),
  );
  probe(
    'tracepoint:task:task_rename',
    selected,
    emitNoStack('thread-name', { renamedTid: a('pid') }, '%rx', `buf(${a('newcomm')}, 16)`),
  );
  probe(
    'tracepoint:sched:sched_process_exit',
    selected,
    [
      emitNoStack('exit', { processExit: 'tid == pid ? 1 : 0' }, '-', undefined),
      ...(followComm ? [`if (tid == pid) { ${del('@ft_pid', 'pid')}; }`] : []),
    ].join('\n'),
  );

  // socket(): a proxy makes one for every upstream connection, so a new socket stays in the
  // kernel (@ft_sk = PENDING + options kept, its kind in @ft_skm, its birth in @ft_skt) until it
  // is bound or listens; only then are its creation and its options printed.
  probe(
    'tracepoint:syscalls:sys_enter_socket',
    selected,
    `if (${a('family')} == ${AF_INET} || ${a('family')} == ${AF_INET6} || ${a('family')} == ${AF_UNIX}) {\n  ${adopt}@ft_in[tid] = ${C.socket}; @ft_a0[tid] = (${a('family')} << 40) | ((${a('type')} & 0xf) << 32) | (${a('protocol')} & 0xffffffff);\n}`,
  );
  probe(
    'tracepoint:syscalls:sys_exit_socket',
    `@ft_in[tid] == ${C.socket}`,
    [
      `if (${a('ret')} >= 0) {`,
      `  @ft_sk[pid, ${a('ret')}] = ${PENDING}; @ft_skm[pid, ${a('ret')}] = @ft_a0[tid]; @ft_skt[pid, ${a('ret')}] = nsecs;`,
      '}',
      `${del('@ft_in', 'tid')}; ${del('@ft_a0', 'tid')};`,
    ].join('\n'),
  );

  const bound = (fam: number | string, port: string) => ({
    fd: '@ft_a0[tid]',
    family: String(fam),
    port,
    result: a('ret'),
  });

  // Prints a pending socket's creation (with the stack of the bind or listen that makes it a
  // listener: the socket() of an upstream connection never gets one) and its kept options, and
  // follows the fd from then on. Runs at the ENTRY of bind and listen, so these lines come before
  // the bind's or listen's own.
  const adoptSocket = (fd: string) =>
    [
      `$s = @ft_sk[pid, ${fd}];`,
      `if ($s >= ${PENDING}) {`,
      `  $m = @ft_skm[pid, ${fd}];`,
      `  ${emit('socket', { fd, family: '($m >> 40) & 0xffff', type: '($m >> 32) & 0xf', protocol: '$m & 0xffffffff' }, '-', undefined, `@ft_skt[pid, ${fd}]`)}`,
      ...Array.from({ length: OPTION_SLOTS }, (_, i) => [
        `  if ($s > ${PENDING + i}) {`,
        `    $o${i} = @ft_o${i}[pid, ${fd}];`,
        `    ${emitNoStack('setsockopt', { fd, level: `($o${i} >> 44) & 0xfff`, optname: `($o${i} >> 32) & 0xfff`, value: `$o${i} & 0xffffffff`, optlen: `($o${i} >> 56) & 0xff` }, '-', undefined)}`,
        '  }',
      ]).flat(),
      `  ${del('@ft_skm', `pid, ${fd}`)}; ${del('@ft_skt', `pid, ${fd}`)};`,
      '}',
      `@ft_sk[pid, ${fd}] = ${FOLLOWED};`,
    ].join('\n');

  // bind(): the address is read at the exit, from the caller's buffer (still live), so the event
  // carries the result too. One probe per family keeps each BPF program under the stack limit.
  probe(
    'tracepoint:syscalls:sys_enter_bind',
    selected,
    `${adoptSocket(a('fd'))}\n${enter(C.bind, [a('fd'), `(uint64)${a('umyaddr')}`])}`,
  );
  probe(
    'tracepoint:syscalls:sys_exit_bind',
    `@ft_in[tid] == ${C.bind}`,
    [
      '$sa = (struct sockaddr *)@ft_a1[tid];',
      `if ($sa->sa_family == ${AF_INET}) {`,
      '  $s4 = (struct sockaddr_in *)@ft_a1[tid];',
      `  ${emit('bind', bound(AF_INET, ports('$s4->sin_port')), '%s', `ntop(${AF_INET}, $s4->sin_addr.s_addr)`)}`,
      `} else if ($sa->sa_family == ${AF_INET6}) {`,
      '  $s6 = (struct sockaddr_in6 *)@ft_a1[tid];',
      `  ${emit('bind', bound(AF_INET6, ports('$s6->sin6_port')), '%s', `ntop(${AF_INET6}, $s6->sin6_addr.in6_u.u6_addr8)`)}`,
      `} else if ($sa->sa_family != ${AF_UNIX}) {`,
      `  ${emit('bind', bound('$sa->sa_family', '0'), '-', undefined)}`,
      '}',
      `if ($sa->sa_family != ${AF_UNIX}) { ${done} }`,
    ].join('\n'),
  );
  probe(
    'tracepoint:syscalls:sys_exit_bind',
    `@ft_in[tid] == ${C.bind}`,
    [
      '$un = (struct sockaddr_un *)@ft_a1[tid];',
      `if ($un->sun_family == ${AF_UNIX}) {`,
      `  ${emit('bind', bound(AF_UNIX, '0'), '%rx', `buf($un->sun_path, ${UNIX_PATH_BYTES})`)}`,
      `  ${done}`,
      '}',
    ].join('\n'),
  );

  probe(
    'tracepoint:syscalls:sys_enter_listen',
    selected,
    `${adoptSocket(a('fd'))}\n${enter(C.listen, [a('fd'), a('backlog')])}`,
  );
  probe(
    'tracepoint:syscalls:sys_exit_listen',
    `@ft_in[tid] == ${C.listen}`,
    `${emit('listen', { fd: '@ft_a0[tid]', backlog: '@ft_a1[tid]', result: a('ret') }, '-', undefined)}\n${done}`,
  );

  // setsockopt(): printed for followed fds (bound, listening, their dups); kept in the kernel for
  // a pending socket (up to OPTION_SLOTS, packed: optlen | level | optname | value), and never
  // for other fds (every accepted connection gets TCP_NODELAY in Envoy). The value is the first
  // int of optval when there is one.
  probe(
    'tracepoint:syscalls:sys_enter_setsockopt',
    selected,
    [
      `${adopt}$s = @ft_sk[pid, ${a('fd')}];`,
      `if ($s != 0) {`,
      '  $v = 0;',
      `  if (${a('optlen')} >= 4) { $v = *(int32 *)${a('optval')}; }`,
      `  if ($s == ${FOLLOWED}) {`,
      `    ${emit('setsockopt', { fd: a('fd'), level: a('level'), optname: a('optname'), value: '$v', optlen: a('optlen') }, '-', undefined)}`,
      `  } else if ($s >= ${PENDING} && $s < ${PENDING + OPTION_SLOTS}) {`,
      `    $p = ((${a('optlen')} > 255 ? 255 : ${a('optlen')}) << 56) | ((${a('level')} & 0xfff) << 44) | ((${a('optname')} & 0xfff) << 32) | ($v & 0xffffffff);`,
      ...Array.from(
        { length: OPTION_SLOTS },
        (_, i) =>
          `    ${i === 0 ? '' : '} else '}if ($s == ${PENDING + i}) { @ft_o${i}[pid, ${a('fd')}] = $p;`,
      ),
      '    }',
      `    @ft_sk[pid, ${a('fd')}] = $s + 1;`,
      '  }',
      '}',
    ].join('\n'),
  );

  // dup family: only dups of followed sockets leave the kernel (with their stack), and the new
  // fd is followed too. Shells and launchers dup their stdio by the dozen: those stay here.
  const dupExit = (via: number) =>
    [
      `if (@ft_sk[pid, @ft_a0[tid]] == ${FOLLOWED}) {`,
      `  ${emit('dup', { oldFd: '@ft_a0[tid]', newFd: a('ret'), via: String(via) }, '-', undefined)}`,
      `  if (${a('ret')} >= 0) { @ft_sk[pid, ${a('ret')}] = ${FOLLOWED}; }`,
      '}',
      done,
    ].join('\n');
  probe('tracepoint:syscalls:sys_enter_dup', selected, enter(C.dup, [a('fildes')]));
  probe('tracepoint:syscalls:sys_exit_dup', `@ft_in[tid] == ${C.dup}`, dupExit(0));
  probe('tracepoint:syscalls:sys_enter_dup2', selected, enter(C.dup2, [a('oldfd')]));
  probe('tracepoint:syscalls:sys_exit_dup2', `@ft_in[tid] == ${C.dup2}`, dupExit(1));
  probe('tracepoint:syscalls:sys_enter_dup3', selected, enter(C.dup3, [a('oldfd')]));
  probe('tracepoint:syscalls:sys_exit_dup3', `@ft_in[tid] == ${C.dup3}`, dupExit(2));
  probe(
    'tracepoint:syscalls:sys_enter_fcntl',
    selected,
    `if (${a('cmd')} == ${F_DUPFD} || ${a('cmd')} == ${F_DUPFD_CLOEXEC}) {\n  ${enter(C.fcntl, [a('fd')])}\n}`,
  );
  probe('tracepoint:syscalls:sys_exit_fcntl', `@ft_in[tid] == ${C.fcntl}`, dupExit(3));

  // accept()/accept4(): counted in the kernel. The listening fd waits in @ft_afd (plus one, so
  // fd 0 is not "absent") for the exit, where the running total of (pid, tid, fd) goes up by one
  // in @ft_acc and is copied into the map of changed totals of the current interval (@ft_d0 or
  // @ft_d1 by the parity of @ft_tick). Only the first accept of a (pid, tid, fd) is a line, with
  // its stack: the view learns at once who accepts where. Failures (EAGAIN on every wake-up of
  // every worker that shares a queue) are not counted; the new fd is never followed.
  for (const name of ['accept', 'accept4']) {
    probe(`tracepoint:syscalls:sys_enter_${name}`, selected, `${adopt}@ft_afd[tid] = ${a('fd')} + 1;`);
    probe(
      `tracepoint:syscalls:sys_exit_${name}`,
      '@ft_afd[tid] != 0',
      [
        `if (${a('ret')} >= 0) {`,
        '  $fd = @ft_afd[tid] - 1;',
        '  $n = @ft_acc[pid, tid, $fd] + 1;',
        '  @ft_acc[pid, tid, $fd] = $n;',
        '  if (@ft_tick & 1) { @ft_d1[pid, tid, $fd] = $n; } else { @ft_d0[pid, tid, $fd] = $n; }',
        '  if ($n == 1) {',
        `    ${emit('accept', { listenFd: '$fd', fd: a('ret'), family: '0', port: '0' }, '-', undefined)}`,
        '  }',
        '}',
        `${del('@ft_afd', 'tid')};`,
      ].join('\n'),
    );
  }

  // close(): only of followed fds; a pending socket's end stays in the kernel. A forked worker
  // holds copies of its parent's listening fds without entries of its own (nginx's workers close
  // the reuseport sockets of the others): its close of such a copy is printed once, and the fd
  // is then marked CLOSED_COPY so that a connection later given that number is not.
  probe(
    'tracepoint:syscalls:sys_enter_close',
    selected,
    [
      `$s = @ft_sk[pid, ${a('fd')}];`,
      `if ($s == ${FOLLOWED}) {`,
      `  ${enter(C.close, [a('fd'), '0'])}`,
      `} else if ($s >= ${PENDING}) {`,
      `  ${del('@ft_sk', `pid, ${a('fd')}`)}; ${del('@ft_skm', `pid, ${a('fd')}`)}; ${del('@ft_skt', `pid, ${a('fd')}`)};`,
      `} else if ($s == 0 && @ft_sk[curtask->real_parent->tgid, ${a('fd')}] == ${FOLLOWED}) {`,
      `  ${enter(C.close, [a('fd'), '1'])}`,
      '}',
    ].join('\n'),
  );
  probe(
    'tracepoint:syscalls:sys_exit_close',
    `@ft_in[tid] == ${C.close}`,
    [
      emitNoStack('close', { fd: '@ft_a0[tid]', result: a('ret') }, '-', undefined),
      `if (@ft_a1[tid] == 1) { @ft_sk[pid, @ft_a0[tid]] = ${CLOSED_COPY}; } else { ${del('@ft_sk', 'pid, @ft_a0[tid]')}; }`,
      done,
    ].join('\n'),
  );

  // The changed totals of the interval that just ended: the parity flips first, so accepts from
  // now on write to the other map while userspace prints and clears this one.
  const countsLine = `printf("${LISTENER_LINE_TAG} ${COUNTS_KIND} %lu 0 0 0 0 0 0 0 - 00\\n", nsecs);`;
  probe(
    `interval:ms:${intervalMs}`,
    undefined,
    [
      '@ft_tick = @ft_tick + 1;',
      countsLine,
      'if (@ft_tick & 1) { print(@ft_d0); clear(@ft_d0); } else { print(@ft_d1); clear(@ft_d1); }',
    ].join('\n'),
  );

  // At the end every total once more, then nothing else: bpftrace prints every non-empty map at
  // exit, and our bookkeeping is not output.
  const maps = [
    '@ft_in',
    '@ft_a0',
    '@ft_a1',
    '@ft_sk',
    '@ft_skm',
    '@ft_skt',
    ...Array.from({ length: OPTION_SLOTS }, (_, i) => `@ft_o${i}`),
    '@ft_afd',
    '@ft_acc',
    '@ft_d0',
    '@ft_d1',
    '@ft_tick',
    ...(followComm ? ['@ft_pid'] : []),
  ];
  probe(
    'END',
    undefined,
    [countsLine, `print(${ACCEPT_TOTALS_MAP});`, maps.map((m) => `clear(${m});`).join(' ')].join('\n'),
  );
  return lines.join('\n');
}
