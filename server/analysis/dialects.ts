// The bpftrace dialect table: every language difference between 0.17 and 0.26 the server
// knows, in one place. Checks and features ask a Dialect; none compares version numbers itself.
// Sources: bpftrace CHANGELOG, reference guide/man page per tag, and ../shared/BPFTRACE-LANGUAGE.md.
import { parseBpftraceVersion } from '../../common/bpftrace-version';

export const OLDEST_SUPPORTED = 17;
/** The newest release: the dialect assumed when nothing says which. */
export const LATEST = 26;
/**
 * bpftrace's development branch as read at commit e1b7c39341f77374ba8fe8febfa2284896c4941d
 * (its CHANGELOG's "Unreleased" section): asked for as `main` (or 0.27 and later).
 */
export const MAIN = 27;
export const MAIN_COMMIT = 'e1b7c39341f77374ba8fe8febfa2284896c4941d';

/** A minor version number (bpftrace has only had 0.x releases). */
type Minor = number;

interface FeatureRow {
  since: Minor;
  /** Last version that has it (inclusive). */
  until?: Minor;
  /** From this version on, using it is a deprecation warning. */
  deprecated?: Minor;
  description: string;
}

/** Versioned language features. */
export const FEATURES = {
  argsDot: { since: 19, description: '`args.field` (args is a struct, not a pointer)' },
  offsetof: { since: 18, description: '`offsetof(T, field)`' },
  arrayCast: { since: 19, description: 'casts to arrays `(uint8[8])x`' },
  config: { since: 20, description: 'the `config = { ... }` preamble' },
  kprobeModule: { since: 20, description: '`kprobe:module:function`' },
  fentryNames: { since: 20, description: 'probe names `fentry`/`fexit` (were `kfunc`/`kretfunc`)' },
  forMap: { since: 21, description: '`for ($kv : @map)` loops' },
  let: { since: 22, description: '`let` declarations' },
  blockScoping: { since: 22, description: 'block scoping of scratch variables' },
  useBeforeAssign: { since: 23, description: 'scratch variables read before assignment' },
  forRange: { since: 24, description: 'range loops `for ($i : 0..10)`' },
  breakInFor: { since: 24, description: '`break`/`continue` in `for` loops' },
  shortInterval: { since: 24, description: 'short forms `interval:1s`, `profile:99`' },
  durations: { since: 24, description: 'duration literals (`100ms`, `1s`)' },
  booleans: { since: 24, description: '`true`/`false` literals and `bool`' },
  builtinCalls: { since: 24, description: 'builtins called as functions (`nsecs()`)' },
  caseInsensitiveProviders: {
    since: 24,
    description: 'lower-case `begin`/`end` and case-insensitive providers',
  },
  // v0.25.0 src/parser.yy `if_stmt: IF cond_expr` (v0.24.0 still has `IF "(" expr ")"`, though the
  // 0.24.0 CHANGELOG lists it); without parentheses the condition is a unary expression only.
  ifWithoutParens: { since: 25, description: '`if` conditions without parentheses' },
  // v0.25.0 src/parser.yy `for_stmt: FOR var ":" map none_block` and `FOR var ":" range ...`.
  forWithoutParens: { since: 25, description: '`for $x : ...` without parentheses' },
  blockExpressions: { since: 24, description: 'block expressions `{ ...; value }`' },
  // Bare `{ }` blocks: bpftrace PR #4223 (merged 2025-05, so 0.24); 0.17 rejects them and `;;`
  // (verified). Empty statements are tied to the same version (a guess).
  blockStatements: { since: 24, description: 'nested `{ }` blocks as statements' },
  macro: { since: 24, description: '`macro name(...) { }` definitions' },
  // v0.25.0 src/ast/passes/macro_expansion.cpp MacroRegistry: definitions of one name that differ
  // in their `$`/`@`/identifier parameters; v0.24.0 reports any second definition.
  macroOverloads: { since: 25, description: 'several macros of one name (by their parameters)' },
  mapDeclarations: { since: 24, description: 'map declarations `let @m = hash(N);`' },
  multipleBeginEnd: { since: 25, description: 'more than one BEGIN/END probe' },
  // CHANGELOG 0.25.0 "Probes may now be named" (PR #4752): the name is split off the attach
  // point's first part at its first '=' (v0.25.0 src/ast/passes/attachpoint_passes.cpp
  // parse_attachpoint). 0.25's grammar reaches that only through the `==` token (parser.yy
  // attach_point_elem `EQ { $$ = "="; }`; a lone `=` is ASSIGN, a syntax error there); 0.26's
  // parser takes the raw text up to a space (parser.cpp parse_attach_point), so `name=kprobe:f`.
  namedProbes: { since: 25, description: 'named probes `name=kprobe:f { }`' },
  namedProbeDoubleEquals: {
    since: 25,
    until: 25,
    description: "a probe named with `==` (`name==kprobe:f`), the token 0.25's grammar takes there",
  },
  // Up to 0.25 an attach point is the concatenation of its tokens (parser.yy attach_point_def),
  // so spaces between them are dropped (`interval : s : 1`, verified on 0.17); 0.26's parser
  // ends it at a space (parser.cpp parse_attach_point) and then wants `{`, `,` or `/`.
  spacedAttachPoints: {
    since: 17,
    until: 25,
    description: 'spaces inside an attach point (`interval : s : 1`)',
  },
  import: { since: 25, description: '`import "file";`' },
  // 0.17 rejects a tuple variable as a key (verified); map keys became tuples with
  // bpftrace PR #3390 (merged 2024-09, first released in 0.22).
  tupleKeys: { since: 22, description: 'tuples as map keys' },
  stringIndex: { since: 25, description: 'indexing strings `comm[0]`' },
  records: { since: 25, description: 'records `(name = value, ...)`' },
  emptyTuples: { since: 25, description: 'empty and one-element tuples' },
  shortTernary: { since: 26, description: 'the short ternary `a ?: b`' },
  // v0.25.0 src/parser.yy: comptime_expr, typeof_expr (any_type), typeinfo_expr.
  comptime: { since: 25, description: '`comptime expr`' },
  typeofType: { since: 25, description: '`typeof(x)` as a type' },
  typeinfo: { since: 25, description: '`typeinfo(x)` (unstable)' },
  addressOf: { since: 24, description: 'the address-of operator `&x`' },
  whileLoop: { since: 17, deprecated: 25, description: '`while` loops' },
  sargs: { since: 17, until: 24, deprecated: 21, description: '`sarg0`..`sarg9`' },
  delete2: { since: 22, description: '`delete(@map, key)`' },
  exitCode: { since: 21, description: '`exit(code)`' },
  // attached_probe.cpp (0.21-0.24): "Could not resolve symbol: …, cannot attach probe" for a
  // probe with one attach point; ap_probe_expansion.cpp (0.25 on): "No matches for …".
  missingProbesError: {
    since: 21,
    description: 'a probe that matches nothing is an error (config `missing_probes`), not left out',
  },
  noMatchesPass: { since: 25, description: 'probes that match nothing are found before attaching' },
  // See integers.ts: a scratch variable's explicit integer cast types, by version.
  integerVariablesKeepType: {
    since: 22,
    until: 24,
    description: 'a scratch variable keeps the integer type of its first value',
  },
  integerVariablesPromote: {
    since: 25,
    until: 25,
    description: 'a scratch variable takes an integer type that holds each value (none past 64 bits)',
  },
  // See map-integers.ts: signs of map values and keys, by version.
  mapIntegerSign: {
    since: 24,
    until: 24,
    description: 'a map keeps the sign of its first integer value and key',
  },
  mapIntegerPromote: {
    since: 25,
    until: 25,
    description: 'map values and keys take an integer type that holds each (none past 64 bits)',
  },
  // See declarations.ts: 0.25 keeps a declared integer type (types/type_resolver.cpp
  // sized_decl_vars_) and casts each value to it (types/cast_creator.cpp try_int_cast).
  // See integers.ts firstDeclaredValue: fixed by bpftrace PR #4180 (commit 7cdf36013, v0.24).
  declaredLiteralUpcast: {
    since: 22,
    until: 23,
    description: 'a literal first given to a variable declared with an integer type makes it int64',
  },
  declaredIntegerKept: {
    since: 25,
    description: 'a variable declared with an integer type keeps it; literals must fit',
  },
  declaredIntegerStrict: {
    since: 25,
    until: 25,
    description: 'a value of a declared integer variable must fit its type (0.26 warns)',
  },
  // v0.26.0 src/parser.cpp parse_type: any identifier (a typedef resolved later).
  anyDeclarationTypeName: { since: 26, description: 'any type name in `let $x: T`' },
  // v0.22.0 src/ast/passes/semantic_analyser.cpp visit(Builtin): `probe` is CreateProbe(), its own
  // type; v0.23.0 makes it a string (CHANGELOG 0.23.0 "`probe` builtin is now represented as a
  // string type"), so `probe == "..."` compiles only from 0.23.
  probeString: { since: 23, description: 'the `probe` builtin is a string' },
  // strerror() returns strerror_t up to 0.24 (v0.24.0 semantic_analyser.cpp CreateStrerror), a
  // string from 0.25 (v0.25.0 src/stdlib/strings.bt `:variant string strerror(int error)`).
  strerrorString: { since: 25, description: '`strerror()` returns a string' },
  // v0.24.0 src/format_string.cpp FormatString::check: `%s` takes a value of any type ("Anything
  // goes"); up to 0.23 it wants a string (format_string.cpp "specifier expects a value of type").
  printfAnyString: { since: 24, description: 'printf `%s` prints a value of any type' },
  mapValueRead: { since: 21, description: 'reading `count()`/`sum()` map values in kernel code' },
  // 0.17 rejects them (verified: "Unknown struct/union: 'pid_t'"); BTF integer types in casts
  // came with bpftrace PR #4853 (merged 2025-11, so 0.25).
  typedefCasts: { since: 25, description: 'casts to kernel typedefs such as `(pid_t)x`' },
  printfPercentQuirk: {
    since: 17,
    until: 17,
    description: '`%%d` in a printf format counted as a `%d` conversion',
  },
  // Verified on 0.17; comes from the flex rule `"//".*$`, and flex was the lexer until 0.26's
  // hand-written parser, so 0.25 is inferred as the last version with it.
  trailingCommentQuirk: {
    since: 17,
    until: 25,
    description: 'a `//` comment on a last line without a newline is read as the end of a predicate',
  },
} satisfies Record<string, FeatureRow>;

export type Feature = keyof typeof FEATURES;

export interface ProbeRow {
  name: string;
  aliases: string[];
  since: Minor;
  until?: Minor;
  /** Allowed numbers of parts after the provider, by version: [since, min, max][] (latest row wins). */
  parts: Array<[Minor, number, number]>;
  args?: boolean;
  argN?: boolean;
  retval?: boolean;
  /** Can have a predicate (all but iter-less specials do). */
  doc: string;
  /** Snippet for completion. */
  snippet: string;
  /** When the name was renamed: the name in older dialects. */
  renamedFrom?: { name: string; until: Minor };
}

export const PROBES: ProbeRow[] = [
  {
    name: 'BEGIN',
    aliases: [],
    since: 17,
    parts: [[17, 0, 0]],
    doc: 'Runs once when bpftrace starts.',
    snippet: 'BEGIN',
  },
  {
    name: 'END',
    aliases: [],
    since: 17,
    parts: [[17, 0, 0]],
    doc: 'Runs once when bpftrace exits.',
    snippet: 'END',
  },
  {
    name: 'kprobe',
    aliases: ['k'],
    since: 17,
    parts: [
      [17, 1, 1],
      [20, 1, 2],
    ],
    argN: true,
    doc: 'Kernel function entry: `kprobe[:module]:function[+offset]`.',
    snippet: 'kprobe:${1:function}',
  },
  {
    name: 'kretprobe',
    aliases: ['kr'],
    since: 17,
    parts: [
      [17, 1, 1],
      [20, 1, 2],
    ],
    retval: true,
    doc: 'Kernel function return: `kretprobe[:module]:function`.',
    snippet: 'kretprobe:${1:function}',
  },
  {
    name: 'uprobe',
    aliases: ['u'],
    since: 17,
    parts: [[17, 2, 3]],
    argN: true,
    doc: 'User function entry: `uprobe:binary:function`.',
    snippet: 'uprobe:${1:binary}:${2:function}',
  },
  {
    name: 'uretprobe',
    aliases: ['ur'],
    since: 17,
    parts: [[17, 2, 3]],
    retval: true,
    doc: 'User function return: `uretprobe:binary:function`.',
    snippet: 'uretprobe:${1:binary}:${2:function}',
  },
  {
    name: 'usdt',
    aliases: ['U'],
    since: 17,
    parts: [[17, 1, 3]],
    argN: true,
    doc: 'User static tracepoint: `usdt:binary:[provider:]probe`.',
    snippet: 'usdt:${1:binary}:${2:probe}',
  },
  {
    name: 'tracepoint',
    aliases: ['t'],
    since: 17,
    parts: [[17, 2, 2]],
    args: true,
    doc: 'Kernel static tracepoint: `tracepoint:category:event`. Fields through `args`.',
    snippet: 'tracepoint:${1:category}:${2:event}',
  },
  {
    name: 'rawtracepoint',
    aliases: ['rt'],
    since: 18,
    parts: [
      [18, 1, 1],
      [24, 1, 2],
    ],
    argN: true,
    doc: 'Raw kernel tracepoint: `rawtracepoint[:module]:event`.',
    snippet: 'rawtracepoint:${1:event}',
  },
  {
    name: 'profile',
    aliases: ['p'],
    since: 17,
    parts: [
      [17, 2, 2],
      [24, 1, 2],
    ],
    doc: 'Timed sampling on every CPU: `profile:hz:99`, `profile:ms:10`.',
    snippet: 'profile:hz:${1:99}',
  },
  {
    name: 'interval',
    aliases: ['i'],
    since: 17,
    parts: [
      [17, 2, 2],
      [24, 1, 2],
    ],
    doc: 'Timed output on one CPU: `interval:s:1`, `interval:ms:100`.',
    snippet: 'interval:s:${1:1}',
  },
  {
    name: 'software',
    aliases: ['s'],
    since: 17,
    parts: [[17, 1, 2]],
    doc: 'Kernel software event: `software:event[:count]`.',
    snippet: 'software:${1:cpu-clock}:${2:1000}',
  },
  {
    name: 'hardware',
    aliases: ['h'],
    since: 17,
    parts: [[17, 1, 2]],
    doc: 'Processor hardware event: `hardware:event[:count]`.',
    snippet: 'hardware:${1:cache-misses}:${2:1000}',
  },
  {
    name: 'watchpoint',
    aliases: ['w'],
    since: 17,
    parts: [[17, 3, 3]],
    doc: 'Memory watchpoint: `watchpoint:address:length:mode`.',
    snippet: 'watchpoint:${1:0x0}:${2:8}:${3:w}',
  },
  {
    name: 'asyncwatchpoint',
    aliases: ['aw'],
    since: 17,
    until: 24,
    parts: [[17, 3, 3]],
    doc: 'Asynchronous memory watchpoint.',
    snippet: 'asyncwatchpoint:${1:func+arg0}:${2:8}:${3:w}',
  },
  {
    name: 'fentry',
    aliases: ['f', 'kfunc'],
    since: 17,
    parts: [[17, 1, 2]],
    args: true,
    argN: false,
    doc: 'Kernel function entry through BTF (`kfunc` before 0.20): `fentry[:module]:function`. Arguments by name through `args`.',
    snippet: 'fentry:${1:function}',
    renamedFrom: { name: 'kfunc', until: 19 },
  },
  {
    name: 'fexit',
    aliases: ['fr', 'kretfunc'],
    since: 17,
    parts: [[17, 1, 2]],
    args: true,
    retval: true,
    doc: 'Kernel function return through BTF (`kretfunc` before 0.20).',
    snippet: 'fexit:${1:function}',
    renamedFrom: { name: 'kretfunc', until: 19 },
  },
  {
    name: 'iter',
    aliases: ['it'],
    since: 17,
    parts: [[17, 1, 2]],
    doc: 'BPF iterator over kernel objects: `iter:task`, `iter:task_file`...',
    snippet: 'iter:${1:task}',
  },
  {
    name: 'self',
    aliases: [],
    since: 22,
    parts: [[22, 2, 2]],
    doc: 'Events of bpftrace itself: `self:signal:SIGUSR1`.',
    snippet: 'self:signal:${1:SIGUSR1}',
  },
  {
    name: 'bench',
    aliases: [],
    since: 24,
    parts: [[24, 1, 1]],
    doc: 'Benchmark probe, run with `--bench`.',
    snippet: 'bench:${1:name}',
  },
  {
    name: 'test',
    aliases: [],
    since: 25,
    parts: [[25, 1, 1]],
    doc: 'Test probe, run with `--test`.',
    snippet: 'test:${1:name}',
  },
];

export type ValueKind = 'int' | 'string' | 'stack' | 'pointer' | 'any' | 'map' | 'sym' | 'other';

export interface BuiltinRow {
  name: string;
  type: string;
  kind: ValueKind;
  since: Minor;
  until?: Minor;
  deprecated?: Minor;
  /** Probe kinds that provide it (row names); absent = everywhere. */
  probes?: string[];
  doc: string;
}

export const BUILTINS: BuiltinRow[] = [
  { name: 'pid', type: 'uint64', kind: 'int', since: 17, doc: 'Process id (kernel tgid).' },
  { name: 'tid', type: 'uint64', kind: 'int', since: 17, doc: 'Thread id (kernel pid).' },
  { name: 'uid', type: 'uint64', kind: 'int', since: 17, doc: 'User id.' },
  { name: 'gid', type: 'uint64', kind: 'int', since: 17, doc: 'Group id.' },
  { name: 'username', type: 'username', kind: 'string', since: 17, doc: 'User name.' },
  { name: 'comm', type: 'string[16]', kind: 'string', since: 17, doc: 'Name of the current thread.' },
  { name: 'nsecs', type: 'uint64', kind: 'int', since: 17, doc: 'Nanosecond timestamp (monotonic).' },
  { name: 'elapsed', type: 'uint64', kind: 'int', since: 17, doc: 'Nanoseconds since bpftrace started.' },
  { name: 'cpu', type: 'uint32', kind: 'int', since: 17, doc: 'Processor id.' },
  { name: 'ncpus', type: 'uint64', kind: 'int', since: 24, doc: 'Number of CPUs.' },
  { name: 'numaid', type: 'uint32', kind: 'int', since: 17, doc: 'NUMA node id.' },
  { name: 'curtask', type: 'uint64', kind: 'pointer', since: 17, doc: 'Current `struct task_struct *`.' },
  { name: 'rand', type: 'uint32', kind: 'int', since: 17, doc: 'Random number.' },
  { name: 'cgroup', type: 'uint64', kind: 'int', since: 17, doc: 'Cgroup v2 id of the current process.' },
  { name: 'cpid', type: 'uint32', kind: 'int', since: 17, doc: 'Pid of the child command (`-c`).' },
  { name: 'jiffies', type: 'uint64', kind: 'int', since: 20, doc: 'Jiffies of the kernel.' },
  { name: 'usermode', type: 'uint8', kind: 'int', since: 24, doc: '1 if the probe fired in user mode.' },
  {
    name: 'func',
    type: 'ksym',
    kind: 'sym',
    since: 17,
    probes: ['kprobe', 'uprobe', 'fentry', 'fexit', 'kretprobe', 'uretprobe'],
    doc: 'Name of the traced function.',
  },
  { name: 'probe', type: 'string', kind: 'string', since: 17, doc: 'Full name of the probe.' },
  { name: 'probetype', type: 'string', kind: 'string', since: 25, doc: 'Type of the probe.' },
  {
    name: 'args',
    type: 'args',
    kind: 'other',
    since: 17,
    probes: ['tracepoint', 'fentry', 'fexit', 'uprobe', 'rawtracepoint'],
    doc: 'Arguments of the probe: tracepoint fields, or function arguments by name (BTF/DWARF).',
  },
  {
    name: 'retval',
    type: 'uint64',
    kind: 'int',
    since: 17,
    probes: ['kretprobe', 'uretprobe', 'fexit'],
    doc: 'Return value of the traced function.',
  },
  {
    name: 'ctx',
    type: 'void *',
    kind: 'pointer',
    since: 17,
    doc: 'Pointer to the probe context (iter fields).',
  },
  { name: 'kstack', type: 'kstack', kind: 'stack', since: 17, doc: 'Kernel stack trace.' },
  { name: 'ustack', type: 'ustack', kind: 'stack', since: 17, doc: 'User stack trace.' },
  { name: 'true', type: 'bool', kind: 'int', since: 24, doc: 'Boolean true.' },
  { name: 'false', type: 'bool', kind: 'int', since: 24, doc: 'Boolean false.' },
  { name: 'pcomm', type: 'string[16]', kind: 'string', since: 25, doc: 'Name of the process (main thread).' },
  { name: 'ppid', type: 'uint32', kind: 'int', since: 25, doc: 'Parent process id.' },
];
for (let i = 0; i < 10; i++) {
  BUILTINS.push({
    name: `arg${i}`,
    type: 'uint64',
    kind: 'int',
    since: 17,
    probes: ['kprobe', 'uprobe', 'usdt', 'rawtracepoint'],
    doc: `Argument ${i} of the traced function.`,
  });
  BUILTINS.push({
    name: `sarg${i}`,
    type: 'uint64',
    kind: 'int',
    since: 17,
    until: 24,
    deprecated: 21,
    probes: ['kprobe', 'uprobe', 'usdt'],
    doc: `Stack argument ${i}.`,
  });
}

export interface FunctionRow {
  name: string;
  /** [since, min, max] by version; the latest row not newer than the target applies. */
  arity: Array<[Minor, number, number]>;
  since: Minor;
  until?: Minor;
  /** Returns a value kind (for printf checks and assignments). */
  returns: ValueKind | 'none';
  /** Aggregation: must be assigned directly to a map. */
  aggregate?: boolean;
  /** Handled in user space: cannot be assigned or used as a map key. */
  async?: boolean;
  /** Needs `bpftrace --unsafe`. */
  unsafe?: boolean;
  /** Argument kinds expected (by position) for kind checks; '*' any. */
  argKinds?: Array<ValueKind | '*'>;
  /** Positions of arguments that are bare names (a struct member), not expressions. */
  names?: number[];
  signature: string;
  snippet: string;
  doc: string;
}

const VAR = 128;

type StdlibEntry = [
  name: string,
  min: number,
  max: number,
  returns: FunctionRow['returns'],
  signature: string,
  doc: string,
  extra?: Partial<FunctionRow>,
];

/** Rows of standard-library functions added in one version. */
function stdlib(since: Minor, entries: StdlibEntry[]): FunctionRow[] {
  return entries.map(([name, min, max, returns, signature, doc, extra]) => ({
    name,
    arity: [[since, min, max]],
    since,
    returns,
    signature,
    snippet: `${name}(${min ? '${1}' : ''})`,
    doc,
    ...extra,
  }));
}

export const FUNCTIONS: FunctionRow[] = [
  {
    name: 'printf',
    arity: [[17, 1, VAR]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['string'],
    signature: 'printf(fmt: string, ...args)',
    snippet: 'printf("${1:%s}\\n"${2:, ${3:comm}});',
    doc: 'Print formatted text.',
  },
  {
    name: 'print',
    arity: [[17, 1, 3]],
    since: 17,
    returns: 'none',
    async: true,
    signature: 'print(value | @map[, top[, div]])',
    snippet: 'print(${1:@map});',
    doc: 'Print a value or a map.',
  },
  {
    name: 'time',
    arity: [[17, 0, 1]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['string'],
    signature: 'time([fmt: string])',
    snippet: 'time("${1:%H:%M:%S}\\n");',
    doc: 'Print the current time.',
  },
  {
    name: 'join',
    arity: [[17, 1, 2]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['*', 'string'],
    signature: 'join(char *arr[][, sep: string])',
    snippet: 'join(${1:args->argv});',
    doc: 'Print an array of strings joined by a separator.',
  },
  {
    name: 'cat',
    arity: [[17, 1, VAR]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['string'],
    signature: 'cat(filename: string, ...args)',
    snippet: 'cat("${1:/proc/loadavg}");',
    doc: 'Print the contents of a file.',
  },
  {
    name: 'system',
    unsafe: true,
    arity: [[17, 1, VAR]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['string'],
    signature: 'system(fmt: string, ...args)',
    snippet: 'system("${1:command}");',
    doc: 'Run a shell command (needs --unsafe).',
  },
  {
    name: 'exit',
    arity: [
      [17, 0, 0],
      [21, 0, 1],
    ],
    since: 17,
    returns: 'none',
    async: true,
    signature: 'exit([code])',
    snippet: 'exit();',
    doc: 'Stop bpftrace.',
  },
  {
    name: 'str',
    arity: [[17, 1, 2]],
    since: 17,
    returns: 'string',
    argKinds: ['*', 'int'],
    signature: 'str(char *data[, length])',
    snippet: 'str(${1:arg0})',
    doc: 'Read a NUL-terminated string from kernel or user memory.',
  },
  {
    name: 'buf',
    arity: [[17, 1, 2]],
    since: 17,
    returns: 'other',
    argKinds: ['*', 'int'],
    signature: 'buf(void *data[, length])',
    snippet: 'buf(${1:arg0}, ${2:16})',
    doc: 'Read a buffer (print with %r).',
  },
  {
    name: 'ksym',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'sym',
    argKinds: ['int'],
    signature: 'ksym(addr)',
    snippet: 'ksym(${1:addr})',
    doc: 'Kernel symbol of an address.',
  },
  {
    name: 'usym',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'sym',
    argKinds: ['int'],
    signature: 'usym(addr)',
    snippet: 'usym(${1:addr})',
    doc: 'User symbol of an address.',
  },
  {
    name: 'kaddr',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    argKinds: ['string'],
    signature: 'kaddr(name: string)',
    snippet: 'kaddr("${1:symbol}")',
    doc: 'Address of a kernel symbol.',
  },
  {
    name: 'uaddr',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    argKinds: ['string'],
    signature: 'uaddr(name: string)',
    snippet: 'uaddr("${1:symbol}")',
    doc: 'Address of a user symbol (uprobe/usdt).',
  },
  {
    name: 'reg',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    argKinds: ['string'],
    signature: 'reg(name: string)',
    snippet: 'reg("${1:ip}")',
    doc: 'Value of a register.',
  },
  {
    name: 'kstack',
    arity: [[17, 0, 2]],
    since: 17,
    returns: 'stack',
    signature: 'kstack([mode][, limit])',
    snippet: 'kstack(${1:10})',
    doc: 'Kernel stack; mode `bpftrace` or `perf`.',
  },
  {
    name: 'ustack',
    arity: [[17, 0, 2]],
    since: 17,
    returns: 'stack',
    signature: 'ustack([mode][, limit])',
    snippet: 'ustack(${1:10})',
    doc: 'User stack; mode `bpftrace` or `perf`.',
  },
  {
    name: 'ntop',
    arity: [[17, 1, 2]],
    since: 17,
    returns: 'other',
    signature: 'ntop([af,] addr)',
    snippet: 'ntop(${1:addr})',
    doc: 'Printable IPv4/IPv6 address.',
  },
  {
    name: 'pton',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'other',
    argKinds: ['string'],
    signature: 'pton(addr: string)',
    snippet: 'pton("${1:127.0.0.1}")',
    doc: 'Address bytes of a textual IP address.',
  },
  {
    name: 'cgroupid',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    argKinds: ['string'],
    signature: 'cgroupid(path: string)',
    snippet: 'cgroupid("${1:/sys/fs/cgroup/}")',
    doc: 'Id of a cgroup.',
  },
  {
    name: 'cgroup_path',
    arity: [[17, 1, 2]],
    since: 17,
    returns: 'other',
    async: true,
    signature: 'cgroup_path(id[, filter])',
    snippet: 'cgroup_path(${1:cgroup})',
    doc: 'Path of a cgroup.',
  },
  {
    name: 'signal',
    unsafe: true,
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'none',
    signature: 'signal(sig)',
    snippet: 'signal("${1:SIGKILL}");',
    doc: 'Send a signal to the current process (needs --unsafe).',
  },
  {
    name: 'override',
    unsafe: true,
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'none',
    argKinds: ['int'],
    signature: 'override(rc)',
    snippet: 'override(${1:-1});',
    doc: 'Override the return value of a kprobe (needs --unsafe).',
  },
  {
    name: 'strncmp',
    arity: [[17, 3, 3]],
    since: 17,
    returns: 'int',
    argKinds: ['string', 'string', 'int'],
    signature: 'strncmp(s1: string, s2: string, n)',
    snippet: 'strncmp(${1:comm}, "${2:bash}", ${3:4})',
    doc: 'Compare the first n characters of two strings.',
  },
  {
    name: 'strcontains',
    arity: [[17, 2, 2]],
    since: 17,
    returns: 'int',
    argKinds: ['string', 'string'],
    signature: 'strcontains(haystack: string, needle: string)',
    snippet: 'strcontains(${1:comm}, "${2:x}")',
    doc: 'Whether a string contains another.',
  },
  {
    name: 'strerror',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'other',
    argKinds: ['int'],
    signature: 'strerror(errno)',
    snippet: 'strerror(${1:-retval})',
    doc: 'Message of an errno.',
  },
  {
    name: 'strftime',
    arity: [[17, 2, 2]],
    since: 17,
    returns: 'other',
    argKinds: ['string', 'int'],
    signature: 'strftime(fmt: string, nsecs)',
    snippet: 'strftime("${1:%H:%M:%S}", ${2:nsecs})',
    doc: 'Formatted time (printable only).',
  },
  {
    name: 'path',
    arity: [
      [17, 1, 1],
      [22, 1, 2],
    ],
    since: 17,
    returns: 'string',
    signature: 'path(struct path *[, size])',
    snippet: 'path(${1:args->path})',
    doc: 'Full path of a `struct path`.',
  },
  {
    name: 'macaddr',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'other',
    signature: 'macaddr(char[6])',
    snippet: 'macaddr(${1:addr})',
    doc: 'Printable MAC address.',
  },
  {
    name: 'bswap',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    argKinds: ['int'],
    signature: 'bswap(n)',
    snippet: 'bswap(${1:n})',
    doc: 'Reverse the byte order of an integer.',
  },
  {
    name: 'skboutput',
    arity: [[17, 4, 4]],
    since: 17,
    returns: 'int',
    signature: 'skboutput(path, skb, len, offset)',
    snippet: 'skboutput("${1:file.pcap}", ${2:args->skb}, ${3:len}, ${4:0})',
    doc: 'Write an skb to a pcap file.',
  },
  {
    name: 'kptr',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'pointer',
    signature: 'kptr(p)',
    snippet: 'kptr(${1:p})',
    doc: 'Mark a pointer as kernel memory.',
  },
  {
    name: 'uptr',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'pointer',
    signature: 'uptr(p)',
    snippet: 'uptr(${1:p})',
    doc: 'Mark a pointer as user memory.',
  },
  {
    name: 'clear',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['map'],
    signature: 'clear(@map)',
    snippet: 'clear(${1:@map});',
    doc: 'Remove every element of a map.',
  },
  {
    name: 'zero',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['map'],
    signature: 'zero(@map)',
    snippet: 'zero(${1:@map});',
    doc: 'Set every value of a map to zero.',
  },
  {
    name: 'delete',
    arity: [
      [17, 1, 1],
      [22, 1, 2],
    ],
    since: 17,
    returns: 'none',
    argKinds: ['map'],
    signature: 'delete(@map[key]) | delete(@map, key)',
    snippet: 'delete(${1:@map}[${2:key}]);',
    doc: 'Remove an element from a map.',
  },
  {
    name: 'has_key',
    arity: [[22, 2, 2]],
    since: 22,
    returns: 'int',
    argKinds: ['map'],
    signature: 'has_key(@map, key)',
    snippet: 'has_key(${1:@map}, ${2:key})',
    doc: 'Whether a map has a key.',
  },
  {
    name: 'len',
    arity: [[20, 1, 1]],
    since: 20,
    returns: 'int',
    signature: 'len(@map | ustack)',
    snippet: 'len(${1:@map})',
    doc: 'Number of elements.',
  },
  {
    name: 'unwatch',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'none',
    async: true,
    argKinds: ['int'],
    signature: 'unwatch(addr)',
    snippet: 'unwatch(${1:addr});',
    doc: 'Remove a watchpoint.',
  },
  {
    name: 'debugf',
    arity: [[17, 1, VAR]],
    since: 17,
    returns: 'none',
    argKinds: ['string'],
    signature: 'debugf(fmt: string, ...args)',
    snippet: 'debugf("${1:%d}\\n", ${2:pid});',
    doc: 'Print through trace_pipe.',
  },
  {
    name: 'percpu_kaddr',
    arity: [[22, 1, 2]],
    since: 22,
    returns: 'int',
    argKinds: ['string', 'int'],
    signature: 'percpu_kaddr(name: string[, cpu])',
    snippet: 'percpu_kaddr("${1:symbol}")',
    doc: 'Address of a per-CPU kernel variable.',
  },
  {
    name: 'socket_cookie',
    arity: [[24, 1, 1]],
    since: 24,
    returns: 'int',
    signature: 'socket_cookie(struct sock *)',
    snippet: 'socket_cookie(${1:sk})',
    doc: 'Socket cookie.',
  },
  {
    name: 'getopt',
    arity: [
      [24, 1, 2],
      [25, 1, 3],
    ],
    since: 24,
    returns: 'any',
    argKinds: ['string'],
    signature: 'getopt(name: string[, default[, desc]])',
    snippet: 'getopt("${1:name}")',
    doc: 'Named program argument.',
  },
  {
    name: 'errorf',
    arity: [[24, 1, VAR]],
    since: 24,
    returns: 'none',
    async: true,
    argKinds: ['string'],
    signature: 'errorf(fmt: string, ...args)',
    snippet: 'errorf("${1:%d}\\n", ${2:pid});',
    doc: 'Print an error.',
  },
  {
    name: 'warnf',
    arity: [[25, 1, VAR]],
    since: 25,
    returns: 'none',
    async: true,
    argKinds: ['string'],
    signature: 'warnf(fmt: string, ...args)',
    snippet: 'warnf("${1:%d}\\n", ${2:pid});',
    doc: 'Print a warning.',
  },
  {
    name: 'find',
    arity: [[25, 3, 3]],
    since: 25,
    returns: 'int',
    argKinds: ['map'],
    signature: 'find(@map, key, $out)',
    snippet: 'find(${1:@map}, ${2:key}, ${3:\\$out})',
    doc: 'Look a key up and copy its value.',
  },
  {
    name: 'strlen',
    arity: [[25, 1, 1]],
    since: 25,
    returns: 'int',
    argKinds: ['string'],
    signature: 'strlen(s: string)',
    snippet: 'strlen(${1:s})',
    doc: 'Length of a string.',
  },
  {
    name: 'strstr',
    arity: [[25, 2, 2]],
    since: 25,
    returns: 'int',
    argKinds: ['string', 'string'],
    signature: 'strstr(haystack, needle)',
    snippet: 'strstr(${1:s}, "${2:x}")',
    doc: 'Index of a substring.',
  },
  {
    name: 'assert',
    arity: [[24, 2, 2]],
    since: 24,
    returns: 'none',
    signature: 'assert(cond, msg)',
    snippet: 'assert(${1:cond}, "${2:msg}");',
    doc: 'Stop with an error if false.',
  },
  {
    name: 'signal_name',
    arity: [[26, 1, 1]],
    since: 26,
    returns: 'string',
    signature: 'signal_name(n)',
    snippet: 'signal_name(${1:n})',
    doc: 'Name of a signal.',
  },
  // The standard library as docs/stdlib.md lists it at each tag (v0.25.0, v0.26.1, main).
  ...stdlib(25, [
    ['syscall_name', 1, 1, 'string', 'syscall_name(nr)', 'Name of a system call number.'],
    ['signal_thread', 1, 1, 'none', 'signal_thread(sig)', 'Signal the current thread.', { unsafe: true }],
    ['strcap', 1, 1, 'int', 'strcap(str)', 'Capacity of a string-like value.'],
    ['memcmp', 3, 3, 'int', 'memcmp(left, right, count)', 'Compare the first count bytes of two values.'],
    ['has_cpid', 0, 0, 'int', 'has_cpid()', 'Whether cpid is available (bpftrace -c).'],
    ['kfunc_exist', 1, 1, 'int', 'kfunc_exist(name)', 'Whether a kfunc exists.', { argKinds: ['string'] }],
    [
      'kfunc_allowed',
      1,
      1,
      'int',
      'kfunc_allowed(name)',
      'Whether a kfunc is usable.',
      { argKinds: ['string'] },
    ],
    ['fail', 1, VAR, 'none', 'fail(fmt, ...args)', 'Print an error and fail.', { argKinds: ['string'] }],
    ['static_assert', 2, 2, 'none', 'static_assert(cond, msg)', 'Fail the build unless cond holds.'],
    ['assert_str', 1, 1, 'none', 'assert_str(value)', 'Check that a value is string-like.'],
    ['is_array', 1, 1, 'int', 'is_array(expr)', 'Whether the expression is an array.'],
    ['is_integer', 1, 1, 'int', 'is_integer(expr)', 'Whether the expression is an integer.'],
    ['is_unsigned_integer', 1, 1, 'int', 'is_unsigned_integer(expr)', 'Whether it is unsigned.'],
    ['is_ptr', 1, 1, 'int', 'is_ptr(expr)', 'Whether the expression is a pointer.'],
    ['is_str', 1, 1, 'int', 'is_str(expr)', 'Whether the expression is a string.'],
    ['is_literal', 1, 1, 'int', 'is_literal(expr)', 'Whether the expression is a literal.'],
    ['default_str_length', 0, 0, 'int', 'default_str_length()', 'The default unbounded string length.'],
  ]),
  ...stdlib(26, [
    ['is_err', 1, 1, 'int', 'is_err(ptr)', 'Whether a pointer is an ERR_PTR (a kernel error code).'],
    ['leader_tid', 0, 1, 'int', 'leader_tid([task])', 'Thread id of the thread group leader.'],
    ['leader_comm', 0, 1, 'string', 'leader_comm([task])', 'Thread name of the thread group leader.'],
    ['write_user', 3, 3, 'int', 'write_user(dst, src, len)', 'Write user memory.', { unsafe: true }],
    ['dw_ustack', 0, 2, 'stack', 'dw_ustack([mode][, limit])', 'User stack unwound with DWARF.'],
  ]),
  ...stdlib(MAIN, [
    ['str_concat', 2, 2, 'string', 'str_concat(s1, s2)', 'Concatenate two strings.'],
    [
      'container_of',
      3,
      3,
      'pointer',
      'container_of(ptr, type, member)',
      'The enclosing object.',
      { names: [2] },
    ],
    ['config', 0, 0, 'other', 'config()', "bpftrace's configuration as a record."],
  ]),
  // Aggregations (map value functions).
  {
    name: 'count',
    arity: [[17, 0, 0]],
    since: 17,
    returns: 'int',
    aggregate: true,
    signature: 'count()',
    snippet: 'count()',
    doc: 'Count events.',
  },
  {
    name: 'sum',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    aggregate: true,
    argKinds: ['int'],
    signature: 'sum(n)',
    snippet: 'sum(${1:n})',
    doc: 'Sum of the values.',
  },
  {
    name: 'min',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    aggregate: true,
    argKinds: ['int'],
    signature: 'min(n)',
    snippet: 'min(${1:n})',
    doc: 'Minimum of the values.',
  },
  {
    name: 'max',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    aggregate: true,
    argKinds: ['int'],
    signature: 'max(n)',
    snippet: 'max(${1:n})',
    doc: 'Maximum of the values.',
  },
  {
    name: 'avg',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'int',
    aggregate: true,
    argKinds: ['int'],
    signature: 'avg(n)',
    snippet: 'avg(${1:n})',
    doc: 'Average of the values.',
  },
  {
    name: 'stats',
    arity: [[17, 1, 1]],
    since: 17,
    returns: 'other',
    aggregate: true,
    argKinds: ['int'],
    signature: 'stats(n)',
    snippet: 'stats(${1:n})',
    doc: 'Count, average and total.',
  },
  {
    name: 'hist',
    arity: [
      [17, 1, 1],
      [20, 1, 2],
    ],
    since: 17,
    returns: 'other',
    aggregate: true,
    argKinds: ['int', 'int'],
    signature: 'hist(n[, k])',
    snippet: 'hist(${1:n})',
    doc: 'Power-of-two histogram.',
  },
  {
    name: 'lhist',
    arity: [[17, 4, 4]],
    since: 17,
    returns: 'other',
    aggregate: true,
    argKinds: ['int', 'int', 'int', 'int'],
    signature: 'lhist(n, min, max, step)',
    snippet: 'lhist(${1:n}, ${2:0}, ${3:100}, ${4:10})',
    doc: 'Linear histogram.',
  },
  {
    name: 'tseries',
    arity: [[24, 3, 4]],
    since: 24,
    returns: 'other',
    aggregate: true,
    signature: 'tseries(n, interval, count[, agg])',
    snippet: 'tseries(${1:n}, ${2:1s}, ${3:10})',
    doc: 'Time series.',
  },
];

export const SOFTWARE_EVENTS = [
  'cpu-clock',
  'cpu',
  'task-clock',
  'page-faults',
  'faults',
  'context-switches',
  'cs',
  'cpu-migrations',
  'minor-faults',
  'major-faults',
  'alignment-faults',
  'emulation-faults',
  'dummy',
  'bpf-output',
];
export const HARDWARE_EVENTS = [
  'cpu-cycles',
  'cycles',
  'instructions',
  'cache-references',
  'cache-misses',
  'branch-instructions',
  'branches',
  'branch-misses',
  'bus-cycles',
  'frontend-stalls',
  'backend-stalls',
  'ref-cycles',
];
/** Integer type names a cast accepts without BTF (kernel typedefs are resolved through BTF). */
export const INTEGER_TYPES = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64'];

export const CONFIG_KEYS = [
  'cache_user_symbols',
  'cpp_demangle',
  'lazy_symbolication',
  'license',
  'log_size',
  'max_bpf_progs',
  'max_cat_bytes',
  'max_map_keys',
  'max_probes',
  'max_strlen',
  'max_type_res_iterations',
  'on_stack_limit',
  'perf_rb_pages',
  'stack_mode',
  'str_trunc_trailer',
  'missing_probes',
  'print_maps_on_exit',
  'use_blazesym',
  'show_debug_info',
  'strlen',
  'no_cpp_demangle',
  'cat_bytes_max',
  'map_keys_max',
  'unstable_tseries',
  'unstable_typeinfo',
  'unstable_dw_ustack',
  'unstable_import_statement',
  'unstable_macro',
  'unstable_map_decl',
  'unstable_import',
  'symbol_source',
];

/**
 * Type names of `let $x: T`, by version (src/lexer.l int_type, builtin_type, sized_type; parser.yy
 * `type`, where only a sized type takes `[N]`: `string` is a builtin type in 0.24 only).
 * `invalid`: parsed, then "Invalid variable declaration type" (semantic_analyser.cpp, from 0.25
 * types/type_checker.cpp, IsValidVarDeclType: aggregations and void). From 0.26 the hand-written
 * parser takes any identifier as a type (parser.cpp parse_type), resolved later.
 */
export const DECLARATION_TYPES: Array<{
  names: string[];
  since: Minor;
  until?: Minor;
  sized?: boolean;
  invalid?: boolean;
}> = [
  { names: ['bool', ...INTEGER_TYPES], since: 22 },
  { names: ['string'], since: 22, until: 23, sized: true },
  { names: ['string'], since: 24, until: 24 },
  { names: ['string'], since: 25, sized: true },
  { names: ['inet', 'buffer'], since: 22, sized: true },
  { names: ['username'], since: 22, until: 23 },
  { names: ['username_t'], since: 24 },
  { names: ['strerror_t'], since: 22, until: 24 },
  {
    names: ['probe_t', 'usym_t', 'ksym_t', 'timestamp', 'macaddr_t', 'cgroup_path_t', 'kstack_t', 'ustack_t'],
    since: 22,
  },
  {
    names: ['void', 'count_t', 'hist_t', 'lhist_t', 'min_t', 'max_t', 'sum_t', 'avg_t', 'stats_t'],
    since: 22,
    invalid: true,
  },
  { names: ['umin_t', 'umax_t', 'usum_t', 'uavg_t', 'ustats_t'], since: 22, invalid: true },
  { names: ['ucount_t'], since: 22, until: 23, invalid: true },
  { names: ['tseries_t'], since: 24, invalid: true },
];

export const MAP_DECL_TYPES = ['hash', 'lruhash', 'percpuhash', 'percpulruhash', 'percpuarray'];

export class Dialect {
  /** Set when the requested version was outside the supported range. */
  readonly unsupported?: string;
  readonly minor: Minor;

  constructor(readonly requested: string) {
    const v =
      requested.trim() === 'main' ? { major: 0, minor: MAIN, patch: 0 } : parseBpftraceVersion(requested);
    let minor = LATEST;
    if (!v) {
      if (requested)
        this.unsupported = `Unrecognised bpftrace version '${requested}'; checking as ${LATEST_NAME}`;
    } else if (v.major > 0 || v.minor > LATEST) {
      minor = MAIN;
    } else if (v.minor < OLDEST_SUPPORTED) {
      minor = OLDEST_SUPPORTED;
      this.unsupported = `bpftrace ${v.major}.${v.minor} is not supported (oldest supported: 0.${OLDEST_SUPPORTED}); checking as 0.${OLDEST_SUPPORTED}`;
    } else {
      minor = v.minor;
    }
    this.minor = minor;
  }

  get name(): string {
    return this.minor === MAIN ? 'main' : `0.${this.minor}`;
  }

  has(feature: Feature): boolean {
    const row: FeatureRow = FEATURES[feature];
    return this.minor >= row.since && (row.until === undefined || this.minor <= row.until);
  }

  deprecated(feature: Feature): boolean {
    const row: FeatureRow = FEATURES[feature];
    return row.deprecated !== undefined && this.minor >= row.deprecated;
  }

  /** The probe row for a provider name or alias as written (case rules per dialect). */
  private probeIndex?: Map<string, ProbeRow>;

  probe(provider: string): ProbeRow | undefined {
    const ci = this.has('caseInsensitiveProviders');
    if (!this.probeIndex) {
      this.probeIndex = new Map();
      for (const row of this.probes()) {
        for (const n of [row.name, ...row.aliases]) {
          // fentry/fexit only exist under these names from 0.20 (kfunc/kretfunc before).
          if (n === row.name && row.renamedFrom && !this.has('fentryNames')) continue;
          this.probeIndex.set(ci ? n.toLowerCase() : n, row);
        }
      }
    }
    return this.probeIndex.get(ci ? provider.toLowerCase() : provider);
  }

  probes(): ProbeRow[] {
    return PROBES.filter((p) => this.available(p));
  }

  /** Canonical display name of a probe row in this dialect (kfunc before 0.20). */
  probeName(row: ProbeRow): string {
    if (row.renamedFrom && this.minor <= row.renamedFrom.until) return row.renamedFrom.name;
    return row.name;
  }

  partsRange(row: ProbeRow): [number, number] {
    let range: [number, number] = [row.parts[0][1], row.parts[0][2]];
    for (const [since, min, max] of row.parts) if (this.minor >= since) range = [min, max];
    return range;
  }

  private builtinIndex?: Map<string, BuiltinRow>;
  private funcIndex?: Map<string, FunctionRow>;

  builtin(name: string): BuiltinRow | undefined {
    this.builtinIndex ??= new Map(this.builtins().map((b) => [b.name, b]));
    return this.builtinIndex.get(name);
  }

  builtins(): BuiltinRow[] {
    return BUILTINS.filter((b) => this.available(b));
  }

  func(name: string): FunctionRow | undefined {
    this.funcIndex ??= new Map(this.funcs().map((f) => [f.name, f]));
    return this.funcIndex.get(name);
  }

  funcs(): FunctionRow[] {
    return FUNCTIONS.filter((f) => this.available(f));
  }

  arity(row: FunctionRow): [number, number] {
    let range: [number, number] = [row.arity[0][1], row.arity[0][2]];
    for (const [since, min, max] of row.arity) if (this.minor >= since) range = [min, max];
    return range;
  }

  private declarationIndex?: Map<string, (typeof DECLARATION_TYPES)[number]>;

  /** A type name of `let $x: T` in this version (DECLARATION_TYPES). */
  declarationType(name: string): (typeof DECLARATION_TYPES)[number] | undefined {
    this.declarationIndex ??= new Map(
      DECLARATION_TYPES.filter((r) => this.available(r)).flatMap((r) => r.names.map((n) => [n, r])),
    );
    return this.declarationIndex.get(name);
  }

  /** In which version something appeared, for "not available before" messages. */
  available(row: { since: Minor; until?: Minor }): boolean {
    return this.minor >= row.since && (row.until === undefined || this.minor <= row.until);
  }
}

export const LATEST_NAME = `0.${LATEST}`;

/** How a version is named in messages: `0.24`, or `main` for the development branch. */
export function versionName(minor: Minor): string {
  return minor === MAIN ? `main (${MAIN_COMMIT.slice(0, 7)})` : `0.${minor}`;
}

/** Which version (if any) introduced or removed a name, for messages: "needs bpftrace 0.24". */
export function versionNote(row: { since: Minor; until?: Minor }, dialect: Dialect): string {
  if (dialect.minor < row.since)
    return `available from bpftrace ${versionName(row.since)}; the target is ${dialect.name}`;
  if (row.until !== undefined && dialect.minor > row.until)
    return `removed after bpftrace ${versionName(row.until)}; the target is ${dialect.name}`;
  return '';
}
