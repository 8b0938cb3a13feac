// Which nodes the pickers offer (extension/ssh/node-choices.ts): this machine first, the setting's
// nodes, then ~/.ssh/config's hosts, each once and under its own name.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_NODE } from '../../common/nodes';
import { nodeChoices, nodeLabel } from '../../extension/ssh/node-choices';

test('this machine, then the setting, then ~/.ssh/config, each node once', () => {
  assert.deepEqual(nodeChoices(['edge-1', 'user@10.0.0.5:2222'], ['edge-1', 'bastion', LOCAL_NODE]), [
    { id: LOCAL_NODE, label: 'This machine', description: 'local bpftrace' },
    { id: 'edge-1', label: 'edge-1', description: 'fieldtrace.nodes' },
    { id: 'user@10.0.0.5:2222', label: 'user@10.0.0.5:2222', description: 'fieldtrace.nodes' },
    { id: 'bastion', label: 'bastion', description: '~/.ssh/config' },
  ]);
});

test('with nothing configured only this machine is offered', () => {
  assert.deepEqual(
    nodeChoices([], []).map((n) => n.id),
    [LOCAL_NODE],
  );
});

test('the local node is called this machine, every other by its id', () => {
  assert.equal(nodeLabel(LOCAL_NODE), 'This machine');
  assert.equal(nodeLabel('edge-1'), 'edge-1');
});
