// The argument rules of bpftrace's functions beyond arity, return and value kinds (which the
// FUNCTIONS rows of dialects.ts hold per version): which arguments must be literals, which values
// they may take, where a function may be called. Data only: calls.ts applies it in row order,
// stopping at the first rule that reports unless the rule says `continues`.
// Messages: {fn} is the function's name, {provided} the kind of the argument given, {value} its
// literal text.

/** Which argument a rule looks at: an index, the last argument, or every one from an index on. */
export type ArgPosition = number | 'last' | { from: number };

export type ArgRule =
  /** The first argument is a format string literal; `conversions`: checked against the rest. */
  | { rule: 'format'; conversions: boolean }
  /** The argument must be written as a literal (`$1`-style parameters and bare names may be allowed). */
  | {
      rule: 'literal';
      kind: 'string' | 'int';
      at: ArgPosition;
      allowParam?: boolean;
      allowIdent?: boolean;
      /** Report on the call instead of the argument. */
      onCall?: boolean;
      message: string;
      continues?: boolean;
    }
  /** The argument must not be a string (lengths, sizes). */
  | { rule: 'notString'; at: ArgPosition; onCall?: boolean; message: string }
  /** A string literal argument must be one of these values. */
  | { rule: 'oneOf'; at: number; values: readonly string[]; message: string }
  /** An integer literal argument must lie in [min, max]. */
  | { rule: 'range'; at: number; min: number; max: number; message: string; continues?: boolean }
  /** Only these probe types (row names) provide what the function reads. */
  | { rule: 'probes'; only: readonly string[]; message: string; continues?: boolean; until?: number }
  /** A string literal argument matches this pattern. */
  | { rule: 'pattern'; at: number; pattern: RegExp; message: string; until?: number }
  /** signal(): a signal name literal (with or without SIG), or an integer literal in [1, 64]. */
  | { rule: 'signal'; until?: number }
  /** The argument's type is one of these kinds (bpftrace's names: integer, pointer, array...). */
  | { rule: 'kind'; at: number; kinds: readonly string[]; message: string; until?: number }
  /** An integer literal argument must not be negative. */
  | { rule: 'nonNegative'; at: number; message: string; until?: number }
  /** With no length argument the first argument must be an array (its size is the length). */
  | { rule: 'needsLength'; message: string; until?: number }
  /** The argument is a byte array of one of these sizes (strings never are). */
  | { rule: 'bytes'; at: number; sizes: readonly number[]; message: string; until?: number }
  /** The literal text is an IPv4 address (it has a '.') or an IPv6 one (a ':'). */
  | { rule: 'address'; at: number; until?: number }
  /** With two arguments, the first is a stack mode (a bare name). */
  | { rule: 'stackMode'; message: string; until?: number }
  /** An integer literal argument is at most `max`. */
  | { rule: 'atMost'; at: ArgPosition; max: number; message: string; until?: number }
  /** print(@map[, top[, div]]) takes integer literals after a map, nothing after any other value. */
  | { rule: 'printArgs'; until?: number }
  /** The map argument is the whole map, not one of its keys. */
  | { rule: 'wholeMap'; message: string; until?: number };

/** pt_regs names bpftrace accepts in reg() on x86_64. */
export const X86_64_REGISTERS = [
  'r15',
  'r14',
  'r13',
  'r12',
  'bp',
  'bx',
  'r11',
  'r10',
  'r9',
  'r8',
  'ax',
  'cx',
  'dx',
  'si',
  'di',
  'orig_ax',
  'ip',
  'cs',
  'flags',
  'sp',
  'ss',
];

/** Stack modes of kstack()/ustack() by the version that introduced them. */
export const STACK_MODES: Array<[since: number, mode: string]> = [
  [17, 'bpftrace'],
  [17, 'perf'],
  [18, 'raw'],
  [25, 'build_id'],
];

/**
 * Calls that must stand alone, neither assigned nor a map key: bpftrace's
 * check_assignment(call, false, false, false) in semantic_analyser.cpp of v0.17.0 .. v0.22.x.
 */
export const STANDALONE_CALLS = new Set([
  'delete',
  'join',
  'printf',
  'system',
  'cat',
  'debugf',
  'exit',
  'print',
  'clear',
  'zero',
  'time',
  'signal',
  'override',
]);
/** The last minor version whose check_assignment this file describes. */
export const STANDALONE_RULES_UNTIL = 22;

const FORMAT: ArgRule[] = [{ rule: 'format', conversions: true }];
const STRING_LITERAL: ArgRule = {
  rule: 'literal',
  kind: 'string',
  at: 0,
  message: '{fn}() expects a string literal',
};
/** The signal names bpftrace knows (src/ast/signal.cpp), `SIG` prefix optional. */
export const SIGNALS = [
  'ABRT',
  'ALRM',
  'BUS',
  'CHLD',
  'CONT',
  'FPE',
  'HUP',
  'ILL',
  'INT',
  'KILL',
  'PIPE',
  'POLL',
  'QUIT',
  'SEGV',
  'STOP',
  'SYS',
  'TERM',
  'TRAP',
  'TSTP',
  'TTIN',
  'TTOU',
  'URG',
  'USR1',
  'USR2',
  'VTALRM',
  'WINCH',
  'XCPU',
  'XFSZ',
];
/** bpftrace's MAX_STACK_SIZE (src/types.h). */
const MAX_STACK_SIZE = 1024;
/**
 * The rules below marked `until: 22` are read from semantic_analyser.cpp of v0.17.0 and verified
 * against bpftrace 0.17 (test/corpus/literals); the same checks stand there up to v0.22.x.
 */
const CHECKED_UNTIL = 22;
const STACK: ArgRule[] = [
  {
    rule: 'stackMode',
    message: '{fn}() expects a stack mode (bpftrace, perf) as its first argument',
    until: CHECKED_UNTIL,
  },
  {
    rule: 'literal',
    kind: 'int',
    at: 'last',
    allowIdent: true,
    allowParam: true,
    message: '{fn}() expects an integer literal limit',
  },
  {
    rule: 'atMost',
    at: 'last',
    max: MAX_STACK_SIZE,
    message: `{fn}([int limit]): limit shouldn't exceed ${MAX_STACK_SIZE}`,
    until: CHECKED_UNTIL,
  },
];
const NEGATIVE_LENGTH: ArgRule = {
  rule: 'nonNegative',
  at: 1,
  message: '{fn}() cannot use a negative length',
  until: CHECKED_UNTIL,
};
const WHOLE_MAP: ArgRule = {
  rule: 'wholeMap',
  message: 'The map passed to {fn}() should not be indexed by a key',
  until: CHECKED_UNTIL,
};
const FORMAT_LITERAL: ArgRule = { ...STRING_LITERAL, onCall: true };
/** bpftrace's check_arg(call, type, n): argument n is of that type (integer or string). */
function only(kind: 'integer' | 'string', at: number): ArgRule {
  return {
    rule: 'kind',
    at,
    kinds: [kind],
    message: `{fn}() only supports ${kind} arguments ({provided} provided)`,
    until: CHECKED_UNTIL,
  };
}
/** kprobes and uprobes (usdt: uprobes at markers), as row names: they stop a task in its code, with its registers. */
const CODE_PROBES = ['kprobe', 'kretprobe', 'uprobe', 'uretprobe', 'usdt'];
/**
 * bpftrace's `{fn} can not be used with "{probe}" probes`: only these probe types (row names)
 * provide what the function reads.
 */
function usedOnlyIn(probes: readonly string[], options: { continues?: boolean } = {}): ArgRule {
  return {
    rule: 'probes',
    only: probes,
    message: '{fn} can not be used with "{probe}" probes',
    ...options,
    until: CHECKED_UNTIL,
  };
}

/** Per function name; functions absent here have only their FUNCTIONS row's checks. */
export const SIGNATURES: Record<string, ArgRule[]> = {
  printf: FORMAT,
  system: FORMAT,
  debugf: FORMAT,
  errorf: FORMAT,
  warnf: FORMAT,
  cat: [{ rule: 'format', conversions: false }],
  str: [
    {
      rule: 'kind',
      at: 0,
      kinds: ['integer', 'pointer'],
      message: '{fn}() expects an integer or a pointer type as first argument ({provided} provided)',
      until: CHECKED_UNTIL,
    },
    NEGATIVE_LENGTH,
    { rule: 'notString', at: 1, message: '{fn}() expects an integer length as its second argument' },
  ],
  buf: [
    {
      rule: 'kind',
      at: 0,
      kinds: ['integer', 'string', 'pointer', 'array'],
      message: '{fn}() expects an integer, string, or array argument but saw {provided}',
      until: CHECKED_UNTIL,
    },
    {
      rule: 'needsLength',
      message: '{fn}() expects a length argument for non-array type {provided}',
      until: CHECKED_UNTIL,
    },
    NEGATIVE_LENGTH,
    { rule: 'notString', at: 1, message: '{fn}() expects an integer length as its second argument' },
  ],
  join: [
    {
      rule: 'kind',
      at: 0,
      kinds: ['integer', 'pointer'],
      message: '{fn}() only supports int or pointer arguments ({provided} provided)',
      until: CHECKED_UNTIL,
    },
    {
      rule: 'literal',
      kind: 'string',
      at: 1,
      onCall: true,
      message: '{fn}() expects a string literal as its delimiter',
    },
  ],
  cgroup_path: [only('integer', 0), only('string', 1)],
  strftime: [FORMAT_LITERAL],
  time: [FORMAT_LITERAL],
  macaddr: [
    {
      rule: 'bytes',
      at: 0,
      sizes: [6],
      message: '{fn}() argument must be 6 bytes in size',
      until: CHECKED_UNTIL,
    },
  ],
  print: [{ rule: 'printArgs', until: CHECKED_UNTIL }],
  // Verified on 0.17: `strncmp(comm, "bash", $n)` -> "strncmp() expects a integer literal".
  strncmp: [
    only('string', 0),
    only('string', 1),
    {
      rule: 'literal',
      kind: 'int',
      at: 2,
      allowParam: true,
      message: 'strncmp() expects an integer literal length ({provided} provided)',
    },
  ],
  path: [
    {
      rule: 'probes',
      only: ['fentry', 'fexit', 'iter'],
      message: "The path function can only be used with 'kfunc', 'kretfunc', 'iter' probes",
      until: CHECKED_UNTIL,
    },
  ],
  signal: [
    usedOnlyIn([...CODE_PROBES, 'tracepoint', 'profile', 'fentry', 'fexit']),
    { rule: 'signal', until: CHECKED_UNTIL },
  ],
  override: [
    {
      rule: 'probes',
      only: ['kprobe'],
      message: '{fn} can only be used with kprobes.',
      continues: true,
      until: CHECKED_UNTIL,
    },
    only('integer', 0),
  ],
  clear: [WHOLE_MAP],
  zero: [WHOLE_MAP],
  ntop: [
    {
      rule: 'notString',
      at: 'last',
      onCall: true,
      message: 'ntop() argument must be 4 or 16 bytes in size (an integer or a char[4]/char[16] array)',
    },
  ],
  kstack: STACK,
  ustack: STACK,
  reg: [
    usedOnlyIn(
      [...CODE_PROBES, 'profile', 'interval', 'software', 'hardware', 'watchpoint', 'asyncwatchpoint'],
      { continues: true },
    ),
    {
      rule: 'oneOf',
      at: 0,
      values: X86_64_REGISTERS,
      message: "'{value}' is not a valid register on this architecture (x86_64)",
    },
    STRING_LITERAL,
  ],
  // Verified on 0.17: uaddr in a kprobe/kretprobe/tracepoint/BEGIN probe is an error.
  uaddr: [
    {
      rule: 'probes',
      only: ['uprobe', 'uretprobe', 'usdt'],
      message: 'uaddr can not be used with "{probe}" probes (only uprobe, uretprobe and usdt)',
      continues: true,
    },
    STRING_LITERAL,
    {
      rule: 'pattern',
      at: 0,
      pattern: /^[a-zA-Z0-9./_-]+$/,
      message: '{fn}() expects a string that is a valid symbol (letters, digits, . / _ -) as input',
      until: CHECKED_UNTIL,
    },
  ],
  kaddr: [STRING_LITERAL],
  cgroupid: [STRING_LITERAL],
  pton: [STRING_LITERAL, { rule: 'address', at: 0, until: CHECKED_UNTIL }],
  percpu_kaddr: [STRING_LITERAL],
  hist: [
    { rule: 'range', at: 1, min: 0, max: 5, message: 'hist() bits must be between 0 and 5', continues: true },
  ],
  lhist: [
    {
      rule: 'literal',
      kind: 'int',
      at: { from: 1 },
      allowParam: true,
      message: 'lhist() min, max and step must be integer literals',
      continues: true,
    },
  ],
};
