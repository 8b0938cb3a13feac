// The compact symbol table of one binary: every function name once, sorted, in one UTF-8 blob
// with an offset array, so that 10^6 names cost one buffer and two typed arrays (not 10^6
// strings), and exact and prefix lookups are binary searches over bytes. Demangled names (C++)
// sit in a second blob aligned with the first, with their own sorted order for completion; data
// (OBJECT) names in a third, only to be told apart (bpftrace resolves a uprobe name among them
// first, and then fails to attach).
// The same bytes are the on-disk cache file: loading is one read, no parsing per name.

const MAGIC = 'FTSYM2\n';

/** What is known about a binary besides its function names. */
export interface SymbolTableMeta {
  /** GNU build-id (hex), or a stand-in `path:size:mtime` key when the binary has none. */
  key: string;
  buildId?: string;
  /** The binary the names were read from (as first seen; other paths may share the build-id). */
  binary: string;
  /** The separate debug file whose symbols were read too, when one was found. */
  debugFile?: string;
  /** Which symbol tables were read: `.symtab`, `.dynsym` (and from which file). */
  sources: string[];
  /** USDT probes from the binary's stapsdt notes, `provider:name`. */
  usdt: string[];
  /** Set when the binary has no function symbols at all: says why, in plain words. */
  noSymbols?: string;
}

interface Blob {
  bytes: Buffer;
  /** offsets[i]..offsets[i+1] is entry i (without separator). */
  offsets: Uint32Array;
}

function blobOf(strings: readonly string[]): Blob {
  const parts = strings.map((s) => Buffer.from(s, 'utf8'));
  const offsets = new Uint32Array(parts.length + 1);
  let at = 0;
  parts.forEach((p, i) => {
    offsets[i] = at;
    at += p.length;
  });
  offsets[parts.length] = at;
  return { bytes: Buffer.concat(parts, at), offsets };
}

function entry(blob: Blob, i: number): Buffer {
  return blob.bytes.subarray(blob.offsets[i], blob.offsets[i + 1]);
}

export class SymbolTable {
  private constructor(
    readonly meta: SymbolTableMeta,
    private readonly names: Blob,
    /** Demangled text per name ('' where the name is not mangled), aligned with names. */
    private readonly demangled: Blob | undefined,
    /** Indices of names sorted by their display form (demangled, else the name). */
    private readonly displayOrder: Uint32Array | undefined,
    /** Defined data symbols, sorted. */
    private readonly data: Blob,
  ) {}

  /**
   * Builds a table from names in any order (duplicates dropped). `demangle` maps the names that
   * need it (C++ `_Z…`) to their demangled text; without it the table has mangled names only.
   */
  static build(
    meta: SymbolTableMeta,
    names: Iterable<string>,
    demangled?: Map<string, string>,
    data: Iterable<string> = [],
  ): SymbolTable {
    const sorted = sortedUnique(names);
    const table = blobOf(sorted);
    const objects = blobOf(sortedUnique(data));
    if (!demangled || demangled.size === 0)
      return new SymbolTable(meta, table, undefined, undefined, objects);
    const texts = sorted.map((n) => demangled.get(n) ?? '');
    const display = texts.map((d, i) => d || sorted[i]);
    // A plain array sorts with a comparator several times faster than a typed array.
    const order = Array.from(display.keys()).sort((a, b) =>
      display[a] < display[b] ? -1 : display[a] > display[b] ? 1 : 0,
    );
    return new SymbolTable(meta, table, blobOf(texts), Uint32Array.from(order), objects);
  }

  get size(): number {
    return this.names.offsets.length - 1;
  }

  get hasDemangled(): boolean {
    return this.demangled !== undefined;
  }

  name(i: number): string {
    return entry(this.names, i).toString('utf8');
  }

  /** The demangled form of name i, or the name itself when it is not mangled. */
  display(i: number): string {
    const d = this.demangled ? entry(this.demangled, i) : undefined;
    return d && d.length ? d.toString('utf8') : this.name(i);
  }

  /** First index whose name is >= key (byte order). */
  private lowerBound(key: Buffer, blob: Blob = this.names): number {
    let lo = 0;
    let hi = blob.offsets.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (Buffer.compare(entry(blob, mid), key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  private contains(blob: Blob, name: string): boolean {
    const key = Buffer.from(name, 'utf8');
    const i = this.lowerBound(key, blob);
    return i < blob.offsets.length - 1 && entry(blob, i).equals(key);
  }

  has(name: string): boolean {
    return this.contains(this.names, name);
  }

  /** The demangled form of a name in the table (the name itself when not mangled); undefined when absent. */
  displayOf(name: string): string | undefined {
    const key = Buffer.from(name, 'utf8');
    const i = this.lowerBound(key);
    return i < this.size && entry(this.names, i).equals(key) ? this.display(i) : undefined;
  }

  /** A defined data (OBJECT) symbol of that name. */
  hasData(name: string): boolean {
    return this.contains(this.data, name);
  }

  /** Names that start with prefix, in byte order, at most `limit`. */
  withPrefix(prefix: string, limit = 200): string[] {
    const key = Buffer.from(prefix, 'utf8');
    const out: string[] = [];
    for (let i = this.lowerBound(key); i < this.size && out.length < limit; i++) {
      const e = entry(this.names, i);
      if (e.length < key.length || e.compare(key, 0, key.length, 0, key.length) !== 0) break;
      out.push(e.toString('utf8'));
    }
    return out;
  }

  /**
   * Entries whose demangled form starts with prefix (`Envoy::Network::`), as
   * {name, display}; falls back to the names when the table has no demangled forms.
   */
  withDisplayPrefix(prefix: string, limit = 200): Array<{ name: string; display: string }> {
    if (!this.displayOrder) return this.withPrefix(prefix, limit).map((n) => ({ name: n, display: n }));
    const order = this.displayOrder;
    let lo = 0;
    let hi = order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.display(order[mid]) < prefix) lo = mid + 1;
      else hi = mid;
    }
    const out: Array<{ name: string; display: string }> = [];
    for (let k = lo; k < order.length && out.length < limit; k++) {
      const display = this.display(order[k]);
      if (!display.startsWith(prefix)) break;
      out.push({ name: this.name(order[k]), display });
    }
    return out;
  }

  /**
   * Mangled names whose demangled text contains `text` (bpftrace 0.17 matches a uprobe function
   * that is not a symbol this way, to find C++ overloads). One scan of the demangled blob.
   */
  demangledContaining(text: string, limit = 50): string[] {
    if (!this.demangled || !text) return [];
    const needle = Buffer.from(text, 'utf8');
    const { bytes, offsets } = this.demangled;
    const out: string[] = [];
    for (let at = bytes.indexOf(needle); at >= 0 && out.length < limit;) {
      // The entry holding byte `at`: the last offset <= at.
      let lo = 0;
      let hi = offsets.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (offsets[mid] <= at) lo = mid;
        else hi = mid - 1;
      }
      const end = offsets[lo + 1];
      if (at + needle.length <= end) out.push(this.name(lo));
      at = bytes.indexOf(needle, at + 1 > end ? at + 1 : end);
    }
    return out;
  }

  /** Names matching a bpftrace wildcard (`*`), at most `limit`; a literal prefix narrows the scan. */
  matching(pattern: string, limit = 50): string[] {
    const star = pattern.indexOf('*');
    if (star < 0) return this.has(pattern) ? [pattern] : [];
    const re = wildcardRegExp(pattern);
    const prefix = pattern.slice(0, star);
    const out: string[] = [];
    const start = prefix ? this.lowerBound(Buffer.from(prefix, 'utf8')) : 0;
    for (let i = start; i < this.size && out.length < limit; i++) {
      const name = this.name(i);
      if (prefix && !name.startsWith(prefix)) break;
      if (re.test(name)) out.push(name);
    }
    return out;
  }

  /** Whether a wildcard pattern matches any demangled name (one scan; C++ patterns). */
  displayMatching(pattern: string): boolean {
    if (!this.demangled) return false;
    const re = wildcardRegExp(pattern);
    for (let i = 0; i < this.size; i++) {
      const d = entry(this.demangled, i);
      if (d.length && re.test(d.toString('utf8'))) return true;
    }
    return false;
  }

  /** The cache file's bytes: magic, a JSON header line, then 4-byte aligned sections. */
  serialize(): Buffer {
    const header = Buffer.from(
      JSON.stringify({
        meta: this.meta,
        count: this.size,
        namesBytes: this.names.bytes.length,
        dataCount: this.data.offsets.length - 1,
        dataBytes: this.data.bytes.length,
        demangledBytes: this.demangled?.bytes.length ?? -1,
      }) + '\n',
      'utf8',
    );
    const head = Buffer.concat([Buffer.from(MAGIC), header]);
    const parts: Buffer[] = [head, pad(head.length)];
    const push = (b: Buffer | Uint32Array) => {
      const buf = b instanceof Uint32Array ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : b;
      parts.push(buf, pad(buf.length));
    };
    push(this.names.offsets);
    push(this.names.bytes);
    push(this.data.offsets);
    push(this.data.bytes);
    if (this.demangled && this.displayOrder) {
      push(this.demangled.offsets);
      push(this.demangled.bytes);
      push(this.displayOrder);
    }
    return Buffer.concat(parts);
  }

  static deserialize(file: Buffer): SymbolTable {
    if (file.subarray(0, MAGIC.length).toString('latin1') !== MAGIC)
      throw new Error('not a symbol table file');
    const nl = file.indexOf(10, MAGIC.length);
    const header = JSON.parse(file.subarray(MAGIC.length, nl).toString('utf8')) as {
      meta: SymbolTableMeta;
      count: number;
      namesBytes: number;
      dataCount: number;
      dataBytes: number;
      demangledBytes: number;
    };
    // Typed arrays need 4-byte alignment of the underlying memory.
    const buf = file.byteOffset % 4 === 0 ? file : Buffer.from(file);
    let at = align(nl + 1);
    const u32 = (n: number) => {
      const a = new Uint32Array(buf.buffer, buf.byteOffset + at, n);
      at = align(at + n * 4);
      return a;
    };
    const bytes = (n: number) => {
      const b = buf.subarray(at, at + n);
      at = align(at + n);
      return b;
    };
    const nameOffsets = u32(header.count + 1);
    const names = { offsets: nameOffsets, bytes: bytes(header.namesBytes) };
    const dataOffsets = u32(header.dataCount + 1);
    const data = { offsets: dataOffsets, bytes: bytes(header.dataBytes) };
    if (header.demangledBytes < 0) return new SymbolTable(header.meta, names, undefined, undefined, data);
    const dOffsets = u32(header.count + 1);
    const demangled = { offsets: dOffsets, bytes: bytes(header.demangledBytes) };
    return new SymbolTable(header.meta, names, demangled, u32(header.count), data);
  }
}

/**
 * Names in byte order without duplicates. Nodes send them sorted (`LC_ALL=C sort -u`), which one
 * pass confirms; sorting a million names here would cost seconds. JS order (UTF-16 units) equals
 * UTF-8 byte order for names without characters beyond U+FFFF, which symbol names do not have.
 */
function sortedUnique(names: Iterable<string>): string[] {
  const list = Array.isArray(names) ? (names as string[]) : [...names];
  let ordered = true;
  for (let i = 1; i < list.length && ordered; i++) ordered = list[i - 1] < list[i];
  return ordered ? list : [...new Set(list)].sort();
}

function align(n: number): number {
  return (n + 3) & ~3;
}

function pad(length: number): Buffer {
  return Buffer.alloc(align(length) - length);
}

/** A bpftrace wildcard (`*` only) as an anchored regular expression. */
export function wildcardRegExp(pattern: string): RegExp {
  const literal = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${pattern.split('*').map(literal).join('.*')}$`);
}
