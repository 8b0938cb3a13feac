// Frame links open only real files under a source root: `..` in DWARF and debugger paths, an
// absolute path elsewhere (gdb's `at /etc/passwd:1`), and a symlink in the checkout that leads
// out of it are not opened. A debug binary whose path starts with `-` is a file to nm and
// addr2line, never an option.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { confinedPath } from '../../../core/stacks/confine';
import { DwarfResolver, mapBuildPath } from '../../../core/stacks/dwarf';
import { extractStacks, findFrameInLine, parseFrameLine, type Frame } from '../../../core/stacks/frames';
import { Resolver } from '../../../core/stacks/resolver';
import { SourceIndex } from '../../../core/stacks/sourceIndex';
import { buildMiniEnvoy, type MiniEnvoyBinaries } from '../../targets/mini-envoy';
import { fuzz } from '../../helpers/fuzz';

const MINI = path.resolve(__dirname, '../../targets/mini-envoy');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ft-confine-'));
const checkout = path.join(tmp, 'checkout');
const secret = path.join(tmp, 'secret.txt');
after(() => rmSync(tmp, { recursive: true, force: true }));
before(() => {
  cpSync(MINI, checkout, { recursive: true });
  writeFileSync(secret, 'not source\n');
  symlinkSync(secret, path.join(checkout, 'source', 'leak.cc'));
});

describe('frame links stay under the source roots', () => {
  it('mapBuildPath: `..`, absolute paths elsewhere and symlinks out of the tree map to nothing', () => {
    const roots = [checkout];
    const inside = path.join(checkout, 'source/common/network/tcp_listener_impl.cc');
    assert.equal(mapBuildPath('/proc/self/cwd/source/common/network/tcp_listener_impl.cc', roots), inside);
    assert.equal(mapBuildPath(secret, roots), undefined, 'an absolute path outside the roots');
    assert.equal(mapBuildPath('/etc/passwd', roots), undefined);
    assert.equal(mapBuildPath(`${checkout}/source/../../secret.txt`, roots), undefined, '.. out of the root');
    assert.equal(mapBuildPath('source/../../../../../../etc/passwd', roots), undefined);
    assert.equal(mapBuildPath('source/leak.cc', roots), undefined, 'a symlink that leads out');
    assert.equal(mapBuildPath(`${checkout}/source/leak.cc`, roots), undefined);
    assert.equal(confinedPath(checkout, roots), undefined, 'a folder is not a file');
  });

  it('gdb-style frames `at /abs/path:1` outside the roots resolve to no location', async () => {
    const resolver = new Resolver(await SourceIndex.build([checkout]));
    for (const line of [
      `#1  0x000055555555 in Demo::Listener::setup (this=0x7ffe, fd=3) at ${secret}:1`,
      '#2  0x000055555555 in Demo::Listener::setup (this=0x7ffe) at /etc/passwd:1',
      '#3  0x000055555555 in Demo::Listener::setup (this=0x7ffe) at ../../../../../../etc/passwd:1',
      '#4  0x000055555555 in Demo::Listener::setup (this=0x7ffe) at source/leak.cc:1',
    ]) {
      const frame = findFrameInLine(line)?.frame;
      assert.ok(frame?.source, line);
      const r = await resolver.resolve(frame);
      assert.equal(r.location, undefined, `${line} -> ${r.location?.file}`);
    }
    const good = findFrameInLine(
      '#1  0x000055555555 in Envoy::Network::TcpListenerImpl::setupServerSocket (this=0x1) at source/common/network/tcp_listener_impl.cc:3',
    );
    const r = await resolver.resolve(good!.frame);
    assert.equal(r.location?.file, path.join(checkout, 'source/common/network/tcp_listener_impl.cc'));
  });

  it('fuzz: 10,000 mutated frame lines and stacks: no exception, links only under the roots', async () => {
    const resolver = new Resolver(await SourceIndex.build([checkout]));
    const seeds = [
      '        Envoy::Network::TcpListenerImpl::setupServerSocket(Envoy::Event::DispatcherImpl&, Envoy::Network::Socket&)+120',
      '#1  0x000055555555 in Demo::Listener::setup (this=0x7ffe, fd=3) at source/common/network/tcp_listener_impl.cc:8',
      '        _ZN5Envoy7Network15TcpListenerImpl17setupServerSocketERNS_5Event14DispatcherImplERNS0_6SocketE+120 (/usr/local/bin/envoy)',
      '        0x7f00deadbeef',
      '        std::__1::__function::__func<Envoy::Server::$_3, std::__1::allocator<Envoy::Server::$_3>, void ()>::operator()()+44',
      'Envoy::Network::TcpListenerImpl::setupServerSocket(int)::$_0::operator()() const+12\n        main+44\n',
    ];
    const inputs: string[] = [];
    fuzz(seeds, { seed: 99, count: 10_000, budgetMs: 30_000 }, (input) => {
      const text = input.toString('utf8');
      for (const stack of extractStacks(text)) assert.ok(Array.isArray(stack.frames ?? stack));
      const frame = parseFrameLine(text);
      if (frame && inputs.length < 300) inputs.push(text);
    });
    // Resolving reads files; a bounded sample of the parsed frames goes the whole way.
    for (const text of inputs) {
      const r = await resolver.resolveText(text);
      if (r.location) assert.ok(r.location.file.startsWith(`${checkout}${path.sep}`), r.location.file);
    }
  });
});

describe('a debug binary whose path starts with -', () => {
  let bins: MiniEnvoyBinaries;
  before(async () => {
    bins = await buildMiniEnvoy();
  });

  it('is read by nm and addr2line as a file (`--`), not an option', async (t) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ft-dash-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    copyFileSync(bins.gcc, path.join(dir, '--plugin=mini-envoy'));
    const cwd = process.cwd();
    process.chdir(dir);
    t.after(() => process.chdir(cwd));
    const dwarf = new DwarfResolver('--plugin=mini-envoy', [checkout]);
    const symbol =
      'Envoy::Network::TcpListenerImpl::setupServerSocket(Envoy::Event::DispatcherImpl&, Envoy::Network::Socket&)';
    const frames: Frame[] = [{ raw: `${symbol}+20`, symbol, offset: 20, mangled: false }];
    const [r] = await dwarf.resolveStack(frames, true);
    assert.equal(r?.resolvedBy, 'dwarf');
    assert.equal(r?.location?.file, path.join(checkout, 'source/common/network/tcp_listener_impl.cc'));
  });
});
