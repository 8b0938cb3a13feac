import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../cli/command';
import { readFlags } from '../../cli/flags';

/** What readFlags hands a command, in order, as `flag=value`, `flag` and `operand`. */
function read(args: string[]): string[] {
  const seen: string[] = [];
  readFlags('demo', args, {
    values: {
      '--node': (v, flag) => seen.push(`${flag}=${v}`),
      '--format': (v) => seen.push(`--format=${v}`),
    },
    switches: { '--unsafe': () => seen.push('--unsafe') },
    operand: (arg) => seen.push(`operand ${arg}`),
  });
  return seen;
}

describe('readFlags', () => {
  it('reads --flag VALUE, --flag=VALUE, switches and operands in order; - is an operand', () => {
    assert.deepEqual(read(['a.bt', '--node', 'h1', '--format=json', '--unsafe', '-', '--node=-x']), [
      'operand a.bt',
      '--node=h1',
      '--format=json',
      '--unsafe',
      'operand -',
      '--node=-x',
    ]);
  });

  it('after -- every argument is an operand', () => {
    assert.deepEqual(read(['--unsafe', '--', '--node', '-h']), ['--unsafe', 'operand --node', 'operand -h']);
  });

  it('with rest, what follows -- is handed over whole, not as operands', () => {
    const seen: string[] = [];
    readFlags('demo', ['a.bt', '--node', 'h1', '--', '--node', '-h', 'b.bt', '--'], {
      values: { '--node': (v) => seen.push(`--node=${v}`) },
      operand: (arg) => seen.push(`operand ${arg}`),
      rest: (args) => seen.push(`rest ${JSON.stringify(args)}`),
    });
    assert.deepEqual(seen, ['operand a.bt', '--node=h1', 'rest ["--node","-h","b.bt","--"]']);
  });

  it('says what is wrong: a missing value (a flag is not taken as one), a value on a switch, an unknown option', () => {
    for (const [args, message] of [
      [['--node'], /^--node needs a value$/],
      [['--node', '--unsafe'], /^--node needs a value$/],
      [['--node', '-v'], /^--node needs a value$/],
      [['--unsafe=yes'], /^--unsafe takes no value$/],
      [['--frobnicate=1'], /^unknown option '--frobnicate' \(see fieldtrace demo --help\)$/],
      [['-x'], /^unknown option '-x' \(see fieldtrace demo --help\)$/],
      [['--constructor'], /^unknown option '--constructor'/],
    ] as Array<[string[], RegExp]>) {
      assert.throws(
        () => read(args),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        args.join(' '),
      );
    }
  });
});
