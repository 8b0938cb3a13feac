// What the Sessions tree and the compatibility table say about a fleet, without VS Code.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compatibilityRows, compatibilityTable, fleetRow } from '../../extension/trace/fleet-summary';
import type { SessionFacts } from '../../extension/trace/session-summary';

const member = (nodeLabel: string, running: boolean, eventCount: number): SessionFacts => ({
  id: `s-${nodeLabel}`,
  nodeLabel,
  scriptLabel: 'listeners of envoy',
  running,
  eventCount,
  rate: 0,
  logPath: `/logs/${nodeLabel}.jsonl`,
});

test('a fleet row counts running nodes, events and failed nodes; it ends when every node has', () => {
  const live = fleetRow({
    id: 'f1',
    scriptLabel: 'listeners of envoy',
    members: [member('a', true, 10), member('b', false, 5)],
    failures: [{ nodeLabel: 'c', reason: 'bpftrace is not installed on c' }],
  });
  assert.equal(live.label, 'Fleet of 3 · listeners of envoy');
  assert.equal(live.description, '1/3 running · 15 events · 1 failed');
  assert.equal(live.contextValue, 'fieldtrace.fleet.running');
  assert.ok(live.tooltip.includes('c: failed (bpftrace is not installed on c)'));
  const over = fleetRow({ id: 'f1', scriptLabel: 'x.bt', members: [member('a', false, 1)], failures: [] });
  assert.deepEqual([over.description, over.contextValue], ['ended · 1 events', 'fieldtrace.fleet.ended']);
});

test('the compatibility table names each node that would reject the script, with line and reason', () => {
  const rows = compatibilityRows(
    ['old', 'new', 'down', 'silent'],
    (id) => `node ${id}`,
    [
      {
        nodeId: 'old',
        bpftraceVersion: '0.17',
        known: true,
        errors: [
          { line: 2, character: 4, message: 'Unknown function: has_key' },
          { line: 5, character: 0, message: 'second' },
          { line: 6, character: 0, message: 'third' },
        ],
        warnings: 0,
      },
      { nodeId: 'new', bpftraceVersion: '0.22', known: true, errors: [], warnings: 1 },
    ],
    new Map([['down', 'SSH to down: connect ECONNREFUSED']]),
  );
  assert.deepEqual(
    rows.map((r) => [r.nodeId, r.ok, r.description, r.detail]),
    [
      [
        'old',
        false,
        'bpftrace 0.17',
        'would reject it: line 3: Unknown function: has_key; line 6: second (+1 more)',
      ],
      ['new', true, 'bpftrace 0.22', 'accepts it'],
      ['down', false, 'cannot trace', 'SSH to down: connect ECONNREFUSED'],
      ['silent', false, 'not checked', 'no verdict'],
    ],
  );
  const table = compatibilityTable('x.bt', rows).split('\n');
  assert.equal(table[0], 'x.bt: 1 of 4 nodes can run it');
  assert.match(table[1] ?? '', /^ {2}FAIL {2}node old {5}bpftrace 0\.17: would reject it: line 3/);
  assert.match(table[2] ?? '', /^ {2}ok {4}node new/);
});
