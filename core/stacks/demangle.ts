// Itanium C++ demangling through binutils' `c++filt` (or LLVM's `llvm-cxxfilt`): the real
// demanglers, which know every corner of the ABI (lambdas, ABI tags, templates, clones).
// Names go in through stdin, one per line, never through a shell.
import { spawn } from 'node:child_process';

const DEMANGLERS = ['c++filt', 'llvm-cxxfilt'];
const cache = new Map<string, string>();
let available: string | null | undefined;

/** Which demangler runs here, or null when none is installed. */
export async function demanglerName(): Promise<string | null> {
  if (available !== undefined) return available;
  for (const cmd of DEMANGLERS) {
    const probe = await runFilter(cmd, ['_ZN5Envoy3fooEv']).catch(() => undefined);
    if (probe && probe[0] === 'Envoy::foo()') return (available = cmd);
  }
  return (available = null);
}

/**
 * Demangles names (`_ZN…`); other strings come back unchanged. Throws a clear error when a
 * mangled name is given and no demangler is installed.
 */
export async function demangle(names: string[]): Promise<string[]> {
  const todo = [...new Set(names.filter((n) => isMangled(n) && !cache.has(n)))];
  if (todo.length) {
    const cmd = await demanglerName();
    if (!cmd) throw new Error('cannot demangle C++ names: install binutils (c++filt) or llvm (llvm-cxxfilt)');
    const out = await runFilter(cmd, todo);
    todo.forEach((n, i) => cache.set(n, out[i] ?? n));
  }
  return names.map((n) => cache.get(n) ?? n);
}

/**
 * Demangles a whole symbol table in one demangler run, without keeping the names in the
 * per-frame cache; undefined when no demangler is installed (the caller keeps mangled names).
 */
export async function demangleTable(names: string[]): Promise<string[] | undefined> {
  const cmd = await demanglerName();
  if (!cmd) return undefined;
  return names.length ? runFilter(cmd, names) : [];
}

export function isMangled(name: string): boolean {
  return /^_Z[A-Za-z0-9_.$]+$/.test(name);
}

function runFilter(cmd: string, names: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${cmd} exited with ${code}`));
      const lines = Buffer.concat(chunks).toString('utf8').split('\n');
      resolve(lines.slice(0, names.length));
    });
    child.stdin.on('error', () => undefined);
    // A name never contains a newline (isMangled), so each line maps back to one name.
    child.stdin.end(names.join('\n') + '\n');
  });
}
