// The symbol cache by build-id on real binaries built here: a C++ program (g++), its function
// names read by readelf and demangled by c++filt, prefix and exact lookups, the disk cache
// (a second reader lists nothing), a stripped build found through its .gnu_debuglink, the same
// build without its debug file ("no symbols", said plainly), and reading over a real sshd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LocalTransport } from '../../../core/nodes/transport';
import { connectSsh } from '../../../core/ssh/client';
import { SymbolCache } from '../../../core/symbols/cache';
import { SymbolTable } from '../../../core/symbols/table';
import { type SshdHarness, sshdAvailable, startSshd } from '../../helpers/sshd';

const SOURCE = `
#include <cstdio>
namespace ft {
struct Listener {
  int setupSocket(int fd);
  int setupSocket(const char *name);
};
int Listener::setupSocket(int fd) { return fd + 1; }
int Listener::setupSocket(const char *name) { return name[0]; }
} // namespace ft
extern "C" {
int ft_counter = 1;
}
extern "C" int ft_plain_function(int x) { return x * 2 + ft_counter; }
int main(int argc, char **argv) {
  ft::Listener l;
  std::printf("%d\\n", l.setupSocket(argc) + l.setupSocket(argv[0]) + ft_plain_function(argc));
  return 0;
}
`;

const local = { transport: new LocalTransport() };
let dir: string;
let binary: string;
let stripped: string;
let bare: string;

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ft-symbols-'));
  writeFileSync(path.join(dir, 'prog.cc'), SOURCE);
  binary = path.join(dir, 'prog');
  execFileSync('g++', ['-g', '-O0', '-Wl,--build-id', '-o', binary, path.join(dir, 'prog.cc')]);
  // A release-style build: symbols and DWARF in prog.debug, found through .gnu_debuglink.
  const rel = path.join(dir, 'release');
  mkdirSync(rel);
  stripped = path.join(rel, 'prog');
  copyFileSync(binary, stripped);
  execFileSync('objcopy', ['--only-keep-debug', stripped, `${stripped}.debug`]);
  execFileSync('strip', ['--strip-all', stripped]);
  execFileSync('objcopy', [`--add-gnu-debuglink=${stripped}.debug`, stripped], { cwd: rel });
  // The same stripped build with no debug file anywhere (another build-id: a different body).
  const none = path.join(dir, 'none');
  mkdirSync(none);
  writeFileSync(path.join(none, 'prog.cc'), SOURCE.replace('x * 2', 'x * 3'));
  bare = path.join(none, 'prog');
  execFileSync('g++', ['-O0', '-Wl,--build-id', '-s', '-o', bare, path.join(none, 'prog.cc')]);
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('symbol cache by build-id', () => {
  it('reads function names once per build-id, demangled, with exact and prefix lookups', async () => {
    const cacheDir = path.join(dir, 'cache-1');
    const cache = new SymbolCache({ dir: cacheDir });
    const table = await cache.tableFor(local, binary);
    assert.match(table.meta.buildId ?? '', /^[0-9a-f]{40}$/);
    assert.equal(table.meta.noSymbols, undefined);
    assert.ok(table.has('main'));
    assert.ok(table.has('ft_plain_function'));
    assert.ok(!table.has('ft_plain'), 'exact lookup, not a prefix');
    assert.ok(table.hasData('ft_counter') && !table.has('ft_counter'), 'data symbols are told apart');
    assert.deepEqual(table.withPrefix('_ZN2ft8Listener11setupSocket'), [
      '_ZN2ft8Listener11setupSocketEPKc',
      '_ZN2ft8Listener11setupSocketEi',
    ]);
    assert.deepEqual(
      table.withDisplayPrefix('ft::Listener::setupSocket(').map((e) => e.display),
      ['ft::Listener::setupSocket(char const*)', 'ft::Listener::setupSocket(int)'],
    );
    // bpftrace 0.17 finds the overloads of a function written without its mangling this way.
    assert.deepEqual(table.demangledContaining('Listener::setupSocket').sort(), [
      '_ZN2ft8Listener11setupSocketEPKc',
      '_ZN2ft8Listener11setupSocketEi',
    ]);
    assert.deepEqual(table.matching('ft_plain*'), ['ft_plain_function']);
    assert.equal(cache.stats.listings, 1);

    // The same build again: from memory in this process, from disk in the next one.
    await cache.tableFor(local, binary);
    assert.equal(cache.stats.listings, 1);
    assert.equal(cache.stats.memoryHits, 1);
    const next = new SymbolCache({ dir: cacheDir });
    const fromDisk = await next.tableFor(local, binary);
    assert.equal(next.stats.listings, 0);
    assert.equal(next.stats.diskHits, 1);
    assert.equal(fromDisk.size, table.size);
    assert.deepEqual(fromDisk.withDisplayPrefix('ft::'), table.withDisplayPrefix('ft::'));
    assert.deepEqual(await next.byKey(table.meta.key), fromDisk);
    assert.ok(fromDisk.hasData('ft_counter'));
  });

  it('a stripped binary is read through its .gnu_debuglink debug file', async () => {
    const table = await new SymbolCache({ dir: null }).tableFor(local, stripped);
    assert.equal(table.meta.debugFile, `${stripped}.debug`);
    assert.ok(table.has('_ZN2ft8Listener11setupSocketEi'));
    assert.ok(table.meta.sources.some((s) => s.endsWith('prog.debug')));
  });

  it('a stripped binary without a debug file has "no symbols", said plainly', async () => {
    const table = await new SymbolCache({ dir: null }).tableFor(local, bare);
    assert.equal(table.size, 0);
    assert.match(
      table.meta.noSymbols ?? '',
      /has no function symbols: it is stripped, exports none, and no debug file was found \(looked for \/usr\/lib\/debug\/\.build-id\/[0-9a-f]{2}\/[0-9a-f]+\.debug\)/,
    );
  });

  it('a file that is not ELF is an error that names it', async () => {
    await assert.rejects(
      new SymbolCache({ dir: null }).tableFor(local, '/etc/hostname'),
      /\/etc\/hostname on local/,
    );
  });

  it('the table file round-trips and refuses foreign bytes', () => {
    const t = SymbolTable.build(
      { key: 'k', binary: 'b', sources: [], usdt: ['p:q'] },
      ['b', 'a', 'a', '_ZN1x1fEv'],
      new Map([['_ZN1x1fEv', 'x::f()']]),
    );
    const back = SymbolTable.deserialize(t.serialize());
    assert.deepEqual(
      Array.from({ length: back.size }, (_, i) => back.name(i)),
      ['_ZN1x1fEv', 'a', 'b'],
    );
    assert.equal(back.display(0), 'x::f()');
    assert.deepEqual(back.meta.usdt, ['p:q']);
    assert.throws(() => SymbolTable.deserialize(Buffer.from('not a table')), /not a symbol table/);
  });
});

describe('symbol cache over SSH', { skip: !sshdAvailable() }, () => {
  let sshd: SshdHarness;
  before(async () => {
    sshd = await startSshd({ trust: true });
  });
  after(async () => sshd?.stop());

  it('reads a binary on the node once per build-id: a second connection reads none', async () => {
    const cacheDir = path.join(dir, 'cache-ssh');
    const callbacks = { confirmUnknownHostKey: async () => false };
    const first = await connectSsh(sshd.alias, { env: sshd.env, callbacks });
    let table: SymbolTable;
    try {
      const cache = new SymbolCache({ dir: cacheDir });
      table = await cache.tableFor({ transport: first }, stripped);
      assert.equal(cache.stats.listings, 1);
      assert.ok(table.has('ft_plain_function'));
    } finally {
      first.close();
    }
    const second = await connectSsh(sshd.alias, { env: sshd.env, callbacks });
    try {
      const cache = new SymbolCache({ dir: cacheDir });
      const again = await cache.tableFor({ transport: second }, stripped);
      assert.equal(cache.stats.listings, 0, 'no symbol table read on the node');
      assert.equal(again.meta.key, table.meta.key);
    } finally {
      second.close();
    }
  });
});
