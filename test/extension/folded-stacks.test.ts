// The trace terminal's folded stacks without VS Code: the one line that stands for a stack, the
// link found on it, the stacks kept for those links (bounded), and the full form when asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TraceEvent } from '../../common/events';
import { stackTitle } from '../../core/trace/render-text';
import { FoldedStacks } from '../../extension/trace/folded-stacks';
import { eventText, findFoldedStack, foldedStackLine } from '../../extension/trace/terminal-text';

const frames = Array.from({ length: 23 }, (_, i) => `Envoy::Server::frame${i}()+${i * 4}`);
const listen: TraceEvent = {
  type: 'listen',
  timeNs: 1,
  pid: 10,
  tid: 11,
  comm: 'envoy',
  fd: 5,
  backlog: 128,
  result: 0,
  stack: frames,
};

test('a folded stack is one line: its frame count, how many are in source, and the link to open it', () => {
  assert.equal(foldedStackLine(7, 23, 15), 'stack: 23 frames, 15 in source [#7: open in Stacks]');
  assert.equal(foldedStackLine(8, 1), 'stack: 1 frame [#8: open in Stacks]');
  const line = `        ${foldedStackLine(7, 23, 15)}`;
  const found = findFoldedStack(line);
  assert.deepEqual(found, { id: 7, start: 8, length: line.length - 8 });
  assert.equal(findFoldedStack('        Envoy::Server::frame1()+4'), undefined);
});

test('the terminal prints one line per event with its stack folded, or every frame when asked', () => {
  const folded = eventText(listen, foldedStackLine(1, 23, 15)) ?? '';
  assert.deepEqual(folded.split('\r\n'), [
    'envoy[10/11] listen(fd 5, backlog 128) = 0',
    '        stack: 23 frames, 15 in source [#1: open in Stacks]',
    '',
  ]);
  const full = eventText(listen) ?? '';
  assert.equal(full.split('\r\n').filter((l) => l.startsWith('        Envoy::')).length, 23);
  assert.equal(stackTitle(listen), 'envoy[10/11] listen(fd 5, backlog 128) = 0');
});

test('folded stacks keep their frames for the link, bounded, and never wait long for the count', async () => {
  const kept = new FoldedStacks(async (f) => f.filter((x) => x.includes('frame1')).length, 2);
  const first = await kept.fold(frames, 'one');
  assert.equal(first, 'stack: 23 frames, 11 in source [#1: open in Stacks]');
  assert.deepEqual(kept.get(1), { frames, title: 'one' });
  await kept.fold(['a()'], 'two');
  await kept.fold(['b()'], 'three');
  assert.equal(kept.get(1), undefined, 'beyond the bound the oldest is gone');
  assert.equal(kept.get(3)?.title, 'three');
  // A failed count leaves it out rather than failing the line.
  const failing = new FoldedStacks(() => Promise.reject(new Error('no index')));
  assert.equal(await failing.fold(['a()'], 't'), 'stack: 1 frame [#1: open in Stacks]');
});
