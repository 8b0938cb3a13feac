// Frame forms, symbol structure, scanner idioms, ranking and the persisted index.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { mapBuildPath } from '../../../core/stacks/dwarf';
import { extractFrames, findFrameInLine, parseFrameLine } from '../../../core/stacks/frames';
import { Resolver } from '../../../core/stacks/resolver';
import { scanDefinitions } from '../../../core/stacks/scanner';
import { SourceIndex } from '../../../core/stacks/sourceIndex';
import { parseSymbol } from '../../../core/stacks/symbol';

const TREE = path.resolve(__dirname, '../../fixtures/envoy-tree');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'ft-stacks-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('every frame form bpftrace prints', () => {
  assert.deepEqual(parseFrameLine('        bind+11'), {
    raw: 'bind+11',
    symbol: 'bind',
    offset: 11,
    address: undefined,
    module: undefined,
    mangled: false,
  });
  const perf = parseFrameLine('\t7f3a5c0e1234 __GI___listen+7 (/usr/lib/x86_64-linux-gnu/libc.so.6)')!;
  assert.deepEqual(
    [perf.address, perf.symbol, perf.offset, perf.module],
    [0x7f3a5c0e1234n, '__GI___listen', 7, '/usr/lib/x86_64-linux-gnu/libc.so.6'],
  );
  const mod = parseFrameLine(
    '    Envoy::Network::IoSocketHandleImpl::listen(int)+69 (/usr/local/bin/envoy)',
  )!;
  assert.deepEqual(
    [mod.symbol, mod.module],
    ['Envoy::Network::IoSocketHandleImpl::listen(int)', '/usr/local/bin/envoy'],
  );
  const raw = parseFrameLine('        0x7ffd1234abcd')!;
  assert.deepEqual([raw.symbol, raw.address], ['', 0x7ffd1234abcdn]);
  const unknown = parseFrameLine('        7f3a5c0e1234 [unknown] ([unknown])')!;
  assert.deepEqual([unknown.symbol, unknown.address, unknown.module], ['', 0x7f3a5c0e1234n, '[unknown]']);
  assert.equal(parseFrameLine('  _ZN5Envoy7Network18IoSocketHandleImpl6listenEi+69')!.mangled, true);
  assert.equal(parseFrameLine('    tcp_v4_connect+0x1a6')!.offset, 0x1a6);
  const anon = parseFrameLine('(anonymous namespace)::worker(void*)+3')!;
  assert.equal(anon.module, undefined);
  // Prose and ordinary log lines are not frames.
  for (const line of [
    'see page 12+3 for details',
    'comm:envoy : bind AF_INET: ip:127.0.0.1',
    'x = a+1',
    '########## listen() ##########',
  ]) {
    assert.equal(findFrameInLine(line), undefined, line);
  }
  assert.equal(findFrameInLine('stack: bind+11')?.frame.symbol, 'bind');
  // bpftrace -f json with printf("%s", ustack) puts raw newlines inside the JSON string: the
  // line is not JSON any more, and the frames must still be found line by line.
  const broken =
    '{"type": "printf", "data": "stack: \n        dup+11\n        Envoy::Network::IoSocketHandleImpl::duplicate()+71\n"}';
  assert.deepEqual(
    extractFrames(broken).map((f) => f.frame.symbol),
    ['dup', 'Envoy::Network::IoSocketHandleImpl::duplicate()'],
  );
  const fromJson = extractFrames(JSON.stringify({ type: 'printf', data: 'x\n  dup+11\n  foo::bar()+2\n' }));
  assert.deepEqual(
    fromJson.map((f) => [f.frame.symbol, f.calleeIndex]),
    [
      ['dup', undefined],
      ['foo::bar()', 0],
    ],
  );
});

test('symbol structure: lambdas, thunks, templates, ctor/dtor, operators, wrappers', () => {
  const gccLambda = parseSymbol(
    'Envoy::Thread::ThreadImplPosix::ThreadImplPosix(std::function<void ()>, absl::optional<Envoy::Thread::Options> const&)::{lambda(void*)#1}::_FUN(void*)',
  );
  assert.equal(gccLambda.kind, 'lambda');
  assert.deepEqual(
    [
      gccLambda.lambda!.enclosing.kind,
      gccLambda.lambda!.enclosing.name,
      gccLambda.lambda!.ordinal,
      gccLambda.lambda!.params,
    ],
    ['constructor', 'ThreadImplPosix', 1, ['void*']],
  );
  const llvm = parseSymbol(
    "Envoy::Event::FileEventImpl::assignEvents(unsigned int, event_base*)::'lambda'(int, short, void*)::__invoke(int, short, void*)",
  );
  assert.equal(llvm.lambda?.enclosing.name, 'assignEvents');
  const dtor = parseSymbol('Envoy::Network::ConnectionImpl::~ConnectionImpl()');
  assert.deepEqual([dtor.kind, dtor.name], ['destructor', '~ConnectionImpl']);
  const op = parseSymbol('Envoy::Stats::Foo::operator()(int) const');
  assert.deepEqual([op.kind, op.name, op.params], ['operator', 'operator()', ['int']]);
  const shift = parseSymbol('Envoy::operator<<(std::ostream&, Envoy::Foo const&)');
  assert.deepEqual([shift.name, shift.params?.length], ['operator<<', 2]);
  const tmpl = parseSymbol('void Envoy::Config::apply<Envoy::Foo>(Envoy::Foo&) [clone .cold]');
  assert.deepEqual([tmpl.scope, tmpl.name], [['Envoy', 'Config'], 'apply']);
  const thunk = parseSymbol(
    'non-virtual thunk to Envoy::Http::CodecClient::onEvent(Envoy::Network::ConnectionEvent)',
  );
  assert.deepEqual([thunk.thunk, thunk.name], ['non-virtual thunk to', 'onEvent']);
  const anon = parseSymbol('Envoy::Server::(anonymous namespace)::toString(Envoy::Network::Socket::Type)');
  assert.deepEqual(anon.scope, ['Envoy', 'Server']);
  const gccFn = parseSymbol(
    'std::_Function_handler<void (), Envoy::Server::WorkerImpl::addListener(absl::optional<unsigned long>, Envoy::Network::ListenerConfig&, std::function<void (bool)>)::{lambda()#1}>::_M_invoke(std::_Any_data const&)',
  );
  assert.equal(gccFn.kind, 'lambda');
  assert.equal(gccFn.lambda?.enclosing.name, 'addListener');
});

test('scanner idioms: namespaces, init lists, inline headers, declarations, strings and comments', () => {
  const src = [
    'namespace A { namespace B {',
    'struct S {',
    '  virtual void pure() = 0;',
    '  void decl(int x);',
    '  S() : a_{1}, b_(2) { }',
    '  int get() const { return a_; } // }',
    '  struct Inner { void f() {} };',
    '};',
    'void S::decl(int x) { const char* s = "}{"; char c = \'}\'; auto r = R"x(}})x"; int n = 1\'000; }',
    '/* void notAFunction() { */',
    '#define BODY {',
    'template <typename T, typename = std::enable_if_t<true>> T make(T v) { return v; }',
    'bool operator==(const S& a, const S& b) { return true; }',
    '} }',
    'namespace C::D { inline namespace v1 { void g() {} } }',
    'namespace { void hidden() {} }',
    'extern "C" { int c_fn(void) { return 0; } }',
    'static const int table[] = {1, 2};',
    'enum class E : int { X, Y };',
    'int after() { return 1; }',
  ].join('\n');
  const defs = scanDefinitions(src).map((d) => `${d.qname}/${d.minArgs}:${d.line}`);
  assert.deepEqual(defs, [
    'A::B::S::S/0:5',
    'A::B::S::get/0:6',
    'A::B::S::Inner::f/0:7',
    'A::B::S::decl/1:9',
    'A::B::make/1:12',
    'A::B::operator==/2:13',
    'C::D::v1::g/0:15',
    'hidden/0:16',
    'c_fn/0:17',
    'after/0:20',
  ]);
});

test('ambiguous names pick by namespace and parameters; missing names say so', async () => {
  const r = new Resolver(await SourceIndex.build([TREE]));
  const h1 = await r.resolveText('Envoy::Http::Http1::ConnectionImpl::dispatch(Envoy::Buffer::Instance&)+5');
  assert.match(h1.location!.file, /http1\/codec_impl\.cc$/);
  const h2 = await r.resolveText('Envoy::Http::Http2::ConnectionImpl::dispatch(Envoy::Buffer::Instance&)+5');
  assert.match(h2.location!.file, /http2\/codec_impl\.cc$/);
  const three = await r.resolveText(
    'Envoy::Server::ActiveTcpListener::ActiveTcpListener(Envoy::Network::TcpConnectionHandler&, std::__1::unique_ptr<Envoy::Network::Listener>&&, Envoy::Network::ListenerConfig&)+9',
  );
  assert.equal(three.location!.line, 19);
  const base = await r.resolveText('Envoy::MainCommon::run()+3');
  assert.match(base.location!.file, /main_common\.h$/);
  const gone = await r.resolveText('Envoy::Network::ConnectionImpl::onRead(unsigned long)+3');
  assert.equal(gone.location, undefined);
  assert.match(
    gone.reason!,
    /Envoy::Network::ConnectionImpl::onRead is not in this checkout: renamed or removed\?/,
  );
  const moved = await r.resolveText('Envoy::Network::Renamed::onFileEvent(unsigned int)+3');
  assert.match(moved.reason!, /Near matches by method name: Envoy::Network::ConnectionImpl::onFileEvent/);
  assert.ok(moved.candidates?.length);
});

test('the saved index is reused for unchanged files and rescanned for changed ones', async () => {
  const copy = path.join(tmp, 'tree');
  cpSync(TREE, copy, { recursive: true });
  const first = await SourceIndex.build([copy]);
  const cache = path.join(tmp, 'index.json');
  await first.save(cache);
  const file = path.join(copy, 'source/common/network/io_socket_handle_impl.cc');
  writeFileSync(
    file,
    'namespace Envoy { namespace Network {\n\nint IoSocketHandleImpl::listen(int backlog) { return 0; }\n} }\n',
  );
  utimesSync(file, new Date(), new Date(Date.now() + 5000));
  const second = await SourceIndex.build([copy], { previous: await SourceIndex.load(cache) });
  assert.equal(second.stats.scanned, 1);
  assert.equal(second.stats.reused, first.stats.files - 1);
  const listen = second
    .lookup('listen')
    .find((e) => e.def.qname === 'Envoy::Network::IoSocketHandleImpl::listen');
  assert.equal(listen?.def.line, 3);
  assert.equal(second.lookup('duplicate').filter((e) => e.file.path === file).length, 0);
});

test('build paths map onto the workspace', () => {
  const roots = ['/ws/envoy'];
  const have = new Set(['/ws/envoy/source/server/server.cc', '/src/mine/x.cc']);
  // The real path of a file that exists (no symlinks in this made-up tree).
  const exists = (p: string) => (have.has(p) ? p : undefined);
  assert.equal(
    mapBuildPath('/proc/self/cwd/source/server/server.cc', roots, [], exists),
    '/ws/envoy/source/server/server.cc',
  );
  assert.equal(
    mapBuildPath('external/envoy/source/server/server.cc', roots, [], exists),
    '/ws/envoy/source/server/server.cc',
  );
  assert.equal(
    mapBuildPath('/build/abc/execroot/__main__/source/server/server.cc', roots, [], exists),
    '/ws/envoy/source/server/server.cc',
  );
  assert.equal(mapBuildPath('/b/x.cc', roots, [{ from: '/b/', to: '/src/mine/' }], exists), '/src/mine/x.cc');
  assert.equal(mapBuildPath('/nowhere/y.cc', roots, [], exists), undefined);
});

test('overloads tied on names are told apart by the parsed parameter types', async () => {
  const r = new Resolver(await SourceIndex.build([TREE]));
  const file = 'source/common/buffer/watermark_buffer.cc';
  const text = readFileSync(path.join(TREE, file), 'utf8').split('\n');
  const lineOf = (needle: string) => text.findIndex((l) => l.includes(needle)) + 1;
  for (const [frame, needle] of [
    ['Envoy::Buffer::WatermarkBuffer::move(Envoy::Buffer::Instance*)+9', 'move(Instance* rhs'],
    ['Envoy::Buffer::WatermarkBuffer::move(Envoy::Buffer::Instance&)+9', 'move(Instance& rhs)'],
    ['Envoy::Buffer::WatermarkBuffer::move(Envoy::Buffer::Instance const&)+9', 'move(const Instance& rhs)'],
  ]) {
    const res = await r.resolveText(frame);
    assert.equal(res.location?.line, lineOf(needle), `${frame}: ${res.reason}`);
    assert.match(res.reason ?? '', /parameter types \(parsed\)/);
  }
});

test(
  'a run of macro calls without semicolons neither hangs the scanner nor hides the next definition',
  { timeout: 10_000 },
  () => {
    const macros = Array.from({ length: 200 }, (_, i) => `DEFINE_SIZE_OF_TYPE(type_${i})`).join('\n');
    const src = `namespace Kafka {\n${macros}\n/** doc */\ntemplate <> inline uint32_t EncodingContext::computeSize(const std::string& arg) const {\n  return 2;\n}\n}\n`;
    const defs = scanDefinitions(src);
    assert.deepEqual(
      defs.map((d) => [d.qname, d.line]),
      [['Kafka::EncodingContext::computeSize', 203]],
    );
  },
);

test('frames of Envoy crash backtraces and gdb in pasted logs', async () => {
  const log = [
    '[2021-09-01 10:00:00.000][1][critical][backtrace] [./source/server/backtrace.h:104] Caught Segmentation fault, suspect faulting address 0x0',
    '[2021-09-01 10:00:00.000][1][critical][backtrace] [./source/server/backtrace.h:104] #0: Envoy::Network::ConnectionImpl::onReadReady() [0x55d5b57c1a35]',
    '[2021-09-01 10:00:00.000][1][critical][backtrace] [./source/server/backtrace.h:104] #1: Envoy::Network::ConnectionImpl::onFileEvent() [0x55d5b57c1b00]',
    '',
    '#0  0x00007ffff7e9a0d7 in __GI___listen () at ../sysdeps/unix/syscall-template.S:120',
    '#1  0x0000555555556b2e in Envoy::Network::IoSocketHandleImpl::listen (this=0x5555555a, backlog=128) at /proc/self/cwd/source/common/network/io_socket_handle_impl.cc:21',
    '#2  0x0000555555557000 in Envoy::Http::Http1::ConnectionImpl::dispatch (this=0x55555, data=...)',
    '#3  0x00007ffff7dd0d90 in __libc_start_call_main (main=main@entry=0x5555, argc=1) from /lib/x86_64-linux-gnu/libc.so.6',
  ].join('\n');
  const frames = extractFrames(log).map((f) => f.frame);
  assert.deepEqual(
    frames.map((f) => f.symbol),
    [
      'Envoy::Network::ConnectionImpl::onReadReady()',
      'Envoy::Network::ConnectionImpl::onFileEvent()',
      '__GI___listen',
      'Envoy::Network::IoSocketHandleImpl::listen',
      'Envoy::Http::Http1::ConnectionImpl::dispatch',
      '__libc_start_call_main',
    ],
  );
  const r = new Resolver(await SourceIndex.build([TREE]));
  const [readReady, fileEvent, libc, listen, dispatch, start] = await r.resolveStack(frames);
  assert.match(readReady.location!.file, /network\/connection_impl\.cc$/);
  assert.equal(fileEvent.resolvedBy, 'index');
  assert.equal(libc.location, undefined);
  // gdb's own line, mapped from bazel's /proc/self/cwd onto the tree.
  assert.deepEqual([listen.resolvedBy, listen.location?.line], ['dwarf', 21]);
  assert.equal(listen.location?.file, path.join(TREE, 'source/common/network/io_socket_handle_impl.cc'));
  assert.match(dispatch.location!.file, /http1\/codec_impl\.cc$/);
  assert.match(start.reason!, /libc\.so\.6/);
});
