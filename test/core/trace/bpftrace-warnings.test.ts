import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../../common/events';
import { KNOWN_WARNINGS } from '../../../core/trace/bpftrace-warnings';
import { renderText } from '../../../core/trace/render-text';
import { TraceStreamParser } from '../../../core/trace/stream-parser';

const MEMLOCK =
  'ERROR: Unknown error -1: couldn\'t set RLIMIT_MEMLOCK for bpftrace. If your program is not loading, you can try "ulimit -l 8192" to fix the problem';

function diagnostics(stderr: string): Array<Extract<TraceEvent, { type: 'diagnostic' }>> {
  const parser = new TraceStreamParser();
  return [...parser.pushStderr(stderr), ...parser.end()].filter(
    (e): e is Extract<TraceEvent, { type: 'diagnostic' }> => e.type === 'diagnostic',
  );
}

const bpftrace = spawnSync('bpftrace', ['--version']).status === 0 && process.getuid?.() === 0;

describe('known bpftrace warnings', () => {
  it('explains a known warning once, shows every occurrence, and keeps an unknown one verbatim (escaped)', () => {
    const events = diagnostics(
      [MEMLOCK, 'WARNING: something new \x1b[31mred\x1b[0m happened', MEMLOCK].join('\n') + '\n',
    );
    assert.equal(events.length, 3);
    const [first, unknown, again] = events;
    // Known: a warning (bpftrace 0.17 says ERROR), explained in plain words, message kept whole.
    assert.equal(first.severity, 'warning');
    assert.match(first.message, /^Unknown error -1: couldn't set RLIMIT_MEMLOCK/);
    assert.equal(first.known, 'rlimit-memlock');
    assert.match(first.explanation ?? '', /5\.11/);
    assert.match(first.explanation ?? '', /no event is lost/);
    const shown = renderText(first);
    assert.ok(shown.includes(first.message), 'the message itself is shown');
    assert.ok(shown.includes('memory cgroup'), 'with its meaning');
    // The second time: shown, not explained again.
    assert.equal(again.explanation, undefined);
    assert.equal(again.known, 'rlimit-memlock');
    const shownAgain = renderText(again);
    assert.ok(shownAgain.includes('RLIMIT_MEMLOCK'));
    assert.ok(shownAgain.includes('explained above'));
    assert.ok(!shownAgain.includes('memory cgroup'));
    // Unknown: verbatim, no explanation, its control bytes visible as escapes.
    assert.equal(unknown.known, undefined);
    assert.equal(unknown.explanation, undefined);
    assert.equal(unknown.message, 'something new \x1b[31mred\x1b[0m happened');
    const unknownShown = renderText(unknown);
    assert.ok(!unknownShown.includes('\x1b'), 'no raw escape reaches a terminal');
    assert.ok(unknownShown.includes('WARNING: something new \\u001b[31mred\\u001b[0m happened'));
  });

  it('has one entry per warning, each with a plain explanation saying whether events are lost', () => {
    const ids = KNOWN_WARNINGS.map((w) => w.id);
    assert.equal(new Set(ids).size, ids.length);
    for (const w of KNOWN_WARNINGS) assert.match(w.explanation, /no event is lost/, w.id);
  });

  it(
    'explains the warning the real bpftrace prints here',
    { skip: !bpftrace && process.env.CI !== 'true' },
    () => {
      const run = spawnSync('bpftrace', ['-e', 'BEGIN { exit(); }'], { encoding: 'utf8', timeout: 60_000 });
      const events = diagnostics(run.stderr);
      const known = events.filter((e) => e.known);
      assert.ok(known.length > 0, `bpftrace's stderr here: ${run.stderr}`);
      for (const id of new Set(known.map((e) => e.known))) {
        assert.equal(known.filter((e) => e.known === id && e.explanation).length, 1, `${id} explained once`);
      }
      assert.ok(
        events.every((e) => e.severity === 'warning'),
        'nothing here is an error',
      );
    },
  );
});
