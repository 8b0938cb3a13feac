// `fieldtrace frames` as a child process: the seed's bpftrace output against the Envoy-shaped
// fixture tree (text and JSON), -f json input on stdin, usage errors, DWARF with --binary, here
// and on an SSH node (real sshd on 127.0.0.1).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type CliRun, runFieldtrace } from '../helpers/cli';
import { type SshdHarness, sshdAvailable, startSshd } from '../helpers/sshd';

const ROOT = path.resolve(__dirname, '..', '..');
const TREE = path.join(ROOT, 'test/fixtures/envoy-tree');
const SEED_DIR = path.resolve(ROOT, '..', 'shared', 'seed');
const SEED = path.join(SEED_DIR, readdirSync(SEED_DIR).find((f) => /^000_.*\.txt$/.test(f)) ?? 'missing');

type Run = CliRun;

function frames(args: string[], input?: string, bundled = false): Promise<Run> {
  return runFieldtrace(['frames', ...args], { input, bundled });
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'ft-frames-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('fieldtrace frames', () => {
  it('resolves the seed output: text form, one line per frame', async () => {
    const r = await frames(['--source', TREE, SEED]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length > 200);
    assert.ok(
      lines.includes(
        'Envoy::Network::TcpListenerImpl::setupServerSocket(Envoy::Event::DispatcherImpl&, Envoy::Network::Socket&)+62 -> source/common/network/tcp_listener_impl.cc:11',
      ),
    );
    assert.ok(
      lines.includes(
        'listen+11 -> unresolved (listen: no definition in the indexed sources (library or system code))',
      ),
    );
    assert.ok(
      lines.every((l) => / -> (\S+:\d+|unresolved \(.+\))$/.test(l)),
      'every line is FRAME -> WHERE',
    );
    assert.match(r.stderr, /frame\(s\), \d+ resolved, \d+ unresolved/);
  });

  it('reads bpftrace -f json from stdin and answers JSON in input order', async () => {
    const json = [
      JSON.stringify({ type: 'attached_probes', data: { probes: 1 } }),
      JSON.stringify({
        type: 'printf',
        data: 'stack: \n        dup+11\n        Envoy::Network::IoSocketHandleImpl::duplicate()+71\n        Envoy::Network::ListenSocketImpl::duplicate()+54\n\n',
      }),
      JSON.stringify({
        type: 'map',
        data: {
          '@': {
            '\n        0x7f1c2a3b4c5d\n        Envoy::Http::Http1::ConnectionImpl::dispatch(Envoy::Buffer::Instance&)+12\n': 3,
          },
        },
      }),
    ].join('\n');
    const r = await frames(['--source', TREE, '--format', 'json'], json);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Array<{
      frame: string;
      file: string | null;
      line: number | null;
      resolvedBy: string | null;
      reason: string | null;
    }>;
    assert.deepEqual(
      out.map((o) => [o.frame, o.file, o.resolvedBy]),
      [
        ['dup+11', null, null],
        [
          'Envoy::Network::IoSocketHandleImpl::duplicate()+71',
          'source/common/network/io_socket_handle_impl.cc',
          'index',
        ],
        [
          'Envoy::Network::ListenSocketImpl::duplicate()+54',
          'source/common/network/listen_socket_impl.h',
          'index',
        ],
        ['0x7f1c2a3b4c5d', null, null],
        [
          'Envoy::Http::Http1::ConnectionImpl::dispatch(Envoy::Buffer::Instance&)+12',
          'source/common/http/http1/codec_impl.cc',
          'index',
        ],
      ],
    );
    assert.match(out[3].reason ?? '', /raw address 0x7f1c2a3b4c5d/);
  });

  it('demangles mangled frames with the system demangler', async () => {
    const r = await frames(['--source', TREE], '  _ZN5Envoy7Network18IoSocketHandleImpl6listenEi+69\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.trim(),
      '_ZN5Envoy7Network18IoSocketHandleImpl6listenEi+69 -> source/common/network/io_socket_handle_impl.cc:20',
    );
  });

  it('exits 2 with a one-line reason on bad usage', async () => {
    for (const [args, msg] of [
      [[SEED], /--source DIR is required/],
      [['--source', path.join(tmp, 'nope'), SEED], /not a directory/],
      [['--source', TREE, '--format', 'xml', SEED], /--format must be text or json/],
      [['--source', TREE, '--binary', path.join(tmp, 'nope')], /no such file/],
      [['--source', TREE, '--node', 'somewhere'], /--node names where --binary is/],
      [['--source', TREE, '--bogus'], /unknown option '--bogus' \(see fieldtrace frames --help\)/],
    ] as Array<[string[], RegExp]>) {
      const r = await frames(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, msg);
      assert.equal(r.stderr.trim().split('\n').length, 1);
    }
  });

  it('gives exact lines from DWARF with --binary', async () => {
    const demo = buildDemo();
    const r = await frames(['--source', demo.src, '--binary', demo.bin, '--format', 'json'], demo.stack);
    assert.equal(r.code, 0, r.stderr);
    assertDemoLines(r.stdout);
  });

  describe('with the binary on an SSH node', { skip: !sshdAvailable() }, () => {
    let sshd: SshdHarness;
    before(async () => {
      sshd = await startSshd();
    });
    after(async () => sshd?.stop());
    const onNode = (args: string[], input: string) =>
      runFieldtrace(['frames', ...args], {
        input,
        env: { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: '' },
      });

    it('nm and addr2line run on the node: the same exact lines; a missing binary is a clear error', async () => {
      const demo = buildDemo();
      const r = await onNode(
        ['--source', demo.src, '--binary', demo.bin, '--node', sshd.alias, '--format', 'json'],
        demo.stack,
      );
      assert.equal(r.code, 0, r.stderr);
      assertDemoLines(r.stdout);
      // Named as it is on the node, so not checked here: the node's nm says what is wrong.
      const missing = await onNode(
        ['--source', demo.src, '--binary', '/nonexistent/envoy', '--node', sshd.alias],
        demo.stack,
      );
      assert.equal(missing.code, 1, missing.stderr);
      assert.match(missing.stderr, /nm on \S+ failed \(exit 1\): .*\/nonexistent\/envoy.*No such file/);
      const usage = await onNode(['--source', demo.src, '--node', sshd.alias], demo.stack);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /--node names where --binary is/);
    });

    it('an unknown host key is refused with its fingerprint', async () => {
      const demo = buildDemo();
      sshd.clearKnownHosts();
      const r = await onNode(['--source', demo.src, '--binary', demo.bin, '--node', sshd.alias], demo.stack);
      assert.equal(r.code, 1);
      assert.ok(r.stderr.includes(sshd.hostKeyFingerprint), r.stderr);
      assert.match(r.stderr, /not in known_hosts/);
    });
  });

  it('runs from the bundle (tree-sitter wasm found next to dist/cli.js)', async (t) => {
    if (!existsSync(path.join(ROOT, 'dist/cli.js'))) {
      if (process.env.CI === 'true')
        assert.fail('dist/cli.js missing: npm run build runs before the tests in CI');
      return t.skip('dist/cli.js not built');
    }
    const r = await frames(['--source', TREE, SEED], undefined, true);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /Http2Callbacks\(\)::\$_22::__invoke\(nghttp2_session\*, nghttp2_frame const\*, void\*\)\+32 -> source\/common\/http\/http2\/codec_impl\.cc:114/,
    );
  });
});

let demo: { src: string; bin: string; stack: string } | undefined;

/** A small -g binary whose Demo::Listener::setup calls listen() on line 8, called on line 12. */
function buildDemo(): { src: string; bin: string; stack: string } {
  if (demo) return demo;
  const src = path.join(tmp, 'src');
  execFileSync('mkdir', ['-p', path.join(src, 'net')]);
  const file = path.join(src, 'net', 'listener.cc');
  writeFileSync(
    file,
    [
      '#include <sys/socket.h>',
      'namespace Demo {',
      'struct Listener {',
      '  int setup(int fd);',
      '};',
      '__attribute__((noinline)) int Listener::setup(int fd) {',
      '  int backlog = fd > 100 ? 16 : 128;',
      '  int rc = ::listen(fd, backlog);',
      '  return rc;',
      '}',
      '} // namespace Demo',
      'int main() { Demo::Listener l; return l.setup(-1) == -1 ? 0 : 1; }',
      '',
    ].join('\n'),
  );
  const bin = path.join(tmp, 'demo');
  execFileSync('g++', ['-g', '-O0', '-fno-omit-frame-pointer', '-o', bin, file]);
  const offset = returnOffset(bin, 'Demo::Listener::setup(int)', 'listen');
  demo = { src, bin, stack: `    listen+11\n    Demo::Listener::setup(int)+${offset}\n    main+20\n` };
  return demo;
}

function assertDemoLines(stdout: string): void {
  const out = JSON.parse(stdout) as Array<{
    frame: string;
    file: string | null;
    line: number | null;
    resolvedBy: string | null;
  }>;
  assert.deepEqual([out[1].file, out[1].line, out[1].resolvedBy], ['net/listener.cc', 8, 'dwarf']);
  assert.deepEqual([out[2].file, out[2].line, out[2].resolvedBy], ['net/listener.cc', 12, 'dwarf']);
}

/** Offset (from the function's start) of the instruction after the call to `callee`: what a stack shows. */
export function returnOffset(binary: string, fn: string, callee: string): number {
  const dis = execFileSync('objdump', ['-d', '-C', '--no-show-raw-insn', binary], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const start = dis.indexOf(`<${fn}>:\n`);
  assert.ok(start >= 0, `${fn} not in the disassembly`);
  const body = dis.slice(start, dis.indexOf('\n\n', start));
  const base = parseInt(/^([0-9a-f]+) </.exec(dis.slice(dis.lastIndexOf('\n', start) + 1))![1], 16);
  const lines = body.split('\n');
  const i = lines.findIndex((l) => /\bcall/.test(l) && l.includes(`<${callee}`));
  assert.ok(i > 0, `no call to ${callee} in ${fn}`);
  const next = /^\s*([0-9a-f]+):/.exec(lines[i + 1])!;
  return parseInt(next[1], 16) - base;
}
