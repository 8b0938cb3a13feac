// Stack frames as bpftrace prints them, in every form we have met:
//   bpftrace mode   `Envoy::Network::Foo::bar(int)+62`, `bind+11`, `0x7f3a5c0e1234`
//   with module     `bind+11 (/usr/lib/x86_64-linux-gnu/libc.so.6)`, `0x7f3a5c0e1234 ([unknown])`
//   perf mode       `7f3a5c0e1234 bind+11 (/usr/lib/x86_64-linux-gnu/libc.so.6)`
//   mangled         `_ZN5Envoy7Network3Foo3barEi+62` (demangling off or a stripped demangler)
//   other tools     `Foo::bar()+0x3e`, `[unknown]`
// and inside `-f json` output, where stacks arrive as strings with embedded newlines.
// Everything here is untrusted text from a traced process: it is parsed, never evaluated.

export interface Frame {
  /** The frame as written, trimmed. */
  raw: string;
  /** Symbol text (possibly mangled) without offset and module; empty for a bare address. */
  symbol: string;
  /** Byte offset into the symbol, when printed. */
  offset?: number;
  /** Instruction address, when printed (raw `0x…` frames and perf mode). */
  address?: bigint;
  /** Module path when printed (`(/usr/lib/…/libc.so.6)`). */
  module?: string;
  /** True when the symbol is an Itanium-mangled name that still needs demangling. */
  mangled: boolean;
  /** File and line printed with the frame (gdb's `at file.cc:12`), as the debugger wrote them. */
  source?: { file: string; line: number };
}

export interface FrameMatch {
  frame: Frame;
  /** Offset of the frame's first character in the scanned line. */
  start: number;
  /** Length of the matched text in the line. */
  length: number;
}

const MAX_FRAME_LENGTH = 8192;
// A symbol followed by an offset: the offset is what tells a frame from ordinary prose.
const OFFSET_SUFFIX = /\+(0x[0-9a-fA-F]+|\d+)$/;
const MODULE_SUFFIX = /\s+\(([^()]*)\)$/;
const PERF_ADDRESS_PREFIX = /^([0-9a-fA-F]{6,16})\s+(?=\S)/;
const RAW_ADDRESS = /^0x[0-9a-fA-F]{4,16}$/;
const MANGLED = /^_Z[A-Za-z0-9_.$]+$/;

/**
 * Parses one line holding exactly one frame (surrounding whitespace allowed). Returns undefined
 * for a line that is not a frame, so that any log can be fed line by line.
 */
export function parseFrameLine(line: string): Frame | undefined {
  const text = line.trim();
  if (!text || text.length > MAX_FRAME_LENGTH) return undefined;
  let rest = text;
  let module: string | undefined;
  let address: bigint | undefined;

  const mod = MODULE_SUFFIX.exec(rest);
  // `(anonymous namespace)` and parameter lists also end in `)`: a module is a path or `[…]`.
  if (mod && /^(\/|\[)/.test(mod[1]) && balanced(rest.slice(0, mod.index))) {
    module = mod[1];
    rest = rest.slice(0, mod.index);
  }
  const perf = PERF_ADDRESS_PREFIX.exec(rest);
  if (perf) {
    address = BigInt(`0x${perf[1]}`);
    rest = rest.slice(perf[0].length);
  }
  if (RAW_ADDRESS.test(rest)) {
    return { raw: text, symbol: '', address: BigInt(rest), module, mangled: false };
  }
  if (rest === '[unknown]') {
    if (address === undefined && module === undefined) return undefined;
    return { raw: text, symbol: '', address, module, mangled: false };
  }
  const off = OFFSET_SUFFIX.exec(rest);
  if (!off) {
    // perf mode prints symbols without offset when it has no size information.
    if (address !== undefined && module !== undefined && looksLikeSymbol(rest)) {
      return { raw: text, symbol: rest, address, module, mangled: MANGLED.test(rest) };
    }
    return undefined;
  }
  const symbol = rest.slice(0, off.index).trim();
  if (!looksLikeSymbol(symbol)) return undefined;
  const offset = off[1].startsWith('0x') ? parseInt(off[1], 16) : parseInt(off[1], 10);
  return { raw: text, symbol, offset, address, module, mangled: MANGLED.test(symbol) };
}

function looksLikeSymbol(s: string): boolean {
  if (!s || s.length > MAX_FRAME_LENGTH) return false;
  // Identifier-ish start: a name, `(anonymous namespace)`, `{lambda`, `virtual thunk to`, `~`, `$`.
  if (!/^[A-Za-z_$~({.]/.test(s)) return false;
  // Prose like "see foo+1 for details" has spaces outside brackets and no C++ punctuation.
  if (/\s/.test(s) && !/[():<>]/.test(s)) return false;
  // A lone colon (`stack: foo`, `comm:envoy`) never occurs in a C++ name, only `::`.
  if (/(?<!:):(?!:)/.test(s)) return false;
  return balanced(s);
}

function balanced(s: string): boolean {
  let paren = 0;
  let brace = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) paren++;
    else if (c === 41 && --paren < 0) return false;
    else if (c === 123) brace++;
    else if (c === 125 && --brace < 0) return false;
  }
  return paren === 0 && brace === 0;
}

/**
 * Finds the frame in one line of a terminal or a log: the whole trimmed line must be a frame
 * (bpftrace prints one per line, indented), optionally after a `stack:`-like label.
 */
export function findFrameInLine(line: string): FrameMatch | undefined {
  const lead = line.length - line.trimStart().length;
  const direct = parseFrameLine(line);
  if (direct) return { frame: direct, start: lead, length: line.trim().length };
  const other = otherToolFrame(line);
  if (other) return other;
  // `stack: bind+11` or `#3 foo+1` — a short label before the frame.
  const label = /^(\s*(?:[\w:@[\]#-]{1,32}:?\s+))(?=\S)/.exec(line);
  if (label) {
    const frame = parseFrameLine(line.slice(label[1].length));
    if (frame) return { frame, start: label[1].length, length: line.slice(label[1].length).trim().length };
  }
  return undefined;
}

// Envoy's own crash backtrace: `#3: Envoy::Server::InstanceImpl::run() [0x55d5b57c1a35]`,
// possibly after its log prefix.
const ENVOY_BACKTRACE = /#\d+: (\S.*?) \[(0x[0-9a-fA-F]+)\]\s*$/;
// gdb: `#1  0x000055555555 in Demo::Listener::setup (this=0x7ffe, fd=3) at net/listener.cc:8`.
const GDB_FRAME =
  /^(\s*#\d+\s+(?:0x[0-9a-fA-F]+ in )?)(\S.*?) \((?:[^()]|\([^()]*\))*\)(?: at (\S+):(\d+)| from (\S+))?\s*$/;

/** Frames printed by Envoy's backtrace handler and by gdb, found in pasted logs. */
function otherToolFrame(line: string): FrameMatch | undefined {
  const env = ENVOY_BACKTRACE.exec(line);
  if (env && looksLikeSymbol(env[1])) {
    const start = env.index + env[0].indexOf(env[1]);
    return {
      frame: { raw: env[0].trim(), symbol: env[1], address: BigInt(env[2]), mangled: MANGLED.test(env[1]) },
      start,
      length: line.trimEnd().length - start,
    };
  }
  const gdb = GDB_FRAME.exec(line);
  if (gdb && /^[A-Za-z_~(][\w:~<>,() *&]*$/.test(gdb[2]) && gdb[2] !== '??') {
    const start = gdb[1].length;
    return {
      frame: {
        raw: line.trim(),
        symbol: gdb[2],
        module: gdb[5],
        mangled: false,
        source: gdb[3] ? { file: gdb[3], line: Number(gdb[4]) } : undefined,
      },
      start,
      length: line.trimEnd().length - start,
    };
  }
  return undefined;
}

/** A stack: consecutive frames, innermost first, as bpftrace prints them. */
export interface ExtractedStack {
  frames: Frame[];
  /** 0-based line of the first frame in the input (text form) or the JSON line holding it. */
  line: number;
}

/**
 * Extracts the stacks from any text: bpftrace text output, `-f json` output (stacks inside
 * printf data or map keys), pasted logs. Consecutive frame lines form one stack.
 */
export function extractStacks(text: string): ExtractedStack[] {
  const stacks: ExtractedStack[] = [];
  const lines = text.split(/\r?\n/);
  let current: ExtractedStack | undefined;
  const flush = () => {
    if (current && current.frames.length) stacks.push(current);
    current = undefined;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const trimmed = line.trim();
    if (trimmed.startsWith('{') && trimmed.endsWith('}')) {
      const strings = jsonStrings(trimmed);
      if (strings) {
        flush();
        for (const s of strings) {
          for (const inner of extractStacks(s)) stacks.push({ frames: inner.frames, line: i });
        }
        continue;
      }
    }
    const m = findFrameInLine(line);
    if (m) {
      current ??= { frames: [], line: i };
      current.frames.push(m.frame);
    } else if (trimmed === '' && current) {
      // bpftrace ends a stack with an empty line; keep collecting only until then.
      flush();
    } else {
      flush();
    }
  }
  flush();
  return stacks;
}

/** Every frame of a text, in input order, with the line it came from. */
export function extractFrames(text: string): Array<{ frame: Frame; line: number; calleeIndex?: number }> {
  const out: Array<{ frame: Frame; line: number; calleeIndex?: number }> = [];
  for (const stack of extractStacks(text)) {
    stack.frames.forEach((frame, i) => {
      out.push({ frame, line: stack.line, calleeIndex: i > 0 ? out.length - 1 : undefined });
    });
  }
  return out;
}

/** All string values (and object keys) of a JSON line, or undefined when it is not JSON. */
function jsonStrings(line: string): string[] | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const out: string[] = [];
  const walk = (v: unknown, depth: number) => {
    if (depth > 16) return;
    if (typeof v === 'string') {
      if (v.includes('+') || v.includes('0x')) out.push(v);
    } else if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) {
        if (k.includes('+') || k.includes('0x')) out.push(k);
        walk(x, depth + 1);
      }
    }
  };
  walk(value, 0);
  return out;
}
