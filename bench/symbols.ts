// Benchmark of the symbol cache by build-id: reading a binary's function symbols cold (readelf
// streamed through the node transport, demangled by c++filt, table built and written), the
// cache hit from disk (a new process's view) and from memory, and lookups at completion time:
// exact name, prefix of mangled names, prefix of demangled names, and the language server's whole
// uprobe completion answer. Two binaries: Debian's
// libLLVM-14.so.1 (110 MB, stripped, ~44k exported functions) and a generated shared object with
// 10^6 C++ functions (an Envoy release binary has several hundred thousand).
// Run: npm run bench:symbols [-- --count N]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SymbolCache } from '../core/symbols/cache';
import type { SymbolTable } from '../core/symbols/table';
import { LocalTransport } from '../core/nodes/transport';
import { TargetFacts } from '../server/facts';
import { binarySymbolCompletion } from '../server/features/binary-symbols';

const args = process.argv.slice(2);
const COUNT = Number(args[args.indexOf('--count') + 1]) || 1_000_000;
const LLVM = '/usr/lib/x86_64-linux-gnu/libLLVM-14.so.1';
const LOOKUPS = 2000;

const NAMESPACES = [
  'Network',
  'Http',
  'Event',
  'Server',
  'Config',
  'Router',
  'Upstream',
  'Grpc',
  'Stats',
  'Ssl',
];

function mangledName(i: number): string {
  const ns = NAMESPACES[i % NAMESPACES.length];
  const cls = `Class${(i >>> 4) % 5000}`;
  const fn = `method${i}`;
  const len = (s: string) => `${s.length}${s}`;
  return `_ZN5Envoy${len(ns)}${len(cls)}${len(fn)}Ev`;
}

/** A shared object with `count` global functions, assembled (no compiler front end: seconds). */
function generateBinary(dir: string, count: number): string {
  const asm = path.join(dir, 'gen.s');
  const lines = ['.text'];
  for (let i = 0; i < count; i++) {
    const n = mangledName(i);
    lines.push(`.globl ${n}`, `.type ${n}, @function`, `${n}:`, 'ret', `.size ${n}, 1`);
  }
  writeFileSync(asm, lines.join('\n') + '\n');
  const obj = path.join(dir, 'gen.o');
  const so = path.join(dir, 'libgen.so');
  execFileSync('as', ['-o', obj, asm]);
  execFileSync('ld', ['-shared', '--build-id', '-o', so, obj]);
  return so;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function p99(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * 0.99))];
}

async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

function lookups(table: SymbolTable, label: string): void {
  const picks: number[] = [];
  for (let k = 0; k < LOOKUPS; k++) picks.push(Math.floor((k * 7919) % table.size));
  const exact: number[] = [];
  const prefix: number[] = [];
  const display: number[] = [];
  const completion: number[] = [];
  const short: number[] = [];
  // The language server's whole answer after `uprobe:BIN:` (labels, quoting, two prefix lookups).
  const facts = new TargetFacts({ nodeId: 'bench', kernelRelease: os.release() });
  facts.setBinary({ facts: { target: 'bin', exists: true }, table });
  const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
  const complete = (typed: string) => binarySymbolCompletion(`uprobe:bin:${typed}`, facts, () => range);
  let found = 0;
  for (const i of picks) {
    const name = table.name(i);
    let t = performance.now();
    if (table.has(name)) found++;
    exact.push(performance.now() - t);
    const p = name.slice(0, Math.max(3, Math.floor(name.length / 2)));
    t = performance.now();
    table.withPrefix(p, 100);
    prefix.push(performance.now() - t);
    const d = table.display(i);
    const dp = d.slice(0, Math.max(3, Math.floor(d.length * 0.6)));
    t = performance.now();
    table.withDisplayPrefix(dp, 100);
    display.push(performance.now() - t);
    t = performance.now();
    complete(dp);
    completion.push(performance.now() - t);
    t = performance.now();
    complete(d.slice(0, 8));
    short.push(performance.now() - t);
  }
  if (found !== picks.length) throw new Error(`${label}: ${picks.length - found} names not found`);
  const f = (xs: number[]) => `median ${median(xs).toFixed(3)} ms, p99 ${p99(xs).toFixed(3)} ms`;
  console.log(`  lookup exact:            ${f(exact)}`);
  console.log(`  prefix (mangled, ≤100):  ${f(prefix)}`);
  console.log(`  prefix (demangled, ≤100): ${f(display)}`);
  console.log(`  uprobe completion (60% of a name): ${f(completion)}`);
  console.log(`  uprobe completion (8 chars, 200 items): ${f(short)}`);
}

async function measure(label: string, binary: string, cacheDir: string): Promise<void> {
  const access = { transport: new LocalTransport() };
  const cold = await timed(() => new SymbolCache({ dir: cacheDir }).tableFor(access, binary));
  const t = cold.value;
  console.log(
    `${label}: ${t.size} functions (${t.meta.sources.join(', ')}${t.hasDemangled ? ', demangled' : ''})`,
  );
  console.log(`  cold read (readelf + c++filt + build + write): ${cold.ms.toFixed(0)} ms`);
  const diskCache = new SymbolCache({ dir: cacheDir });
  const disk = await timed(() => diskCache.tableFor(access, binary));
  if (diskCache.stats.listings !== 0) throw new Error('the disk cache was not used');
  console.log(`  cache hit from disk (readelf -n + load):     ${disk.ms.toFixed(0)} ms`);
  const memory = await timed(() => diskCache.tableFor(access, binary));
  console.log(`  cache hit in memory (readelf -n only):       ${memory.ms.toFixed(0)} ms`);
  lookups(disk.value, label);
}

async function main(): Promise<void> {
  // Wall times include the node tools (readelf, sort, c++filt): on a shared machine, read them with the load.
  console.log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')} on ${os.cpus().length} CPUs`,
  );
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-bench-symbols-'));
  try {
    if (existsSync(LLVM)) await measure('libLLVM-14.so.1', LLVM, path.join(dir, 'cache-llvm'));
    else console.log(`${LLVM} is not installed (apt-get install libllvm14): skipped`);
    const t = performance.now();
    const so = generateBinary(dir, COUNT);
    console.log(`generated ${COUNT} functions in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await measure(`generated (${COUNT} functions)`, so, path.join(dir, 'cache-gen'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
