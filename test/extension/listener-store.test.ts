// The Listeners view's store (extension/listeners/store.ts): events of several sessions, a log
// read from a file and a clear, folded into one state; every change is announced.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionTraceEvent, TraceEvent } from '../../common/events';
import { readTraceLog } from '../../core/listeners/readers';
import { ListenerStore } from '../../extension/listeners/store';

const origin = { timeNs: 1, pid: 100, tid: 100, comm: 'envoy' };
const fromSession = (sessionId: string, nodeId: string, event: TraceEvent): SessionTraceEvent => ({
  sessionId,
  nodeId,
  event,
});
const socketAndBind = (sessionId: string, nodeId: string, pid: number): SessionTraceEvent[] => [
  fromSession(sessionId, nodeId, {
    ...origin,
    pid,
    tid: pid,
    type: 'socket',
    fd: 5,
    family: 'inet',
    socketType: 1,
  }),
  fromSession(sessionId, nodeId, {
    ...origin,
    pid,
    tid: pid,
    type: 'bind',
    fd: 5,
    address: { family: 'inet', address: '0.0.0.0', port: 8080 },
    result: 0,
  }),
];

test('sessions become sources once, their nodes are offered, and each change is announced', () => {
  const store = new ListenerStore();
  let changes = 0;
  store.onDidChange(() => changes++);
  const events = [...socketAndBind('s1', 'local', 100), ...socketAndBind('s2', 'node-a', 200)];
  for (const e of events) store.applyEvent(e);
  assert.equal(changes, events.length);
  const state = store.state();
  assert.deepEqual(state.sources, ['session s1 on local', 'session s2 on node-a']);
  assert.equal(state.events, 4);
  assert.deepEqual(store.tracedNodes(), ['local', 'node-a']);
  assert.deepEqual([...store.knownPids('node-a')], [200]);
  assert.deepEqual([...store.knownPids('local')], [100]);
});

test('a session log read from a file adds its events and counts its unreadable lines', () => {
  const store = new ListenerStore();
  const lines = socketAndBind('s9', 'local', 300).map((e) => JSON.stringify(e));
  const log = readTraceLog([...lines, '{"sessionId": "s9", "broken', ''].join('\n'));
  assert.equal(log.format, 'session-jsonl');
  store.applyLog('logs/s9.jsonl', log);
  const state = store.state();
  assert.deepEqual(state.sources, ['logs/s9.jsonl (session-jsonl)']);
  assert.equal(state.events, 2);
  assert.equal(state.malformed, log.problems.length);
  assert.ok(log.problems.length >= 1);
});

test('clear forgets the state, the sources and the nodes, and says so', () => {
  const store = new ListenerStore();
  for (const e of socketAndBind('s1', 'node-a', 100)) store.applyEvent(e);
  let changes = 0;
  const subscription = store.onDidChange(() => changes++);
  store.clear();
  assert.equal(changes, 1);
  assert.deepEqual(store.state().sources, []);
  assert.equal(store.state().processes.length, 0);
  assert.deepEqual(store.tracedNodes(), []);
  subscription.dispose();
  for (const e of socketAndBind('s1', 'node-a', 100)) store.applyEvent(e);
  assert.equal(changes, 1, 'a disposed listener hears nothing');
  // The same session after a clear is a source again.
  assert.deepEqual(store.state().sources, ['session s1 on node-a']);
});
