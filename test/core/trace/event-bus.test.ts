// The session layer's event bus: every subscriber hears every event in order, a subscriber by
// session id only its session's, one that throws does not cost the others their event.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SessionTraceEvent } from '../../../common/events';
import { newSessionId, TraceEventBus } from '../../../core/trace/session';

const event = (sessionId: string, text: string): SessionTraceEvent => ({
  sessionId,
  nodeId: 'local',
  event: { type: 'output', text },
});

test('subscribers hear every event in order; a session subscriber only its own', () => {
  const bus = new TraceEventBus();
  const all: string[] = [];
  const onlyB: string[] = [];
  bus.subscribe((e) => all.push(`${e.sessionId}:${e.event.type === 'output' ? e.event.text : ''}`));
  bus.subscribe((e) => onlyB.push(e.event.type === 'output' ? e.event.text : ''), 'b');
  bus.publish(event('a', '1'));
  bus.publish(event('b', '2'));
  bus.publish(event('a', '3'));
  bus.publish(event('b', '4'));
  assert.deepEqual(all, ['a:1', 'b:2', 'a:3', 'b:4']);
  assert.deepEqual(onlyB, ['2', '4']);
});

test('a disposed subscription hears nothing more, the others go on', () => {
  const bus = new TraceEventBus();
  const first: string[] = [];
  const second: string[] = [];
  const subscription = bus.subscribe((e) => first.push(e.sessionId));
  bus.subscribe((e) => second.push(e.sessionId));
  bus.publish(event('a', 'x'));
  subscription.dispose();
  bus.publish(event('b', 'y'));
  assert.deepEqual(first, ['a']);
  assert.deepEqual(second, ['a', 'b']);
});

test('a subscriber that throws is reported and the next one still gets the event', () => {
  const errors: unknown[] = [];
  const bus = new TraceEventBus((error) => errors.push(error));
  const heard: string[] = [];
  bus.subscribe(() => {
    throw new Error('view gone');
  });
  bus.subscribe((e) => heard.push(e.sessionId));
  bus.publish(event('a', 'x'));
  assert.deepEqual(heard, ['a']);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /view gone/);
});

test('session ids sort by start time and differ within one millisecond', () => {
  const at = new Date('2026-12-07T01:02:03.004Z');
  const [a, b] = [newSessionId(at), newSessionId(at)];
  assert.match(a, /^2026-12-07T01-02-03-004Z-[0-9a-f]{6}$/);
  assert.notEqual(a, b);
  assert.ok(newSessionId(new Date('2026-12-07T01:02:03.005Z')) > a.slice(0, 24));
});
