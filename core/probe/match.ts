// Source -> symbols: which function symbols of a binary a C++ function definition compiled to.
// The definition comes from the source index's scanner (qualified name, parameter list); the
// symbols from the one symbol cache (demangled once per build-id). A function can have several:
// constructors and destructors (C1/C2, D0/D1/D2), one per template instantiation, and one or two
// per lambda inside it (the closure's operator() and, when captureless, its static invoker).
import { normalizeType, parameterTypes } from '../stacks/cppParse';
import { type Definition, scanDefinitions } from '../stacks/scanner';
import { parseSymbol, qualifiedName } from '../stacks/symbol';
import type { SymbolTable } from '../symbols/table';

export interface MatchedSymbol {
  /** The mangled name: what a uprobe attaches to. */
  name: string;
  /** The demangled text. */
  display: string;
  /** `function` for the definition itself, `lambda` for a closure inside it. */
  role: 'function' | 'lambda';
}

export interface FunctionMatch {
  definition: Definition;
  symbols: MatchedSymbol[];
  /** Plain words when nothing or more than the definition matched (absent, inlined, overloads left tied). */
  note?: string;
}

/**
 * The function definition a line of a file belongs to: the innermost definition whose header or
 * body holds the line (a line in a lambda belongs to the function around it).
 */
export function definitionAtLine(text: string, line: number): Definition | undefined {
  let best: Definition | undefined;
  for (const d of scanDefinitions(text)) {
    const first = lineOf(text, d.start);
    if (line < first || line > d.endLine) continue;
    if (!best || d.start >= best.start) best = d;
  }
  return best;
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Names of the functions that run a lambda's body: its operator(), and the static invoker of a
 * captureless one (GCC `_FUN`, clang `__invoke`). */
const LAMBDA_BODIES = new Set(['operator()', '_FUN', '__invoke']);

interface Candidate {
  name: string;
  display: string;
  /** Normalized parameter types of the function (of the enclosing function for a lambda). */
  signature: string[];
  role: 'function' | 'lambda';
}

/** Symbols of `table` that `definition` compiled to; an empty list comes with a note saying why. */
export async function matchDefinition(definition: Definition, table: SymbolTable): Promise<FunctionMatch> {
  if (table.meta.noSymbols) return { definition, symbols: [], note: table.meta.noSymbols };
  const qname = definition.qname;
  const candidates: Candidate[] = [];
  // One scan of the demangled names for `name(`: the function and every lambda inside it
  // (`f(int)::$_0::__invoke`, `f(int)::{lambda()#1}::operator()`), whatever templates or
  // anonymous namespaces surround it.
  for (const name of table.demangledContaining(`${definition.name}(`, 100_000)) {
    const display = table.displayOf(name) ?? name;
    const sym = parseSymbol(display);
    if (sym.thunk) continue; // a thunk only adjusts `this` and jumps to the function itself
    if (sym.lambda) {
      const enclosing = sym.lambda.enclosing;
      if (qualifiedName(enclosing) !== qname || enclosing.lambda) continue;
      // The closure's own code only: not std::function's managers and invokers instantiated
      // for it, nor its conversion to a function pointer.
      if (!LAMBDA_BODIES.has(sym.name) || !qualifiedName(sym).startsWith(`${qname}::`)) continue;
      candidates.push({ name, display, signature: normalized(enclosing.params), role: 'lambda' });
    } else if (qualifiedName(sym) === qname) {
      candidates.push({ name, display, signature: normalized(sym.params), role: 'function' });
    }
  }
  if (!candidates.length) {
    return {
      definition,
      symbols: [],
      note: table.meta.sources.some((s) => s.startsWith('.symtab'))
        ? `${qname} has no symbol in ${table.meta.binary}: it was inlined into its callers everywhere, or never compiled into this binary`
        : `${qname} is not among the exported functions of ${table.meta.binary}, which is stripped, and no debug file was found${table.meta.buildId ? ` (looked for /usr/lib/debug/.build-id/${table.meta.buildId.slice(0, 2)}/${table.meta.buildId.slice(2)}.debug)` : ''}`,
    };
  }
  const chosen = await chooseOverload(definition, candidates);
  const symbols = chosen.kept.map(({ name, display, role }) => ({ name, display, role }));
  if (!symbols.some((s) => s.role === 'function')) {
    chosen.note ??= `${qname} itself has no symbol in ${table.meta.binary} (inlined everywhere); only its lambdas can be traced`;
  }
  return { definition, symbols, note: chosen.note };
}

function normalized(params: string[] | undefined): string[] {
  const list = (params ?? []).filter((p) => p !== 'void');
  return list.map(normalizeType);
}

/**
 * Among overloads of one qualified name, those of the definition: same parameter types (as the
 * compiler prints them, normalized), else same number of parameters (a typedef or a template
 * parameter is spelled differently in the source). Several left: all kept, and said.
 */
async function chooseOverload(
  definition: Definition,
  candidates: Candidate[],
): Promise<{ kept: Candidate[]; note?: string }> {
  const signatures = new Map<string, Candidate[]>();
  for (const c of candidates) {
    const key = c.signature.join(',');
    signatures.set(key, [...(signatures.get(key) ?? []), c]);
  }
  if (signatures.size === 1) return { kept: candidates };
  const wanted = (await parameterTypes(definition.params)).filter((t) => t !== 'void');
  const exact = signatures.get(wanted.join(','));
  if (exact) return { kept: exact };
  const byCount = [...signatures.values()].filter((group) => {
    const n = group[0].signature.length;
    return n >= definition.minArgs && n <= definition.maxArgs;
  });
  if (byCount.length === 1) return { kept: byCount[0] };
  const kept = (byCount.length ? byCount : [...signatures.values()]).flat();
  return {
    kept,
    note: `${definition.qname}(${definition.params}) matches ${byCount.length || signatures.size} overloads by name and parameter count; all are traced (template instantiations, or types spelled through typedefs)`,
  };
}
