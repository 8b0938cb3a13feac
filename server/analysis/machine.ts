// Machine facts: what the node a script will run on has (probe types its bpftrace and kernel
// support, kernel functions, binaries and their symbols, kernel symbols). The language rules
// never need them; when a document is bound to a machine, these checks turn "may not exist"
// into bpftrace's own verdict there, in its words (semantic_analyser.cpp, codegen_llvm.cpp,
// bpftrace.cpp of each release). Without facts every hook here is silent.
//
// A uprobe, usdt or wildcard kprobe that matches nothing is left out by bpftrace up to 0.20
// (bpftrace.cpp expands it to no probe; the run fails only with "No probes to attach" when
// nothing is left); from 0.21 the `missing_probes` setting makes it an error by default.
//
// A uprobe/usdt binary with `*` is a glob on the machine's file system in every version
// (resolve_binary_path: glob(3), then only ELF executables and shared objects): no match is
// bpftrace's "target file ... does not exist" error with the pattern as written, one match is
// that binary, several are each searched for the function: it matches nothing only when none
// of them has it (up to core/nodes/facts.ts GLOB_TABLES_MAX binaries; past that, unchecked);
// a usdt probe likewise among the notes of all of them.
import type { AttachPoint, CallExpr, Name } from '../syntax/ast';
import type { Checker } from './checker';
import type { ProbeRow } from './dialects';
import { wildcardRegExp } from '../../core/symbols/table';
import type { BinaryEntry } from '../facts';

/** What is known of the target machine; an undefined answer means "not known: not checked". */
export interface MachineFacts {
  /** The machine's name for messages ("node web-1", "this machine"). */
  where: string;
  /** A `bpftrace --info` feature (`kfunc`, `iter:task`). */
  feature(name: string): boolean | undefined;
  /** `kprobe:[module:]function` (wildcards too) against available_filter_functions. */
  kprobeFunction(fn: string, module?: string): boolean | undefined;
  kernelModule(module: string): boolean | undefined;
  /** Why kprobe functions cannot be checked, when they cannot. */
  readonly kprobeProblem: string | undefined;
  kernelSymbol(name: string): boolean | undefined;
  /** A binary target as written; undefined while it is being read (it is asked for). */
  binary(target: string): BinaryEntry | undefined;
  functionIn(table: NonNullable<BinaryEntry['table']>, fn: string): boolean;
}

/** A probe that matches nothing on the machine, with why. */
interface Unmatched {
  label: string;
  why: string;
}

interface MachineVerdicts {
  /** Attach points that attach nowhere there, by attach point. */
  unmatched: Map<AttachPoint, Unmatched>;
  /** Every attach point of the program is unmatched: bpftrace has no probe to attach. */
  nothingLeft: boolean;
  /** Unchecked-because notes already given. */
  noted: Set<string>;
}

const verdicts = new WeakMap<Checker, MachineVerdicts>();

function unquote(part: Name | undefined): string | undefined {
  if (!part) return undefined;
  const n = part.name;
  return n.length >= 2 && n.startsWith('"') && n.endsWith('"') ? n.slice(1, -1) : n;
}

/** Positional parameters and the like are known only at run time. */
function dynamic(s: string | undefined): boolean {
  return s === undefined || s.includes('$');
}

/**
 * A binary target the machine can answer for: a path, a PATH name, `libNAME` or a glob of them
 * (bpftrace globs a target with `*` on the file system and fails when no ELF file matches). A
 * lone `*` is every running process's mapped files from 0.20 (get_mapped_paths_for_running_pids),
 * so it is never checked.
 */
function checkableTarget(target: string | undefined): target is string {
  return !dynamic(target) && target !== '*';
}

function rowName(cx: Checker, ap: AttachPoint): string | undefined {
  return cx.dialect.probe(ap.provider.name)?.name;
}

/** Why an attach point matches nothing on the machine, or undefined when it matches (or may). */
function unmatched(cx: Checker, facts: MachineFacts, ap: AttachPoint): Unmatched | undefined {
  const kind = rowName(cx, ap);
  if (kind === 'kprobe' || kind === 'kretprobe') {
    const parts = ap.parts.map((p) => unquote(p) ?? '');
    const fn = (parts[parts.length - 1] ?? '').replace(/\+.*$/, '');
    // Only a wildcard is expanded (to nothing); a named function that is missing fails to attach.
    if (!fn.includes('*') || dynamic(fn)) return undefined;
    const module = parts.length > 1 ? parts[0] : undefined;
    if (facts.kprobeFunction(fn, module) !== false) return undefined;
    return { label: `${kind}:${parts.join(':')}`, why: `no traceable kernel function matches ${fn}` };
  }
  if (kind === 'uprobe' || kind === 'uretprobe') {
    const u = uprobeFunction(facts, ap);
    if (!u) return undefined;
    const { entry, target, fn } = u;
    const label = `${kind} ${entry.facts.path ?? target}:${fn}`;
    // A glob over several binaries: the function is matched in each one (no match: in none).
    if (entry.tables) {
      if (entry.tables.some((t) => facts.functionIn(t, fn))) return undefined;
      return {
        label,
        why: `none of the ${entry.tables.length} binaries ${target} matches has a function ${fn}`,
      };
    }
    if (entry.facts.noSymbols) return { label, why: entry.facts.noSymbols };
    if (!entry.table || facts.functionIn(entry.table, fn) || entry.table.hasData(fn)) return undefined;
    return { label, why: `${entry.facts.path ?? target} has no function ${fn}` };
  }
  if (kind === 'usdt') {
    if (ap.parts.length < 2) return undefined;
    const target = unquote(ap.parts[0]);
    const name = unquote(ap.parts[ap.parts.length - 1]) ?? '';
    const provider = ap.parts.length > 2 ? unquote(ap.parts[1]) : undefined;
    if (!checkableTarget(target) || dynamic(name) || (provider !== undefined && dynamic(provider)))
      return undefined;
    const entry = facts.binary(target);
    if (!entry?.facts.exists || !entry.facts.usdt) return undefined;
    const nameRe = wildcardRegExp(name);
    const providerRe = provider ? wildcardRegExp(provider) : undefined;
    const found = entry.facts.usdt.some((p) => {
      const [prov, probe] = p.split(':');
      return nameRe.test(probe ?? '') && (!providerRe || providerRe.test(prov ?? ''));
    });
    if (found) return undefined;
    return {
      label: `usdt ${entry.facts.path ?? target}:${provider ? `${provider}:` : ''}${name}`,
      why: entry.facts.usdt.length
        ? `${entry.facts.path ?? target} has no USDT probe ${provider ? `${provider}:` : ''}${name}`
        : `${entry.facts.path ?? target} has no USDT probes`,
    };
  }
  return undefined;
}

/** A uprobe's existing binary and the function it names (not an address, not a wildcard target). */
function uprobeFunction(
  facts: MachineFacts,
  ap: AttachPoint,
): { entry: BinaryEntry; target: string; fn: string } | undefined {
  if (ap.parts.length < 2) return undefined;
  const target = unquote(ap.parts[0]);
  const fn = (unquote(ap.parts[ap.parts.length - 1]) ?? '').replace(/\+.*$/, '');
  if (!checkableTarget(target) || dynamic(fn) || /^(0x[0-9a-fA-F]+|\d+)$/.test(fn)) return undefined;
  const entry = facts.binary(target);
  return entry?.facts.exists ? { entry, target, fn } : undefined;
}

function programVerdicts(cx: Checker, facts: MachineFacts): MachineVerdicts {
  let v = verdicts.get(cx);
  if (v) return v;
  const map = new Map<AttachPoint, Unmatched>();
  let total = 0;
  for (const item of cx.parsed.program.items) {
    if (item.kind !== 'probe') continue;
    for (const ap of item.attachPoints) {
      total++;
      const u = unmatched(cx, facts, ap);
      if (u) map.set(ap, u);
    }
  }
  v = { unmatched: map, nothingLeft: total > 0 && map.size === total, noted: new Set() };
  verdicts.set(cx, v);
  return v;
}

/** Says once per analysis why something is not checked on this machine. */
function note(cx: Checker, v: MachineVerdicts, ap: AttachPoint, key: string, message: string): void {
  if (v.noted.has(key)) return;
  v.noted.add(key);
  cx.report(ap, 'info', 'machine-unchecked', message);
}

/** Called for every attach point whose probe type and parts passed the language checks. */
export function machineAttachPoint(cx: Checker, ap: AttachPoint, row: ProbeRow): void {
  const facts = cx.facts;
  if (!facts) return;
  const v = programVerdicts(cx, facts);
  const where = facts.where;
  const name = row.name;

  if (name === 'fentry' || name === 'fexit') {
    const supported = facts.feature('kfunc') ?? facts.feature('fentry');
    if (supported === false) {
      const what = cx.dialect.has('fentryNames') ? 'fentry/fexit' : 'kfunc/kretfunc';
      cx.report(
        ap,
        'error',
        'machine-probe-type',
        `${what} not available for your kernel version. (bpftrace --info on ${where})`,
      );
    }
    return;
  }
  if (name === 'iter') {
    const it = unquote(ap.parts[0]) ?? '';
    if (facts.feature(`iter:${it}`) === false)
      cx.report(
        ap,
        'error',
        'machine-probe-type',
        `iter ${it} not available for your kernel version. (bpftrace --info on ${where})`,
      );
    return;
  }
  if (name === 'uprobe' || name === 'uretprobe' || name === 'usdt') {
    const target = unquote(ap.parts[0]);
    if (ap.parts.length >= 2 && checkableTarget(target)) {
      const entry = facts.binary(target);
      if (entry && !entry.facts.exists) {
        const kind = name === 'usdt' ? 'usdt' : 'uprobe';
        cx.report(
          ap.parts[0],
          'error',
          'machine-binary',
          `${kind} target file '${target}' does not exist or is not executable (on ${where})`,
        );
        return;
      }
      // bpftrace finds the name among data symbols first (resolve_uname), then cannot attach.
      const u = name === 'usdt' ? undefined : uprobeFunction(facts, ap);
      if (u?.entry.table && !facts.functionIn(u.entry.table, u.fn) && u.entry.table.hasData(u.fn)) {
        cx.report(
          ap,
          'error',
          'machine-symbol',
          `Could not resolve symbol: ${u.entry.facts.path ?? u.target}:${u.fn} (a data symbol, not a function, on ${where})`,
        );
        return;
      }
      if (entry?.facts.matched && !entry.tables)
        note(
          cx,
          v,
          ap,
          `sym:${target}`,
          `Functions of ${target} are not checked: it matches ${entry.facts.matched} binaries on ${where}${
            entry.facts.symbolsProblem ? ` (${entry.facts.symbolsProblem})` : ''
          }`,
        );
      else if (entry?.facts.symbolsProblem)
        note(
          cx,
          v,
          ap,
          `sym:${target}`,
          `Functions of ${target} are not checked: ${entry.facts.symbolsProblem}`,
        );
    }
  }
  if (name === 'kprobe' || name === 'kretprobe') {
    const parts = ap.parts.map((p) => unquote(p) ?? '');
    const fn = (parts[parts.length - 1] ?? '').replace(/\+.*$/, '');
    const module = parts.length > 1 ? parts[0] : undefined;
    if (facts.kprobeProblem)
      note(cx, v, ap, 'kprobe', `kprobe functions are not checked: ${facts.kprobeProblem}`);
    else if (
      module &&
      module !== 'vmlinux' &&
      !dynamic(module) &&
      !module.includes('*') &&
      facts.kernelModule(module) === false
    )
      cx.report(
        ap,
        'error',
        'machine-kprobe',
        `specified module ${module} in probe ${name}:${module}:${fn} is not loaded. (on ${where})`,
      );
    else if (!fn.includes('*') && !dynamic(fn) && facts.kprobeFunction(fn, module) === false)
      cx.report(
        ap,
        'error',
        'machine-kprobe',
        `${fn} is not traceable (either non-existing, inlined, or marked as "notrace") on ${where}: attaching ${name}:${parts.join(':')} fails there`,
      );
  }

  const u = v.unmatched.get(ap);
  if (!u) return;
  if (cx.dialect.has('noMatchesPass'))
    cx.report(ap, 'error', 'machine-no-match', `No matches for ${u.label}. (${u.why} on ${where})`);
  else if (cx.dialect.has('missingProbesError'))
    cx.report(
      ap,
      'error',
      'machine-no-match',
      `Could not resolve ${u.label}, cannot attach probe. (${u.why} on ${where})`,
    );
  else if (v.nothingLeft)
    cx.report(
      ap,
      'error',
      'machine-no-match',
      `No probes to attach: ${u.label} matches nothing (${u.why} on ${where})`,
    );
  else
    cx.report(
      ap,
      'warning',
      'machine-no-match',
      `${u.label} matches nothing (${u.why} on ${where}): bpftrace ${cx.dialect.name} leaves this probe out without a word`,
    );
}

/** Called for every call of a known function after its arguments were checked (kaddr...). */
export function machineCall(cx: Checker, call: CallExpr): void {
  const facts = cx.facts;
  if (!facts || call.callee.name !== 'kaddr') return;
  const arg = call.args[0];
  if (arg?.kind !== 'string') return;
  if (facts.kernelSymbol(arg.value) === false)
    cx.report(
      arg,
      'error',
      'machine-kernel-symbol',
      `Failed to resolve kernel symbol: ${arg.value} (not in /proc/kallsyms on ${facts.where})`,
    );
}
