import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LOCAL_NODE, LOCAL_NODE_LABEL, nodeInText } from '../../common/nodes';

test('this machine is named one way: a label, and the same words inside a sentence', () => {
  assert.equal(LOCAL_NODE_LABEL, 'This machine');
  assert.equal(
    `bpftrace is not installed on ${nodeInText(LOCAL_NODE)}`,
    'bpftrace is not installed on this machine',
  );
  assert.equal(nodeInText('web-1'), 'web-1');
});
