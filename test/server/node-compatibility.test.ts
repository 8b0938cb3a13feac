// fieldtrace/checkOnNodes through the protocol: one script, several nodes with their own bpftrace
// versions and tracepoint catalogs; each node's verdict comes from its own dialect and catalog.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CheckOnNodesRequest, SetNodeTargetNotification } from '../../common/protocol';
import { type ServerHarness, startServer } from './harness';

// A node's own `bpftrace -lv 'tracepoint:*'`: this one has no sched tracepoints at all.
const LISTING_WITHOUT_SCHED = `tracepoint:syscalls:sys_enter_openat
    int __syscall_nr
    int dfd
    const char * filename
    int flags
    umode_t mode
`;

describe('checking a script on several nodes before a fleet run', () => {
  let h: ServerHarness;
  before(async () => {
    h = await startServer();
    await h.client.sendNotification(SetNodeTargetNotification.type, {
      nodeId: 'old',
      bpftraceVersion: '0.17',
    });
    await h.client.sendNotification(SetNodeTargetNotification.type, {
      nodeId: 'new',
      bpftraceVersion: '0.22',
    });
    await h.client.sendNotification(SetNodeTargetNotification.type, {
      nodeId: 'no-sched',
      bpftraceVersion: '0.22',
      kernelRelease: '6.1.0-test',
      tracepointListing: LISTING_WITHOUT_SCHED,
    });
  });
  after(async () => h?.close());

  it("names the nodes that would reject the script, with each node's reason and line", async () => {
    const text =
      'BEGIN { @seen[1] = 1; }\ntracepoint:sched:sched_process_exit /has_key(@seen, 1)/ { exit(); }\n';
    const uri = h.open('fleet.bt', text);
    const { nodes } = await h.client.sendRequest(CheckOnNodesRequest.type, {
      uri,
      nodeIds: ['old', 'new', 'no-sched', 'never-probed'],
    });
    const byNode = new Map(nodes.map((n) => [n.nodeId, n]));
    assert.deepEqual(
      nodes.map((n) => [n.nodeId, n.bpftraceVersion, n.known]),
      [
        ['old', '0.17', true],
        ['new', '0.22', true],
        ['no-sched', '0.22', true],
        ['never-probed', nodes[3]?.bpftraceVersion, false],
      ],
    );
    const old = byNode.get('old');
    assert.ok(
      old?.errors.some((e) => e.line === 1 && /has_key/.test(e.message)),
      JSON.stringify(old),
    );
    assert.deepEqual(byNode.get('new')?.errors, []);
    const noSched = byNode.get('no-sched');
    assert.ok(
      noSched?.errors.some((e) => e.line === 1 && /sched_process_exit|sched/.test(e.message)),
      JSON.stringify(noSched),
    );
  });

  it('checks a text that is no open document (a generated script)', async () => {
    const { nodes } = await h.client.sendRequest(CheckOnNodesRequest.type, {
      text: 'tracepoint:syscalls:sys_enter_openat { printf("%s\\n", str(args->filename)); }\n',
      nodeIds: ['old', 'no-sched'],
    });
    assert.deepEqual(
      nodes.map((n) => n.errors.length),
      [0, 0],
    );
    await assert.rejects(
      h.client.sendRequest(CheckOnNodesRequest.type, { uri: 'file:///nope.bt', nodeIds: ['old'] }),
    );
  });
});
