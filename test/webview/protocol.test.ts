// The message guards of common/listeners-protocol.ts: both sides drop anything malformed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFromWebview, parseToWebview } from '../../common/listeners-protocol';
import { reduceEvents } from '../../core/listeners/reducer';

test('messages from the webview: known shapes pass, anything else is dropped', () => {
  assert.deepEqual(parseFromWebview({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseFromWebview({ type: 'command', command: 'copyJson' }), {
    type: 'command',
    command: 'copyJson',
  });
  assert.equal(parseFromWebview({ type: 'command', command: 'workbench.action.terminal.new' }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'showStack', title: 't', frames: ['a+1', 'b+2'], extra: 1 }), {
    type: 'showStack',
    title: 't',
    frames: ['a+1', 'b+2'],
  });
  assert.equal(parseFromWebview({ type: 'showStack', title: 't', frames: ['a', 3] }), undefined);
  assert.equal(
    parseFromWebview({ type: 'showStack', title: 't', frames: new Array(600).fill('f') }),
    undefined,
  );
  assert.equal(parseFromWebview({ type: 'openFrame', frame: 'x'.repeat(5000) }), undefined);
  assert.deepEqual(parseFromWebview({ type: 'openFrame', frame: 'f', calleeFrame: 'g' }), {
    type: 'openFrame',
    frame: 'f',
    calleeFrame: 'g',
  });
  for (const bad of [null, 'ready', [], { type: 'nope' }, { type: 'openFrame' }])
    assert.equal(parseFromWebview(bad), undefined);
});

test('messages to the webview: a real state passes, broken ones are dropped', () => {
  const state = reduceEvents([
    {
      type: 'bind',
      timeNs: 1,
      pid: 1,
      tid: 1,
      comm: 'a',
      fd: 3,
      address: { family: 'inet', address: '0.0.0.0', port: 80 },
    },
  ]);
  assert.deepEqual(parseToWebview({ type: 'state', state }), { type: 'state', state });
  assert.equal(parseToWebview({ type: 'state', state: { ...state, version: 2 } }), undefined);
  assert.equal(parseToWebview({ type: 'state', state: { ...state, processes: [{ pid: 1 }] } }), undefined);
  assert.deepEqual(parseToWebview({ type: 'error', message: 'x' }), { type: 'error', message: 'x' });
  assert.equal(parseToWebview({ type: 'error', message: 7 }), undefined);
  assert.equal(parseToWebview({ type: 'eval', code: '1' }), undefined);
});
