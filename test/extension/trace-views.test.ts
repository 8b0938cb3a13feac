// What the Sessions tree, the status bar and the trace terminal show, without VS Code: the rows
// of running and ended sessions, the summary of running ones, the terminal's line ends and its
// bounded history.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type SessionFacts, sessionRow, statusSummary } from '../../extension/trace/session-summary';
import { eventText, noteText, TerminalHistory, toTerminal } from '../../extension/trace/terminal-text';

const running: SessionFacts = {
  id: 's1',
  nodeLabel: 'node-a',
  scriptLabel: 'opens.bt',
  running: true,
  eventCount: 1234,
  rate: 41.6,
  logPath: '/logs/s1.jsonl',
};
const ended: SessionFacts = {
  ...running,
  id: 's2',
  nodeLabel: 'This machine',
  scriptLabel: 'listeners of envoy',
  running: false,
  rate: 0,
  end: { exitCode: 0, signal: null, reason: 'stopped by the user' },
};

test('a running session shows its event count and rate; an ended one why it ended', () => {
  const live = sessionRow(running);
  assert.equal(live.label, 'node-a · opens.bt');
  assert.equal(live.description, 'running · 1234 events · 42/s');
  assert.equal(live.icon, 'pulse');
  assert.equal(live.contextValue, 'fieldtrace.session.running');
  // Names and paths are escaped Markdown text (core/text/untrusted.ts).
  assert.deepEqual(live.tooltip, [
    '**opens\\.bt** on **node\\-a**',
    'Session s1',
    'Log: \\/logs\\/s1\\.jsonl',
  ]);
  const done = sessionRow(ended);
  assert.equal(done.description, 'ended (stopped by the user) · 1234 events');
  assert.equal(done.contextValue, 'fieldtrace.session.ended');
  assert.equal(
    sessionRow({ ...ended, end: { exitCode: 1, signal: null } }).description,
    'ended (exit 1) · 1234 events',
  );
  assert.equal(sessionRow({ ...ended, end: undefined }).description, 'ended (exit ?) · 1234 events');
});

test('the status bar counts running sessions and sums their rates; none running: no entry', () => {
  assert.equal(statusSummary([ended]), undefined);
  assert.deepEqual(statusSummary([running, ended]), {
    text: '$(pulse) 1 trace · 42 ev/s',
    tooltip: 'node-a · opens.bt: 1234 events',
  });
  const two = statusSummary([
    running,
    { ...running, id: 's3', nodeLabel: 'node-b', rate: 10, eventCount: 5 },
  ]);
  assert.equal(two?.text, '$(pulse) 2 traces · 52 ev/s');
  assert.equal(two?.tooltip, 'node-a · opens.bt: 1234 events\nnode-b · opens.bt: 5 events');
});

test('terminal text ends lines with CRLF, also where the event text has none or has CRLF already', () => {
  assert.equal(toTerminal('a\nb\r\nc'), 'a\r\nb\r\nc');
  assert.equal(eventText({ type: 'attached', probes: 3 }), 'Attaching 3 probes...\r\n');
  assert.equal(eventText({ type: 'output', text: 'no newline' }), 'no newline\r\n');
  assert.equal(eventText({ type: 'output', text: 'two\nlines\n' }), 'two\r\nlines\r\n');
  assert.equal(noteText('log: /x.jsonl'), '\x1b[2m# log: /x.jsonl\x1b[0m\r\n');
});

test('the terminal history keeps the newest output within its bound, and at least the last chunk', () => {
  const history = new TerminalHistory(10);
  history.push('1234');
  history.push('5678');
  assert.deepEqual(history.replay(), ['1234', '5678']);
  history.push('90ab');
  assert.deepEqual(history.replay(), ['5678', '90ab']);
  history.push('a chunk longer than the bound');
  assert.deepEqual(history.replay(), ['a chunk longer than the bound']);
});
