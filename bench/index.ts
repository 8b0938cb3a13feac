// Benchmark of the C++ source index, which links every stack frame of a trace to its source line
// and must stay quick on a tree as large as Envoy's: a generated Envoy-sized tree (~3,000 .cc/.h
// files, ~20 MB, ~28,000 function definitions), indexed cold (no saved index) and warm (saved
// index, unchanged files), against `ctags -R` (universal-ctags) on the same tree in the same run;
// then warm lookups per frame and memory. Run: npm run bench:index [-- --files N]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Frame } from '../core/stacks/frames';
import { Resolver } from '../core/stacks/resolver';
import { SourceIndex } from '../core/stacks/sourceIndex';

const args = process.argv.slice(2);
const FILES = Number(args[args.indexOf('--files') + 1]) || 3000;
// `--tree DIR`: measure a real checkout (e.g. Envoy's source/ and envoy/) instead of the generated tree.
const TREE = args.includes('--tree') ? path.resolve(args[args.indexOf('--tree') + 1]) : undefined;
const RUNS = 3;

/** Deterministic pseudo-random numbers: the same tree every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
}

interface Generated {
  root: string;
  bytes: number;
  defs: number;
  frames: Frame[];
}

const AREAS = [
  'network',
  'http',
  'event',
  'server',
  'config',
  'router',
  'upstream',
  'grpc',
  'stats',
  'tls',
  'filter',
];
const TYPES = [
  'Buffer::Instance&',
  'bool',
  'uint32_t',
  'const std::string&',
  'Network::Connection&',
  'absl::string_view',
  'int',
  'Event::Dispatcher&',
];
const FRAME_TYPES: Record<string, string> = {
  'Buffer::Instance&': 'Envoy::Buffer::Instance&',
  bool: 'bool',
  uint32_t: 'unsigned int',
  'const std::string&':
    'std::__1::basic_string<char, std::__1::char_traits<char>, std::__1::allocator<char> > const&',
  'Network::Connection&': 'Envoy::Network::Connection&',
  'absl::string_view': 'absl::string_view',
  int: 'int',
  'Event::Dispatcher&': 'Envoy::Event::Dispatcher&',
};

function comment(r: () => number, lines: number): string {
  const words = [
    'the',
    'listener',
    'socket',
    'worker',
    'dispatcher',
    'is',
    'bound',
    'before',
    'callbacks',
    'run',
    '{',
    '}',
    '(',
    'flush',
  ];
  let out = '';
  for (let i = 0; i < lines; i++) {
    let l = '  //';
    for (let w = 0; w < 10; w++) l += ` ${words[Math.floor(r() * words.length)]}`;
    out += `${l}\n`;
  }
  return out;
}

function generate(root: string, files: number): Generated {
  const r = rng(42);
  let bytes = 0;
  let defs = 0;
  const frames: Frame[] = [];
  for (let f = 0; f < files / 2; f++) {
    const area = AREAS[f % AREAS.length];
    const dir = path.join(root, f % 3 === 0 ? 'envoy' : 'source', area, `sub${f % 17}`);
    mkdirSync(dir, { recursive: true });
    const ns = area[0].toUpperCase() + area.slice(1);
    const cls = `${ns}Thing${f}Impl`;
    const methods = Array.from({ length: 15 }, (_, m) => {
      const n = 1 + Math.floor(r() * 3);
      const params = Array.from({ length: n }, () => TYPES[Math.floor(r() * TYPES.length)]);
      return { name: m % 5 === 0 ? 'onData' : `method${m}`, params };
    });
    // Header: class with declarations, a pure virtual, 4 inline definitions.
    let h = `#pragma once\n\n#include <memory>\n#include <string>\n\nnamespace Envoy {\nnamespace ${ns} {\n\n`;
    h += `class ${cls}Base {\npublic:\n  virtual ~${cls}Base() = default;\n  virtual void onEvent(uint32_t events) PURE;\n};\n\n`;
    h += `/**\n * A generated class shaped like Envoy's: { braces in comments } must not confuse the scanner.\n */\n`;
    h += `template <class T> class ${cls} : public ${cls}Base, Logger::Loggable<Logger::Id::${area}> {\npublic:\n`;
    for (let m = 0; m < 4; m++) {
      h += `  bool inline${m}(const T& value, uint32_t flags) const {\n${comment(r, 8)}    if (flags & ${m}) {\n      return value.size() > ${m * 7};\n    }\n    return std::string("{}").empty();\n  }\n\n`;
      defs++;
    }
    for (const m of methods)
      h += `  ${m.name === 'onData' ? 'Network::FilterStatus' : 'void'} ${m.name}(${m.params.map((p, i) => `${p} a${i}`).join(', ')});\n`;
    h += `\nprivate:\n  std::unique_ptr<Buffer::Instance> buffer_;\n  uint32_t flags_{0};\n};\n\n} // namespace ${ns}\n} // namespace Envoy\n`;
    writeFileSync(path.join(dir, `thing${f}_impl.h`), h);
    bytes += h.length;
    // Source: out-of-line definitions with lambdas, comments, strings, init lists.
    let c = `#include "${area}/thing${f}_impl.h"\n\n#include <functional>\n\nnamespace Envoy {\nnamespace ${ns} {\nnamespace {\n\nconstexpr absl::string_view kName = "thing${f}";\n\n} // namespace\n\n`;
    c += `${cls}::${cls}(Event::Dispatcher& dispatcher, const std::string& name)\n    : dispatcher_(dispatcher), name_(name), stats_{generateStats(name)} {\n  dispatcher_.post([this]() { onEvent(0); });\n}\n\n`;
    defs++;
    for (const m of methods) {
      c += `${m.name === 'onData' ? 'Network::FilterStatus' : 'void'} ${cls}::${m.name}(${m.params.map((p, i) => `${p} a${i}`).join(',\n    ')}) {\n`;
      c += comment(r, 4);
      c += `  ENVOY_LOG(debug, "${m.name} on {} with {} bytes", kName, ${m.params.length});\n`;
      c += `  auto cb = [this, &a0](int x) -> bool {\n    if (x > 0) { return flags_ & x; }\n    return false;\n  };\n`;
      c += `  for (int i = 0; i < ${m.params.length}; i++) {\n    if (cb(i)) {\n      stats_.${m.name}_.inc();\n    }\n  }\n`;
      c += m.name === 'onData' ? '  return Network::FilterStatus::Continue;\n}\n\n' : '}\n\n';
      defs++;
      if (frames.length < 20000) {
        frames.push({
          raw: '',
          symbol: `Envoy::${ns}::${cls}::${m.name}(${m.params.map((p) => FRAME_TYPES[p]).join(', ')})`,
          offset: 40,
          mangled: false,
        });
      }
    }
    c += `} // namespace ${ns}\n} // namespace Envoy\n`;
    writeFileSync(path.join(dir, `thing${f}_impl.cc`), c);
    bytes += c.length;
  }
  return { root, bytes, defs, frames };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function mb(n: number): string {
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

async function main(): Promise<void> {
  let heapIndex = 0;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'ft-bench-index-'));
  try {
    const gen = TREE
      ? { root: TREE, bytes: 0, defs: 0, frames: [] as Frame[] }
      : generate(path.join(tmp, 'tree'), FILES);
    if (TREE) console.log(`tree: ${TREE} (real checkout)`);
    else console.log(`tree: ${FILES} files, ${mb(gen.bytes)}, ${gen.defs} function definitions (generated)`);
    // Both tools read from the page cache: warm it once.
    execFileSync('sh', ['-c', 'find "$1" -type f -exec cat {} + > /dev/null', 'sh', gen.root]);

    const ctags: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      execFileSync('ctags', [
        '-R',
        '--languages=C,C++',
        '--extras=+q',
        '--fields=+nS',
        '-f',
        path.join(tmp, 'tags'),
        gen.root,
      ]);
      ctags.push(performance.now() - t);
    }
    const tagLines = readFileSync(path.join(tmp, 'tags'), 'utf8')
      .split('\n')
      .filter((l) => /\tf\t|\tf$|kind:f/.test(l) || /\tf\t/.test(l)).length;

    const cold: number[] = [];
    let index: SourceIndex | undefined;
    for (let i = 0; i < RUNS; i++) {
      index = undefined;
      const t = performance.now();
      index = await SourceIndex.build([gen.root]);
      cold.push(performance.now() - t);
    }
    const load = os.loadavg()[0];
    const cache = path.join(tmp, 'index.json');
    await index!.save(cache);
    const warm: number[] = [];
    let warmIndex: SourceIndex | undefined;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      const previous = await SourceIndex.load(cache);
      warmIndex = await SourceIndex.build([gen.root], { previous });
      warm.push(performance.now() - t);
    }
    const s = warmIndex!.stats;

    if (TREE) {
      // Frames for a real tree: every indexed definition, spelled as a frame would spell it.
      for (const f of warmIndex!.files.values()) {
        for (const d of f.defs) {
          if (gen.frames.length < 20000)
            gen.frames.push({ raw: '', symbol: `${d.qname}(${d.params})`, offset: 1, mangled: false });
        }
      }
    }
    let resolver: Resolver | undefined = new Resolver(warmIndex!);
    let resolved = 0;
    for (const f of gen.frames.slice(0, 200)) await resolver.resolve(f); // JIT warm-up
    const t = performance.now();
    for (const f of gen.frames) if ((await resolver.resolve(f)).location) resolved++;
    const perFrame = (performance.now() - t) / gen.frames.length;
    resolver = undefined;

    const rss = process.memoryUsage().rss;
    // Heap of one index, measured in a fresh process: here, garbage of the runs above blurs it.
    const probe = `const { SourceIndex } = require(${JSON.stringify(path.resolve(__dirname, '../core/stacks/sourceIndex'))});
      (async () => { gc(); const h0 = process.memoryUsage().heapUsed;
        const idx = await SourceIndex.build([${JSON.stringify(gen.root)}]); gc();
        console.log(process.memoryUsage().heapUsed - h0, idx.definitionCount); })();`;
    heapIndex = Number(
      execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', '-e', probe], {
        encoding: 'utf8',
      }).split(' ')[0],
    );
    const defs = index!.definitionCount;
    const bytes = index!.stats.bytesScanned;
    const files = index!.stats.files;
    const cacheSize = readFileSync(cache).length;
    const ratio = (ms: number) => `${(median(ctags) / ms).toFixed(2)}x ctags speed`;
    const lines = [
      `indexed: ${files} files, ${mb(bytes)}, ${defs} function definitions; ${os.cpus().length} cores, load average ${load.toFixed(1)}`,
      `ctags -R (universal-ctags):        ${median(ctags).toFixed(0)} ms  (median of ${RUNS}; ${tagLines} function tags)`,
      `index cold (no saved index):       ${median(cold).toFixed(0)} ms  (median of ${RUNS}; first run in this process ${cold[0].toFixed(0)} ms; ${ratio(median(cold))})`,
      `index warm (saved index, no edit): ${median(warm).toFixed(0)} ms  (${s.reused} files reused, ${s.scanned} scanned; saved index ${mb(cacheSize)})`,
      `lookup per frame (warm):           ${(perFrame * 1000).toFixed(1)} µs  (${gen.frames.length} frames, ${resolved} resolved)`,
      `memory: one index ≈ ${mb(heapIndex)} of heap; process rss ${mb(rss)}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

void main();
