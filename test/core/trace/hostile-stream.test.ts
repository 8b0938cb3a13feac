// What bpftrace relays from a traced process is untrusted: a listener record with an oversized hex
// field, and 10,000 mutated stdout and stderr streams, must give events or `malformed`, never an
// exception, in bounded time; their terminal rendering holds no raw control character.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TraceEvent } from '../../../common/events';
import { renderText } from '../../../core/trace/render-text';
import { TraceStreamParser } from '../../../core/trace/stream-parser';
import { fuzz, hasRawControl } from '../../helpers/fuzz';

const COMM =
  '\\\\x65\\\\x6e\\\\x76\\\\x6f\\\\x79\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00\\\\x00';

function parseAll(stdout: string | Buffer, stderr = ''): TraceEvent[] {
  const parser = new TraceStreamParser({ nodeId: 'n1' });
  const events = [...parser.pushStdout(stdout), ...parser.pushStderr(stderr), ...parser.end()];
  return events;
}

describe('the stream parser on hostile input', () => {
  it('a listener record with a hex field of several hundred kB is malformed, not a RangeError', () => {
    const huge = '41'.repeat(400_000);
    for (const line of [
      `{"type": "printf", "data": "FT1 exec 18 7 7 0 0 0 0 0 ${huge} ${COMM}\\n"}`,
      `{"type": "printf", "data": "FT1 close 17 7 9 30 0 0 0 0 - ${'\\\\x41'.repeat(300_000)}\\n"}`,
      // The JSON way (an escape the in-place reader does not take sends it there).
      `{"type": "printf", "data": "FT1 exec 18 7 7 0 0 0 0 0 ${huge} ${COMM} \\"q\\"\\n"}`,
    ]) {
      const events = parseAll(`${line}\n`);
      assert.equal(events.length, 1);
      assert.equal(events[0]?.type, 'malformed');
      assert.ok(renderText(events[0]!).length < 20_000, 'the rendering of an unreadable line is bounded');
    }
  });

  it('fuzz: 10,000 mutated listener records and JSON records: no exception, no raw control in the rendering', () => {
    const seeds = [
      `{"type": "printf", "data": "FT1 bind 1215893124684 13230 13230 11 2 15000 0 0 127.0.0.1 ${COMM}\\n        __bind+7\\n        Envoy::Network::IoSocketHandleImpl::bind(int)+105\\n\\n"}\n`,
      `{"type": "printf", "data": "FT1 bind 12 7 7 12 1 0 0 0 2f746d702f61646d696e2e736f636b ${COMM}\\n"}\n`,
      `{"type": "printf", "data": "FT1 thread-name 20 7 9 9 0 0 0 0 \\\\x1b\\\\x5b\\\\x32\\\\x4a ${COMM}\\n"}\n`,
      `{"type": "printf", "data": "FT1 accept 16 7 9 16 30 10 40000 0 ::1 ${COMM}\\n"}\n`,
      '{"type": "attached_probes", "data": {"probes": 3}}\n{"type": "printf", "data": "hi \\u001b[2J there\\n"}\n',
      '{"type": "map", "data": {"@x\\u009b": {"k\\u0007": 1}}}\n{"type": "hist", "data": {"@h": [{"min": 0, "max": 1, "count": 3}]}}\n',
      '{"type": "stats", "data": {"@s": {"count": 1, "average": 3, "total": 3}}}\n{"type": "lost_events", "data": {"events": 17}}\n',
      '{"type": "printf", "data": "FT1 exec 18 7 7 0 0 0 0 0 2f7573722f62696e2f656e766f79 ' +
        COMM +
        '\\n"}\n',
    ];
    const stderrSeeds = [
      'stdin:1:1-10: ERROR: Unknown function: nosuch\nstdin:1:1-10: nosuch()\n',
      'WARNING: could not set RLIMIT_MEMLOCK\n',
      "terminate called after throwing an instance of 'std::runtime_error'\n",
    ];
    let rendered = 0;
    fuzz(seeds, { seed: 4242, count: 10_000, budgetMs: 60_000 }, (input, i) => {
      const stderr = stderrSeeds[i % stderrSeeds.length]!;
      const events = parseAll(
        input,
        i % 3 === 0 ? `${input.toString('latin1').slice(0, 200)}\n${stderr}` : stderr,
      );
      for (const event of events) {
        const text = renderText(event);
        rendered++;
        if (hasRawControl(text))
          throw new Error(`raw control in ${JSON.stringify(text)} of ${JSON.stringify(event)}`);
      }
    });
    assert.ok(rendered > 10_000, `${rendered} events rendered`);
  });
});
