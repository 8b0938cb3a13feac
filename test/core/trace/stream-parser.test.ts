import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { BindEvent, TraceEvent } from '../../../common/events';
import { LineSplitter } from '../../../core/trace/line-splitter';
import { listenerTraceEnvironment, listenerTraceScript } from '../../../core/trace/listener-script';
import { parseListenerLine } from '../../../core/trace/listener-decoder';
import { renderText } from '../../../core/trace/render-text';
import { knownWarning } from '../../../core/trace/bpftrace-warnings';
import { TraceStreamParser } from '../../../core/trace/stream-parser';

// Lines as bpftrace 0.17 -f json printed them on this machine.
const REAL_STDOUT = [
  '{"type": "attached_probes", "data": {"probes": 1}}',
  '{"type": "value", "data": 5}',
  '{"type": "time", "data": "15:54:49\\n"}',
  '',
  '',
  '{"type": "map", "data": {"@a": {"1": 2}}}',
  '{"type": "map", "data": {"@b": 1}}',
  '{"type": "map", "data": {"@c": {"bpftrace,1": 1}}}',
  '{"type": "hist", "data": {"@h": [{"min": 4, "max": 7, "count": 1}]}}',
  '{"type": "stats", "data": {"@s": {"count": 1, "average": 3, "total": 3}}}',
  '{"type": "lost_events", "data": {"events": 17}}',
].join('\n');

const HEX_ENVOY =
  '\\\\x65\\\\x6e\\\\x76\\\\x6f\\\\x79\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00';
const BIND_LINE =
  '{"type": "printf", "data": "FT1 bind 1215893124684 13230 13230 11 2 15000 0 0 127.0.0.1 ' +
  HEX_ENVOY +
  '\\n        __bind+7\\n        Envoy::Network::IoSocketHandleImpl::bind(std::__1::shared_ptr<Envoy::Network::Address::Instance const>)+105\\n        main+44\\n\\n"}';

function parseAll(stdout: string, chunk = 7): TraceEvent[] {
  const parser = new TraceStreamParser({ nodeId: 'n1' });
  const events: TraceEvent[] = [];
  const bytes = Buffer.from(stdout);
  for (let i = 0; i < bytes.length; i += chunk)
    events.push(...parser.pushStdout(bytes.subarray(i, i + chunk)));
  events.push(...parser.end());
  return events;
}

describe('LineSplitter', () => {
  it('joins lines split across chunks, also inside a UTF-8 character', () => {
    const splitter = new LineSplitter();
    const bytes = Buffer.from('a€b\nsecond line\r\nthird');
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++)
      lines.push(...splitter.push(bytes.subarray(i, i + 1)).map((l) => l.text));
    lines.push(...splitter.end().map((l) => l.text));
    assert.deepEqual(lines, ['a€b', 'second line', 'third']);
  });

  it('cuts an over-long line, says so, and goes on with the next', () => {
    const splitter = new LineSplitter(10);
    const out = [
      ...splitter.push('0123456789ABCDEF'),
      ...splitter.push('GHIJ\nok\n'),
      ...splitter.push('x'.repeat(25) + '\n'),
    ];
    assert.deepEqual(out, [
      { text: '0123456789', truncated: { originalLength: 20 } },
      { text: 'ok' },
      { text: 'xxxxxxxxxx', truncated: { originalLength: 25 } },
    ]);
  });
});

describe('TraceStreamParser', () => {
  it('reads every bpftrace record type, whatever the chunking', () => {
    for (const chunk of [1, 3, 64, 100_000]) {
      const events = parseAll(REAL_STDOUT, chunk);
      assert.deepEqual(events, [
        { type: 'attached', probes: 1 },
        { type: 'output', text: '5\n' },
        { type: 'output', text: '15:54:49\n' },
        { type: 'map', name: '@a', value: { '1': 2 } },
        { type: 'map', name: '@b', value: 1 },
        { type: 'map', name: '@c', value: { 'bpftrace,1': 1 } },
        { type: 'map', name: '@h', value: [{ min: 4, max: 7, count: 1 }] },
        { type: 'map', name: '@s', value: { count: 1, average: 3, total: 3 } },
        { type: 'lost', count: 17 },
      ]);
    }
  });

  it('turns a listener line into a typed event with its stack', () => {
    const [event] = parseAll(BIND_LINE, 5);
    assert.deepEqual(event, {
      type: 'bind',
      timeNs: 1215893124684,
      pid: 13230,
      tid: 13230,
      comm: 'envoy',
      node: 'n1',
      stack: [
        '__bind+7',
        'Envoy::Network::IoSocketHandleImpl::bind(std::__1::shared_ptr<Envoy::Network::Address::Instance const>)+105',
        'main+44',
      ],
      fd: 11,
      address: { family: 'inet', address: '127.0.0.1', port: 15000 },
      result: 0,
    });
    const text = renderText(event);
    assert.match(text, /^envoy\[13230\/13230\] bind\(fd 11, 127\.0\.0\.1:15000\) = 0\n {8}__bind\+7\n/);
  });

  it('reads listener lines from the raw JSON exactly as through JSON.parse', () => {
    // bpftrace's printf records, with each escape form of %rx and every event kind; the
    // reference is the JSON way: JSON.parse, then the listener line reader.
    const hex = (s: string, form: 'escaped' | 'plain') =>
      [...Buffer.from(s.padEnd(16, '\0'))]
        .map((b) => (form === 'escaped' ? '\\x' : '') + b.toString(16).padStart(2, '0'))
        .join('');
    const heads: string[] = [];
    for (const form of ['escaped', 'plain'] as const) {
      const comm = hex('wrk:worker_1', form);
      heads.push(
        `FT1 socket 10 7 8 11 2 1 6 0 - ${comm}`,
        `FT1 bind 11 7 7 11 2 15001 0 0 0.0.0.0 ${comm}`,
        `FT1 bind 12 7 7 12 1 0 0 0 ${hex('/tmp/admin.sock', form)} ${comm}`,
        `FT1 listen 13 7 9 11 128 0 0 0 - ${comm}`,
        `FT1 setsockopt 14 7 9 11 1 2 1 4 - ${comm}`,
        `FT1 dup 15 7 9 11 16 1 0 0 - ${comm}`,
        `FT1 accept 16 7 9 16 30 10 40000 0 ::1 ${comm}`,
        `FT1 close 17 7 9 30 0 0 0 0 - ${comm}`,
        `FT1 exec 18 7 7 0 0 0 0 0 ${hex('/usr/local/bin/envoy', form)} ${comm}`,
        `FT1 spawn 19 7 7 9 1 0 0 0 - ${comm}`,
        `FT1 thread-name 20 7 9 9 0 0 0 0 ${hex('wrk:worker_0', form)} ${comm}`,
        `FT1 exit 21 7 7 1 0 0 0 0 - ${comm}`,
        // Refused by the head reader: they take the JSON way and must come out the same.
        `FT1 bogus 22 7 7 1 0 0 0 0 - ${comm}`,
        `FT1 close 23 7 x 30 0 0 0 0 - ${comm}`,
        `FT1 attached 24 0 0 0 0 0 0 0 - 00`,
        `FT1 close 25 7 9 30 0 0 0 0 - ${comm} "quoted"`,
      );
    }
    const stacks = [
      '',
      '\n        __GI___listen+7\n        Envoy::Network::IoSocketHandleImpl::listen(int)+47\n        0x7f00deadbeef\n\n',
      // Escapes other than \n in a frame send the line the JSON way.
      '\n        operator""_kb(unsigned long long)+3\n        a\\b::c()+1\n\n',
      '\n  odd  indent+1\n\n\n',
      '\n\n',
    ];
    for (const head of heads.flatMap((h) => stacks.map((st) => h + st))) {
      const data = head.includes('\n') ? head : `${head}\n`;
      const line = `{"type": "printf", "data": ${JSON.stringify(data)}}`;
      const viaParser = new TraceStreamParser({ nodeId: 'n1' }).pushStdout(`${line}\n`);
      const viaJson = parseListenerLine((JSON.parse(line) as { data: string }).data, 'n1');
      if (head.includes(' attached ')) assert.deepEqual(viaParser, [], head);
      else if (typeof viaJson === 'string') {
        assert.equal(viaParser.length, 1, head);
        assert.equal(viaParser[0]?.type, 'malformed', head);
      } else assert.deepEqual(viaParser, [viaJson], head);
    }
  });

  it('keeps garbage, broken and unexpected lines as malformed events, never throws', () => {
    const events = parseAll(
      [
        'garbage {',
        '[1,2]',
        '{"type": "printf", "data": "FT1 bind 1 2 3 x 2 0 0 0 - 00"}',
        '{"type": "printf", "data": "FT1 bind 1 2 3 4 2 0 0 0 - zz"}',
        '{"type": "printf", "data": "FT1 warp 1 2 3 4 2 0 0 0 - 00"}',
        '{"type": "printf", "data": "FT1 dup 1 2 3 4 5 9 0 0 - 00"}',
        '{"type": "attached_probes", "data": "many"}',
        '{"type": "printf", "data": "hello\\n"}',
        '{"no": "type"}',
        'trailing line without newline',
      ].join('\n'),
    );
    assert.deepEqual(
      // (JSON.parse's own wording differs between Node versions: only its prefix is ours.)
      events.map((e) =>
        e.type === 'malformed' ? `malformed: ${e.reason.replace(/^(not JSON):.*/, '$1')}` : e.type,
      ),
      [
        'malformed: not JSON',
        'malformed: not a JSON object',
        'malformed: listener line field 6 is not a number: x',
        'malformed: listener line thread name is not hex',
        "malformed: unknown listener event kind 'warp'",
        'malformed: listener dup with unknown variant 9',
        'malformed: unexpected attached_probes record',
        'output',
        'malformed: unexpected undefined record',
        'malformed: not JSON',
      ],
    );
  });

  it('reports an over-long line as malformed and reads the next one', () => {
    const parser = new TraceStreamParser({ maxLineLength: 100 });
    const events = [
      ...parser.pushStdout(`{"type": "printf", "data": "${'y'.repeat(500)}"}\n`),
      ...parser.pushStdout('{"type": "lost_events", "data": {"events": 1}}\n'),
    ];
    assert.equal(events[0].type, 'malformed');
    assert.match((events[0] as { reason: string }).reason, /line of 530 characters cut to its first 100/);
    assert.deepEqual(events[1], { type: 'lost', count: 1 });
  });

  it('a thread name cannot forge fields: it travels as hex, cut at its NUL', () => {
    // "a b\n1 2" then stale bytes after the NUL, as the kernel leaves them.
    const comm = Buffer.from('a b\n1 2\0zzzzzzzz');
    const hex = [...comm].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('');
    const event = parseListenerLine(`FT1 listen 5 6 7 8 128 0 0 0 - ${hex}\n`);
    assert.equal(typeof event, 'object');
    assert.equal((event as { comm: string }).comm, 'a b\n1 2');
  });

  it('reads bpftrace diagnostics: positions, stdin, glued lines, and harmless noise as warnings', () => {
    const parser = new TraceStreamParser();
    const stderr = [
      'Error while reading traceable functions from /sys/kernel/tracing/available_filter_functions: Operation not permittedERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem',
      'bad.bt:1:24-28: ERROR: The args builtin can only be used with tracepoint/kfunc/uprobeprobes (special used here)',
      'BEGIN { printf("%d\\n", args->x); }',
      '                       ~~~~',
      'stdin:1:16-18: ERROR: syntax error, unexpected ;',
      'BEGIN { @x = 1 +; }',
      '               ~~',
      'ls.bt:30:94-96: WARNING: Addrspace mismatch',
      'tracepoint:syscalls:sys_enter_socket /x/ {',
      '          ~~',
      'ERROR: Could not resolve symbol: /proc/self/exe:BEGIN_trigger',
    ].join('\n');
    const events = [
      ...parser.pushStderr(stderr.slice(0, 50)),
      ...parser.pushStderr(stderr.slice(50)),
      ...parser.end(),
    ];
    assert.deepEqual(events, [
      {
        type: 'diagnostic',
        severity: 'warning',
        message:
          'Error while reading traceable functions from /sys/kernel/tracing/available_filter_functions: Operation not permitted',
        known: 'traceable-functions',
        explanation: knownWarning('available_filter_functions')?.explanation,
      },
      {
        type: 'diagnostic',
        severity: 'warning',
        message:
          'Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem',
        known: 'rlimit-memlock',
        explanation: knownWarning("couldn't set RLIMIT_MEMLOCK")?.explanation,
      },
      {
        type: 'diagnostic',
        severity: 'error',
        message: 'The args builtin can only be used with tracepoint/kfunc/uprobeprobes (special used here)',
        file: 'bad.bt',
        line: 1,
        column: 24,
        endColumn: 28,
      },
      {
        type: 'diagnostic',
        severity: 'error',
        message: 'syntax error, unexpected ;',
        file: 'stdin',
        line: 1,
        column: 16,
        endColumn: 18,
      },
      {
        type: 'diagnostic',
        severity: 'warning',
        message: 'Addrspace mismatch',
        file: 'ls.bt',
        line: 30,
        column: 94,
        endColumn: 96,
      },
      {
        type: 'diagnostic',
        severity: 'error',
        message: 'Could not resolve symbol: /proc/self/exe:BEGIN_trigger',
      },
    ]);
    assert.equal(
      renderText(events[2]),
      'bad.bt:1:24-28: ERROR: The args builtin can only be used with tracepoint/kfunc/uprobeprobes (special used here)\n',
    );
  });

  it('a message right after a positioned one is not taken for its source line', () => {
    const parser = new TraceStreamParser();
    const events = parser.pushStderr('a.bt:3:1-4: ERROR: first\nERROR: second\nWARNING: third\n');
    assert.deepEqual(
      events.map((e) => (e.type === 'diagnostic' ? `${e.severity} ${e.message}` : e.type)),
      ['error first', 'error second', 'warning third'],
    );
  });

  it('an abort of bpftrace is one error that says why, however the lines arrive', () => {
    // What bpftrace 0.17 printed in CI when a traced shell exited before its stack was resolved.
    const stderr =
      "terminate called after throwing an instance of 'std::filesystem::__cxx11::filesystem_error'\n" +
      '  what():  filesystem error: read_symlink: No such file or directory [/proc/14707/exe]\n';
    for (const cut of [0, 30, 90, stderr.length - 5]) {
      const parser = new TraceStreamParser();
      const events = [
        ...parser.pushStderr(stderr.slice(0, cut)),
        ...parser.pushStderr(stderr.slice(cut)),
        ...parser.end(),
      ];
      assert.equal(events.length, 1, JSON.stringify(events));
      const [crash] = events;
      assert.ok(crash.type === 'diagnostic' && crash.severity === 'error' && crash.crash === true);
      assert.match(crash.message, /user stack of process 14707, which had already exited/);
      assert.match(crash.message, /before 0\.20/);
    }
    // Any other exception keeps its type and message; one cut short still says what it was.
    const other = new TraceStreamParser();
    const otherEvents = [
      ...other.pushStderr(
        "terminate called after throwing an instance of 'std::bad_alloc'\n  what():  std::bad_alloc\nERROR: next\n",
      ),
      ...other.pushStderr("terminate called after throwing an instance of 'std::runtime_error'"),
      ...other.end(),
    ];
    assert.deepEqual(
      otherEvents.map((e) => (e.type === 'diagnostic' ? `${e.severity} ${e.message}` : e.type)),
      [
        'error bpftrace crashed on an uncaught std::bad_alloc: std::bad_alloc',
        'error next',
        'error bpftrace crashed on an uncaught std::runtime_error',
      ],
    );
  });

  it('renders maps and histograms like bpftrace text mode', () => {
    assert.equal(
      renderText({ type: 'map', name: '@a', value: { '1': 2, '7': 3 } }),
      '@a[1]: 2\n@a[7]: 3\n\n',
    );
    assert.equal(renderText({ type: 'map', name: '@b', value: 1 }), '@b: 1\n\n');
    assert.match(
      renderText({ type: 'map', name: '@h', value: [{ min: 4, max: 7, count: 2 }] }),
      /^@h:\n\[4, 7\) +2 \|@{52}\|\n/,
    );
    assert.match(renderText({ type: 'lost', count: 3 }), /^WARNING: bpftrace lost 3 events: .*stay exact\n$/);
  });
});

const version = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' }).stdout?.trim();
const skipReal =
  process.env.CI !== 'true' && (process.getuid?.() !== 0 || !version) ? 'needs root and bpftrace' : false;

describe('TraceStreamParser on real bpftrace', { skip: skipReal }, () => {
  it('a script error from a file and from stdin gives a diagnostic at the exact range', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-diag-'));
    try {
      const file = path.join(dir, 'bad.bt');
      writeFileSync(file, 'BEGIN {\n  printf("%d\\n", nosuchthing);\n}\n');
      for (const [args, input, name] of [
        [['-d', file], undefined, file],
        [['-f', 'json', '-'], 'BEGIN {\n  printf("%d\\n", nosuchthing);\n}\n', 'stdin'],
      ] as const) {
        const r = spawnSync('bpftrace', [...args], { input, encoding: 'utf8' });
        const parser = new TraceStreamParser();
        const events = [...parser.pushStderr(r.stderr), ...parser.end()];
        const errors = events.filter((e) => e.type === 'diagnostic' && e.severity === 'error');
        assert.equal(errors.length, 1, JSON.stringify(events));
        assert.deepEqual(
          { ...errors[0], message: undefined },
          {
            type: 'diagnostic',
            severity: 'error',
            message: undefined,
            file: name,
            line: 2,
            column: 18,
            endColumn: 29,
          },
        );
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a process named to forge fields is still read right (real prctl name, real bind)', async (t) => {
    // The target renames its main thread (libuv uses prctl(PR_SET_NAME)), then binds.
    const forged = 'a" 1 2\nFT1 x';
    const target = spawn(
      process.execPath,
      [
        '-e',
        `process.stdin.once('data', () => { process.title = ${JSON.stringify(forged)};
           require('net').createServer().listen(0, '127.0.0.1', () => console.log('bound')); });`,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    t.after(() => target.kill('SIGKILL'));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-forge-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'l.bt');
    writeFileSync(
      file,
      listenerTraceScript({
        target: { pid: target.pid! },
        bpftraceVersion: version ?? '0.17',
        withStacks: false,
      }),
    );
    const bpftrace = spawn('bpftrace', ['-f', 'json', file], {
      env: { ...process.env, ...listenerTraceEnvironment(version ?? '0.17') },
    });
    const closed = new Promise((resolve) => bpftrace.once('close', resolve));
    t.after(async () => {
      bpftrace.kill('SIGINT');
      await closed;
    });
    const parser = new TraceStreamParser({ attachedWhen: 'begin' });
    const events: TraceEvent[] = [];
    bpftrace.stdout.on('data', (c: Buffer) => events.push(...parser.pushStdout(c)));
    bpftrace.stderr.on('data', (c: Buffer) => events.push(...parser.pushStderr(c)));
    const until = async (what: string, ok: () => boolean) => {
      const deadline = Date.now() + 20_000;
      while (!ok()) {
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}: ${JSON.stringify(events)}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await until('attached', () => events.some((e) => e.type === 'attached'));
    target.stdin.write('go\n');
    await until('the bind', () => events.some((e) => e.type === 'bind' && e.tid === target.pid));
    const bind = events.find((e): e is BindEvent => e.type === 'bind' && e.tid === target.pid)!;
    assert.equal(bind.comm, forged.slice(0, 15));
    assert.equal(bind.address.address, '127.0.0.1');
    assert.equal(bind.result, 0);
    assert.ok(events.some((e) => e.type === 'thread-name' && e.name === forged.slice(0, 15)));
    assert.deepEqual(
      events.filter((e) => e.type === 'malformed'),
      [],
    );
  });
});
