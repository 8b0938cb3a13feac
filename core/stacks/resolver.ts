// From a frame to the line that defines it, with the lookup rules real Envoy needs:
// - the namespace decides (hundreds of `Class::method` names exist in several namespaces,
//   e.g. Http1:: and Http2::ConnectionImpl::dispatch);
// - overloads are ranked by parameter count, then by the types the frame spells;
// - a lambda's `$_N` is a per-file compiler counter and tells nothing: the next inner frame
//   (the function the lambda calls) picks the lambda, else the enclosing function opens;
// - a name that is not found is said plainly, with near names offered, never a guess.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { lambdasIn, normalizeType, parameterTypes } from './cppParse';
import { demangle } from './demangle';
import { confineResolution } from './confine';
import { mapBuildPath } from './dwarf';
import { findFrameInLine, type Frame } from './frames';
import type { Location, Resolution } from './resolution';
import type { Definition } from './scanner';
import type { IndexEntry, SourceIndex } from './sourceIndex';
import { type ParsedSymbol, parseSymbol, qualifiedName, splitTopLevel } from './symbol';

export interface ResolveOptions {
  /** The next inner frame (the function this one called): picks among lambdas. */
  callee?: Frame;
}

export class Resolver {
  private fileCache = new Map<string, string>();

  constructor(readonly index: SourceIndex) {}

  /** Resolves a whole stack (innermost first), each frame with its callee. */
  async resolveStack(frames: Frame[]): Promise<Resolution[]> {
    const names = await demangle(frames.map((f) => f.symbol));
    const out: Resolution[] = [];
    for (let i = 0; i < frames.length; i++) {
      const frame = { ...frames[i], symbol: names[i], mangled: false };
      const callee = i > 0 ? { ...frames[i - 1], symbol: names[i - 1], mangled: false } : undefined;
      out.push(await this.resolve(frame, { callee }));
    }
    return out;
  }

  /** Resolves one frame given as text (a terminal line, a link's text). */
  async resolveText(text: string, calleeText?: string): Promise<Resolution> {
    const frame = findFrameInLine(text)?.frame ?? { raw: text.trim(), symbol: text.trim(), mangled: false };
    const callee = calleeText ? findFrameInLine(calleeText)?.frame : undefined;
    const [sym, calleeSym] = await demangle([frame.symbol, callee?.symbol ?? '']);
    return this.resolve(
      { ...frame, symbol: sym, mangled: false },
      { callee: callee ? { ...callee, symbol: calleeSym, mangled: false } : undefined },
    );
  }

  /** One frame; every file in the result is a real file under the index's roots (confine.ts). */
  async resolve(frame: Frame, options: ResolveOptions = {}): Promise<Resolution> {
    return confineResolution(await this.locate(frame, options), this.index.roots);
  }

  private async locate(frame: Frame, options: ResolveOptions): Promise<Resolution> {
    const base: Resolution = { frame: frame.raw, symbol: frame.symbol, module: frame.module };
    if (!frame.symbol) {
      return {
        ...base,
        reason:
          frame.address !== undefined
            ? `raw address 0x${frame.address.toString(16)}: no symbol (stripped binary, JIT code, or a process that exited before bpftrace read its symbols)`
            : 'unknown frame',
      };
    }
    if (frame.mangled) {
      [base.symbol] = await demangle([frame.symbol]);
    }
    const sym = parseSymbol(base.symbol);
    base.parsed = sym;
    if (frame.source) {
      // A debugger already read the line from DWARF (gdb's `at file.cc:12`): map it onto the tree.
      const file = mapBuildPath(frame.source.file, this.index.roots);
      if (file) {
        return {
          ...base,
          location: { file, line: frame.source.line, column: 0 },
          resolvedBy: 'dwarf',
          definition: sym.text,
        };
      }
    }
    if (sym.kind === 'lambda' && sym.lambda) return this.resolveLambda(base, sym, options);
    const found = this.findDefinition(sym, frame.module);
    if (!found.best) return { ...base, reason: found.reason, candidates: found.candidates };
    if (found.tied && sym.params) {
      const chosen = await breakTie(found.tied, sym.params);
      if (chosen) {
        found.best = chosen;
        found.note = 'overload chosen by its parameter types (parsed)';
      }
    }
    const notes = [
      sym.thunk ? `${sym.thunk} the function below` : '',
      sym.via ? `called through ${sym.via}` : '',
      found.note ?? '',
    ]
      .filter(Boolean)
      .join('; ');
    return {
      ...base,
      location: loc(found.best),
      resolvedBy: 'index',
      definition: describe(found.best.def),
      reason: notes || undefined,
      candidates: found.candidates,
    };
  }

  private async resolveLambda(
    base: Resolution,
    sym: ParsedSymbol,
    options: ResolveOptions,
  ): Promise<Resolution> {
    const lam = sym.lambda!;
    const found = this.findDefinition(lam.enclosing);
    const where = qualifiedName(lam.enclosing);
    if (!found.best) {
      return {
        ...base,
        reason: `lambda in ${where}: ${found.reason ?? 'enclosing function not found'}`,
        candidates: found.candidates,
      };
    }
    const entry = found.best;
    const enclosingLoc = loc(entry);
    const text = await this.read(entry.file.path);
    const slice = text.slice(entry.def.start, entry.def.bodyEnd + 1);
    const lambdas = text ? await lambdasIn(slice) : [];
    const firstLine = entry.def.line - 1;
    const firstCol = entry.def.column;
    const at = (l: { line: number; column: number }): Location => ({
      file: entry.file.path,
      line: firstLine + l.line + 1,
      column: l.line === 0 ? firstCol + l.column : l.column,
    });
    const via = sym.via ? `, called through ${sym.via}` : '';
    const calleeSym = options.callee?.symbol ? parseSymbol(options.callee.symbol) : undefined;
    const calleeName =
      calleeSym && calleeSym.kind !== 'lambda' && calleeSym.kind !== 'c'
        ? calleeSym.name
        : calleeSym?.kind === 'c'
          ? calleeSym.name
          : undefined;
    const arity = lam.params?.length;
    let pool = lambdas;
    if (calleeName) {
      const calling = lambdas.filter((l) => l.calls.has(calleeName));
      if (calling.length === 1) {
        return {
          ...base,
          location: at(calling[0]),
          resolvedBy: 'index',
          definition: `lambda in ${describe(entry.def)}`,
          reason: `lambda ${lam.id} chosen as the one in ${where} that calls ${calleeName}${via}`,
        };
      }
      if (calling.length > 1) pool = calling;
    }
    if (arity !== undefined) {
      const sameArity = pool.filter((l) => l.paramCount === arity);
      if (sameArity.length) pool = sameArity;
    }
    if (lam.ordinal !== undefined && pool.length >= lam.ordinal && pool.length > 1) {
      // GCC-style `{lambda(void*)#N}` numbers closures of one signature in source order.
      const l = pool[lam.ordinal - 1];
      return {
        ...base,
        location: at(l),
        resolvedBy: 'index',
        definition: `lambda in ${describe(entry.def)}`,
        reason: `lambda #${lam.ordinal} of its signature in ${where}${via}`,
      };
    }
    if (pool.length === 1) {
      return {
        ...base,
        location: at(pool[0]),
        resolvedBy: 'index',
        definition: `lambda in ${describe(entry.def)}`,
        reason: `the only matching lambda in ${where}${via}`,
      };
    }
    return {
      ...base,
      location: enclosingLoc,
      resolvedBy: 'index',
      definition: describe(entry.def),
      reason: `lambda ${lam.id}: ${lambdas.length ? `${pool.length} lambdas could be it` : 'no lambda found'}; opened the enclosing function ${where}${via}`,
      candidates: pool.map((l) => ({ ...at(l), definition: `lambda in ${entry.def.qname}` })),
    };
  }

  /** The definition a parsed symbol names, ranked by namespace and parameters. */
  findDefinition(
    sym: ParsedSymbol,
    module?: string,
  ): {
    best?: IndexEntry;
    tied?: IndexEntry[];
    reason?: string;
    note?: string;
    candidates?: Array<Location & { definition: string }>;
  } {
    const entries = this.index.lookup(sym.name);
    const key = qualifiedName(sym);
    if (sym.kind === 'c') {
      const exact = entries.filter((e) => e.def.qname === sym.name);
      if (exact.length) return { best: rank(exact, undefined)[0] };
      return {
        reason: `${sym.name}: no definition in the indexed sources (library or system code${module ? ` in ${module}` : ''})`,
      };
    }
    const exact = entries.filter((e) => e.def.qname === key);
    if (exact.length) {
      const ranked = rank(exact, sym.params);
      const others = ranked.slice(1, 6).map((e) => ({ ...loc(e), definition: describe(e.def) }));
      const top = scoreOf(ranked[0], sym.params);
      const tied = ranked.filter((e) => scoreOf(e, sym.params) === top);
      return {
        best: ranked[0],
        candidates: others.length ? others : undefined,
        tied: tied.length > 1 ? tied : undefined,
      };
    }
    // The index may have missed an outer namespace (macros that open namespaces): accept a
    // definition whose qualified name is a proper suffix of the frame's, class included.
    if (sym.scope.length) {
      const cls = `${sym.scope[sym.scope.length - 1]}::${sym.name}`;
      const suffix = entries.filter((e) => e.def.qname.endsWith(cls) && key.endsWith(`::${e.def.qname}`));
      if (suffix.length) {
        const ranked = rank(suffix, sym.params);
        return {
          best: ranked[0],
          note: `matched as ${ranked[0].def.qname}: the outer namespaces were not seen in the source`,
        };
      }
    }
    const near = entries
      .map((e) => ({ e, score: sharedSuffix(e.def.qname.split('::'), key.split('::')) }))
      .sort((a, b) => b.score - a.score)
      .slice(0, 5)
      .map(({ e }) => ({ ...loc(e), definition: describe(e.def) }));
    const lib = /^(std|__gnu_cxx|absl|google|boost|testing|fmt|spdlog)$/.exec(sym.scope[0] ?? '')?.[1];
    if (lib) {
      return {
        reason: `${key}: ${lib} library code, not in the indexed sources${module ? ` (${module})` : ''}`,
      };
    }
    return {
      reason: `${key} is not in this checkout: renamed or removed?${near.length ? ` Near matches by method name: ${near.map((n) => n.definition).join(', ')}` : ''}`,
      candidates: near.length ? near : undefined,
    };
  }

  private async read(file: string): Promise<string> {
    let t = this.fileCache.get(file);
    if (t === undefined) {
      t = await fsp.readFile(file, 'latin1').catch(() => '');
      if (this.fileCache.size > 64) this.fileCache.clear();
      this.fileCache.set(file, t);
    }
    return t;
  }
}

function loc(e: IndexEntry): Location {
  return { file: e.file.path, line: e.def.line, column: e.def.column };
}

function describe(d: Definition): string {
  return `${d.qname}(${d.params})`;
}

function sharedSuffix(a: string[], b: string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[a.length - 1 - n] === b[b.length - 1 - n]) n++;
  return n;
}

const NOISE = new Set([
  'std',
  '__1',
  'const',
  'unsigned',
  'signed',
  'volatile',
  'struct',
  'class',
  'enum',
  'allocator',
  'char_traits',
]);

function typeWords(t: string): string[] {
  return (t.match(/[A-Za-z_]\w*/g) ?? []).filter((w) => !NOISE.has(w));
}

/** Best first: parameter count fits, then how many of the frame's type names the definition spells, then non-test paths. */
/**
 * Overloads the scanner's ranking cannot tell apart (same count, same type names, e.g. `Foo&`
 * and `Foo*`): the real parser reads each signature and the exact types decide.
 */
async function breakTie(tied: IndexEntry[], params: string[]): Promise<IndexEntry | undefined> {
  const want = params.map(normalizeType);
  let best: IndexEntry | undefined;
  let bestScore = -1;
  let ties = 0;
  for (const e of tied) {
    const have = await parameterTypes(e.def.params);
    let s = have.length === want.length ? 1 : 0;
    for (let i = 0; i < Math.min(have.length, want.length); i++) if (have[i] === want[i]) s += 2;
    if (s > bestScore) {
      best = e;
      bestScore = s;
      ties = 1;
    } else if (s === bestScore) ties++;
  }
  return ties === 1 ? best : undefined;
}

function rank(entries: IndexEntry[], params: string[] | undefined): IndexEntry[] {
  return entries
    .map((e) => ({ e, s: scoreOf(e, params) }))
    .sort((a, b) => b.s - a.s || a.e.file.path.localeCompare(b.e.file.path) || a.e.def.line - b.e.def.line)
    .map((x) => x.e);
}

function scoreOf(e: IndexEntry, params: string[] | undefined): number {
  let s = 0;
  if (params) {
    const n = params.length;
    if (n >= e.def.minArgs && n <= e.def.maxArgs) s += 1000;
    const defParams = splitParams(e.def.params);
    for (let i = 0; i < Math.min(n, defParams.length); i++) {
      const want = typeWords(params[i]);
      const have = new Set(typeWords(defParams[i]));
      const last = want[want.length - 1];
      if (last && have.has(last)) s += 10;
      for (const w of want) if (have.has(w)) s += 1;
    }
  }
  if (/(^|\/)(test|tests|mocks?)\//.test(path.relative(process.cwd(), e.file.path))) s -= 1;
  return s;
}

function splitParams(p: string): string[] {
  return p.trim() === 'void' ? [] : splitTopLevel(p);
}
