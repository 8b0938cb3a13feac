// Seeded mutation fuzzing for the parsers of untrusted input: a fixed seed makes every failure
// reproducible (the failing case's index and input are in the message), and each run is bounded
// in count and time so the suite stays fast.
import assert from 'node:assert/strict';

/** mulberry32: a small deterministic PRNG, enough for picking mutations. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Bytes that steer parsers: separators, quotes, escapes, controls, signs, hex digits, UTF-8 lead bytes.
const INTERESTING = [
  0x00, 0x07, 0x08, 0x09, 0x0a, 0x0d, 0x1b, 0x20, 0x22, 0x25, 0x27, 0x2c, 0x2d, 0x30, 0x3a, 0x3b, 0x5b, 0x5c,
  0x5d, 0x66, 0x7b, 0x7d, 0x7f, 0x80, 0x9b, 0x9d, 0xc2, 0xe2, 0xff,
];
const TOKENS = [
  '\r\n',
  '\n',
  '-1',
  '-6',
  'ffffffff',
  '0x10',
  '\\u0000',
  '\\x1b',
  '\x1b]8;;',
  '\x9b',
  '"',
  '%',
  '..',
  '*',
  '!',
  '[',
  ']:',
  ';',
  ' ',
  '\t',
  '1e309',
  'NaN',
  '999999999999999999999',
];

/** One mutation of `input`: flips, inserts, deletes, duplicates, splices in tokens or another seed. */
export function mutate(input: Buffer, random: () => number, corpus: readonly Buffer[]): Buffer {
  const pick = (n: number) => Math.floor(random() * n);
  let out = Buffer.from(input);
  const rounds = 1 + pick(4);
  for (let r = 0; r < rounds; r++) {
    const at = out.length === 0 ? 0 : pick(out.length + 1);
    switch (pick(7)) {
      case 0:
        if (out.length) out[pick(out.length)] ^= 1 << pick(8);
        break;
      case 1:
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from([INTERESTING[pick(INTERESTING.length)]]),
          out.subarray(at),
        ]);
        break;
      case 2:
        out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + pick(16)))]);
        break;
      case 3:
        out = Buffer.concat([
          out.subarray(0, at),
          Buffer.from(TOKENS[pick(TOKENS.length)], 'latin1'),
          out.subarray(at),
        ]);
        break;
      case 4: {
        const from = pick(out.length + 1);
        const piece = out.subarray(from, from + 1 + pick(64));
        out = Buffer.concat([out.subarray(0, at), piece, out.subarray(at)]);
        break;
      }
      case 5: {
        const other = corpus[pick(corpus.length)] ?? Buffer.alloc(0);
        const from = pick(other.length + 1);
        out = Buffer.concat([out.subarray(0, at), other.subarray(from, from + pick(128)), out.subarray(at)]);
        break;
      }
      default:
        if (out.length) out[pick(out.length)] = pick(256);
    }
  }
  return out;
}

export interface FuzzOptions {
  seed: number;
  count: number;
  /** Wall-clock budget for the whole run; exceeding it fails the test (a hang or a blow-up). */
  budgetMs: number;
  /** Largest heap growth allowed over the run. */
  maxHeapGrowthBytes?: number;
}

/**
 * Feeds `count` mutations of the seeds into `check`, which must not throw. Also fails when the
 * run goes over its time budget or the heap grows past the bound.
 */
export function fuzz(
  seeds: readonly (string | Buffer)[],
  options: FuzzOptions,
  check: (input: Buffer, index: number) => void,
): void {
  const corpus = seeds.map((s) => (typeof s === 'string' ? Buffer.from(s, 'latin1') : s));
  const random = seededRandom(options.seed);
  const started = Date.now();
  const heapBefore = process.memoryUsage().heapUsed;
  for (let i = 0; i < options.count; i++) {
    const base = corpus[i % corpus.length];
    const input = mutate(base, random, corpus);
    try {
      check(input, i);
    } catch (error) {
      const shown = JSON.stringify(input.toString('latin1').slice(0, 400));
      throw new Error(`fuzz case ${i} (seed ${options.seed}) failed on ${shown}: ${String(error)}`, {
        cause: error,
      });
    }
    if ((i & 255) === 0 && Date.now() - started > options.budgetMs)
      assert.fail(`fuzzing took over ${options.budgetMs} ms at case ${i} of ${options.count}`);
  }
  assert.ok(Date.now() - started <= options.budgetMs, `fuzzing took over ${options.budgetMs} ms`);
  const growth = process.memoryUsage().heapUsed - heapBefore;
  assert.ok(
    growth <= (options.maxHeapGrowthBytes ?? 256 * 1024 * 1024),
    `heap grew by ${growth} bytes over ${options.count} cases`,
  );
}

/** Whether `text` holds a C0 control (but tab and newline), DEL or a C1 control: what a terminal obeys. */
export function hasRawControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a) || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}
