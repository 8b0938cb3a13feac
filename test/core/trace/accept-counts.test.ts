// Accept counts of the listener trace as they leave bpftrace: the script counts in BPF maps and
// prints the changed totals on an interval (a `counts` line dates each map print), the parser
// turns each print into `accepts` events, and the script keeps per-connection work in the kernel.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../../common/events';
import { listenerTraceScript } from '../../../core/trace/listener-script';
import { TraceStreamParser } from '../../../core/trace/stream-parser';

const json = (record: object) => `${JSON.stringify(record)}\n`;

describe('accept totals in the stream', () => {
  it('dates each print of totals by the counts line before it, and reads pid,tid,fd keys', () => {
    const parser = new TraceStreamParser({ nodeId: 'n1', attachedWhen: 'begin' });
    const events: TraceEvent[] = [
      ...parser.pushStdout(json({ type: 'printf', data: 'FT1 counts 5000000000 0 0 0 0 0 0 0 - 00\n' })),
      ...parser.pushStdout(json({ type: 'map', data: { '@ft_d0': { '10,11,7': 31, '10,12,8': 4 } } })),
      ...parser.pushStdout(json({ type: 'printf', data: 'FT1 counts 6000000000 0 0 0 0 0 0 0 - 00\n' })),
      ...parser.pushStdout(json({ type: 'map', data: { '@ft_acc': { '10,11,7': 40 } } })),
      // Another script's map is still a map.
      ...parser.pushStdout(json({ type: 'map', data: { '@mine': { '1': 2 } } })),
    ];
    assert.deepEqual(events, [
      { type: 'accepts', timeNs: 5e9, pid: 10, tid: 11, comm: '', listenFd: 7, total: 31, node: 'n1' },
      { type: 'accepts', timeNs: 5e9, pid: 10, tid: 12, comm: '', listenFd: 8, total: 4, node: 'n1' },
      { type: 'accepts', timeNs: 6e9, pid: 10, tid: 11, comm: '', listenFd: 7, total: 40, node: 'n1' },
      { type: 'map', name: '@mine', value: { '1': 2 } },
    ]);
  });

  it('keeps totals of another shape as malformed, never as counts', () => {
    const parser = new TraceStreamParser();
    const events = parser.pushStdout(
      json({
        type: 'map',
        data: { '@ft_d1': { '1,2': 3, '1,2,x': 4, '1,2,3': -1, '4,5,6': 1.5, '7,8,9': 2 } },
      }),
    );
    assert.equal(events.filter((e) => e.type === 'malformed').length, 4);
    assert.deepEqual(
      events.filter((e) => e.type === 'accepts').map((e) => e.type === 'accepts' && e.total),
      [2],
    );
  });
});

describe('listener script: counting in the kernel', () => {
  const script = listenerTraceScript({
    target: { comm: 'envoy' },
    bpftraceVersion: '0.17',
    countIntervalMs: 250,
    knownListeners: [
      { pid: 41, fd: 6 },
      { pid: 42, fd: 6 },
    ],
  });
  const probeBody = (spec: string) => {
    const start = script.indexOf(`${spec} `);
    assert.ok(start >= 0, spec);
    return script.slice(start, script.indexOf('\n}\n', start));
  };

  it('prints the changed totals on the interval, and all of them at END', () => {
    assert.match(probeBody('interval:ms:250'), /print\(@ft_d0\); clear\(@ft_d0\);/);
    assert.match(probeBody('END'), /FT1 counts[\s\S]*print\(@ft_acc\);/);
    assert.throws(
      () => listenerTraceScript({ target: { pid: 1 }, bpftraceVersion: '0.17', countIntervalMs: 5 }),
      /interval/,
    );
  });

  it('follows the listening fds of a snapshot from BEGIN', () => {
    assert.match(probeBody('BEGIN'), /@ft_sk\[\(uint64\)41, 6\] = 1;\n {2}@ft_sk\[\(uint64\)42, 6\] = 1;/);
    assert.throws(
      () =>
        listenerTraceScript({
          target: { pid: 1 },
          bpftraceVersion: '0.17',
          knownListeners: [{ pid: 1, fd: -1 }],
        }),
      /fd/,
    );
  });

  it('prints an accept only the first time a thread accepts on an fd, and never follows its fd', () => {
    const exit = probeBody('tracepoint:syscalls:sys_exit_accept4');
    assert.equal(exit.match(/printf\(/g)?.length, 1);
    assert.match(exit, /if \(\$n == 1\) \{\n\s+printf\("FT1 accept /);
    assert.doesNotMatch(exit, /@ft_sk/);
    // Options of fds that are not followed or pending stay in the kernel.
    assert.match(probeBody('tracepoint:syscalls:sys_enter_setsockopt'), /if \(\$s != 0\) \{/);
    // A new socket is printed when it is bound or listens, not when it is made.
    assert.doesNotMatch(probeBody('tracepoint:syscalls:sys_exit_socket'), /printf/);
    assert.match(probeBody('tracepoint:syscalls:sys_enter_bind'), /printf\("FT1 socket /);
    assert.match(probeBody('tracepoint:syscalls:sys_enter_listen'), /printf\("FT1 socket /);
  });
});
