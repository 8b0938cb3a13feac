// The seed article's own trace output, read by the seed-format importer, gives the grouping its
// `ss -lnp` shows (15001, 15006) and its trace implies (15090, 15021, 15000 on the main thread).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { ListenerState } from '../../../common/listeners-protocol';
import { stateToMarkdown } from '../../../core/listeners/format';
import { readTraceLog } from '../../../core/listeners/readers';
import { reduceEvents } from '../../../core/listeners/reducer';
import { END_MAP_THREAD, importSeedOutput } from '../../../core/listeners/seed-import';

const seedDir = path.resolve(__dirname, '../../../../shared/seed');
const seedFile = path.join(
  seedDir,
  readdirSync(seedDir).find((f) => /^000_.*\.txt$/.test(f))!,
);
const seedText = readFileSync(seedFile, 'utf8');

function listener(state: ListenerState, port: number) {
  const l = state.processes[0].listeners.find((x) => x.port === port);
  assert.ok(l, `listener on port ${port}`);
  return l;
}

test('the seed output groups fds per listening socket as its ss -lnp shows', () => {
  const imported = importSeedOutput(seedText);
  assert.deepEqual(imported.pids, [2062496]);
  assert.deepEqual(imported.unreadable, []);
  const state = reduceEvents(imported.events);
  assert.equal(state.processes.length, 1);
  const proc = state.processes[0];
  assert.equal(proc.pid, 2062496);
  assert.equal(proc.name, 'envoy');
  const expected: Record<number, number[]> = {
    15001: [31, 37, 38],
    15006: [32, 39, 40],
    15090: [21, 33, 35],
    15021: [22, 34, 36],
    15000: [18],
  };
  assert.deepEqual(
    proc.listeners.map((l) => l.port),
    [15000, 15001, 15006, 15021, 15090],
  );
  for (const [port, fds] of Object.entries(expected)) {
    const l = listener(state, Number(port));
    assert.equal(l.sockets.length, 1, `one socket on ${port}`);
    assert.deepEqual(
      l.sockets[0].fds.map((f) => f.fd).sort((a, b) => a - b),
      fds,
      `fds of ${port}`,
    );
    assert.equal(l.layout, fds.length > 1 ? 'shared-dup' : 'single');
    assert.equal(l.sockets[0].listening, true);
    assert.equal(l.sockets[0].boundBy?.name, 'envoy');
  }
  const admin = listener(state, 15000);
  assert.equal(admin.label, 'Envoy admin');
  assert.equal(admin.address, '127.0.0.1');
  assert.equal(admin.sockets[0].fds[0].listenedBy?.tid, 2062496, 'admin listens on the main thread');
  assert.deepEqual(
    admin.sockets[0].options.map((o) => `${o.name}=${o.value}`),
    ['SOL_SOCKET/SO_REUSEADDR=1'],
  );
  const outbound = listener(state, 15001);
  assert.equal(outbound.label, 'virtual outbound');
  const byFd = new Map(outbound.sockets[0].fds.map((f) => [f.fd, f]));
  assert.equal(byFd.get(37)?.listenedBy?.name, 'wrk:worker_1');
  assert.equal(byFd.get(38)?.listenedBy?.name, 'wrk:worker_0');
  assert.equal(byFd.get(37)?.from, 31);
  assert.equal(byFd.get(31)?.listening, false, 'the main thread binds but does not listen on 15001');
  // Timeline: bind on main, then dup + listen on the workers, each with its stack.
  const kinds = outbound.timeline.map((s) => `${s.kind}:${s.thread.name}`);
  assert.deepEqual(kinds.slice(0, 2), ['setsockopt:envoy', 'bind:envoy']);
  assert.ok(kinds.includes('dup:wrk:worker_1') && kinds.includes('listen:wrk:worker_0'));
  const dup = outbound.timeline.find((s) => s.kind === 'dup' && s.fd === 37)!;
  assert.equal(dup.stack?.[0], 'dup+11');
  assert.match(dup.stack?.[1] ?? '', /IoSocketHandleImpl::duplicate/);
  // Connection fds 41-45 got TCP_NODELAY but were never bound: they are no listeners.
  assert.ok(proc.listeners.every((l) => l.sockets.every((s) => s.fds.every((f) => f.fd < 41))));
});

test('facts only the END maps hold are replayed and attributed to the map dump', () => {
  // Cut the printed part after the 15001 dups: what is left must come from the maps.
  const cut = seedText.indexOf('comm:wrk:worker_0    : duping_fd=32, new_fd=39');
  assert.ok(cut > 0);
  const mapsStart = seedText.indexOf('@dup_fd_new2old[33]');
  const text = seedText.slice(0, cut) + '\n^C\n\n' + seedText.slice(mapsStart);
  const state = reduceEvents(importSeedOutput(text).events);
  const inbound = listener(state, 15006);
  const fds = inbound.sockets[0].fds;
  assert.deepEqual(
    fds.map((f) => f.fd).sort((a, b) => a - b),
    [32, 39, 40],
  );
  const fromMap = fds.find((f) => f.fd === 39)!;
  assert.equal(fromMap.owner?.name, END_MAP_THREAD);
  assert.equal(fromMap.listening, true);
});

test('readTraceLog recognises the seed format and the markdown names the grouping', () => {
  const log = readTraceLog(seedText);
  assert.equal(log.format, 'seed-text');
  const markdown = stateToMarkdown(reduceEvents(log.events));
  assert.match(markdown, /### inet 0\.0\.0\.0:15001 — virtual outbound/);
  assert.match(markdown, /fd 37, dup of 31, owner wrk:worker_1/);
});

test('a thread name holding the separator cannot shift the fields', () => {
  const text = [
    'watched envoy pid: 7',
    '',
    '########## bind() ##########',
    'comm:a: bind AF_INET:  : bind AF_INET: ip:1.2.3.4        port:80    fd=5 ',
  ].join('\n');
  const imported = importSeedOutput(text);
  // The fixed 16 columns do not end in ": ", and the fallback split leaves no valid bind: reported, not misread.
  assert.equal(imported.events.length, 1, 'only the exec event');
  assert.equal(imported.unreadable.length, 1);
});
