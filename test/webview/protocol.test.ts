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

test('a state whose chart rows or balance figures are malformed is dropped whole', () => {
  const listener = {
    key: 'inet 0.0.0.0:80',
    sockets: [],
    accepts: [],
    timeline: [],
    notes: [],
    acceptSeries: { startNs: 0, bucketSec: 1, workers: [{ pid: 1, tid: 2, name: 'w', counts: [1, 2] }] },
    balance: { workers: 2, total: 3, maxOverMean: 1.3, cv: 0.3, cause: 'shared-queue', finding: 'f' },
  };
  const state = (l: Record<string, unknown>) => ({
    type: 'state',
    state: {
      version: 1,
      processes: [{ pid: 1, name: 'envoy', threads: [], notes: [], listeners: [l] }],
      sources: [],
      messages: [],
      events: 1,
    },
  });
  assert.ok(parseToWebview(state(listener)), 'the good one passes');
  const series = listener.acceptSeries;
  for (const bad of [
    { ...listener, acceptSeries: { ...series, workers: [{ ...series.workers[0], counts: [1, 'two'] }] } },
    { ...listener, acceptSeries: { ...series, bucketSec: 0 } },
    {
      ...listener,
      acceptSeries: { ...series, workers: [...series.workers, { pid: 1, tid: 3, name: 'v', counts: [1] }] },
    },
    { ...listener, balance: { ...listener.balance, cv: 'high' } },
    {
      ...listener,
      balance: {
        ...listener.balance,
        admin: { workers: 2, total: 3, maxOverMean: 1, cv: 0, since: 'yesterday' },
      },
    },
  ])
    assert.equal(parseToWebview(state(bad)), undefined, JSON.stringify(bad));
});
