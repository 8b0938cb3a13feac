// `fieldtrace run`'s arguments, read without running anything: every rule a user meets before a
// connection is made (the child-process tests in run.test.ts check that such errors exit 2).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError } from '../../cli/command';
import { readRunArgs } from '../../cli/commands/run';
import { LOCAL_NODE } from '../../common/nodes';
import { DEFAULT_ENVOY_ADMIN } from '../../core/listeners/admin-watch';

describe('fieldtrace run: arguments', () => {
  it('a SCRIPT alone runs on this machine with the defaults', () => {
    const args = readRunArgs(['x.bt']);
    assert.deepEqual(args.nodes, [LOCAL_NODE]);
    assert.equal(args.script, 'x.bt');
    assert.deepEqual(args.positional, []);
    assert.equal(args.listener, false);
    assert.equal(args.stacks, true);
    assert.equal(args.foldStacks, false);
    assert.equal(args.acceptNewHostKey, false);
    assert.equal(args.logDir, undefined);
    assert.deepEqual(args.envoyAdmin, DEFAULT_ENVOY_ADMIN);
  });

  it('- is the script from stdin', () => {
    assert.equal(readRunArgs(['-']).script, '-');
  });

  it('--node repeats (in order; localhost-local is this machine), in both spellings', () => {
    const args = readRunArgs(['--node', 'h1', '--node=h2', '--node', 'localhost-local', 'x.bt']);
    assert.deepEqual(args.nodes, ['h1', 'h2', LOCAL_NODE]);
  });

  it('after -- every argument is a positional parameter of the script, never an option or the SCRIPT', () => {
    const args = readRunArgs([
      '--log-dir',
      'logs',
      'x.bt',
      '--',
      '-c',
      'touch x',
      '--node',
      '-h',
      'y.bt',
      '--',
    ]);
    assert.equal(args.script, 'x.bt');
    assert.equal(args.logDir, 'logs');
    assert.deepEqual(args.nodes, [LOCAL_NODE]);
    assert.deepEqual(args.positional, ['-c', 'touch x', '--node', '-h', 'y.bt', '--']);
    assert.throws(() => readRunArgs(['--', 'x.bt']), /^Error: a SCRIPT \(or --listener-trace\) is required$/);
  });

  it('the listener trace: a target for all nodes, NODE=TARGET for one, its switches and values', () => {
    const args = readRunArgs([
      '--listener-trace',
      '--node',
      'h1',
      '--node',
      'h2',
      '--target',
      'envoy@container:1',
      '--target',
      'h2=42',
      '--no-stacks',
      '--fold-stacks',
      '--count-interval',
      '0.5',
      '--envoy-admin',
      '[::1]:9901',
      '--yes-new-host-key',
    ]);
    assert.equal(args.listener, true);
    assert.equal(args.script, undefined);
    assert.equal(args.target, 'envoy@container:1');
    assert.deepEqual([...args.nodeTargets], [['h2', '42']]);
    assert.equal(args.stacks, false);
    assert.equal(args.foldStacks, true);
    assert.equal(args.countIntervalMs, 500);
    assert.deepEqual(args.envoyAdmin, { host: '::1', port: 9901 });
    assert.equal(args.acceptNewHostKey, true);
    assert.equal(readRunArgs(['--listener-trace', '--envoy-admin', 'none']).envoyAdmin, undefined);
    assert.equal(readRunArgs(['--fold-stacks', 'x.bt']).foldStacks, true);
  });

  it('says what is wrong, before any connection', () => {
    for (const [args, message] of [
      [[], /^a SCRIPT \(or --listener-trace\) is required$/],
      [['a.bt', 'b.bt'], /^one script only \(got 'a\.bt' and 'b\.bt'\); pass script arguments after --$/],
      [['--listener-trace', 'x.bt'], /^give either --listener-trace or a SCRIPT, not both$/],
      [['--target', 'envoy', 'x.bt'], /^--target only applies to --listener-trace$/],
      [['--target', 'local=envoy', 'x.bt'], /^--target only applies to --listener-trace$/],
      [['--no-stacks', 'x.bt'], /^--no-stacks only applies to --listener-trace$/],
      [['--count-interval', '1', 'x.bt'], /^--count-interval only applies to --listener-trace$/],
      [['--envoy-admin', 'none', 'x.bt'], /^--envoy-admin only applies to --listener-trace$/],
      [
        ['--listener-trace', '--count-interval', 'soon'],
        /^--count-interval wants seconds from 0\.01 to 3600, got 'soon'$/,
      ],
      [['--listener-trace', '--count-interval', '0.001'], /^--count-interval wants seconds from 0\.01/],
      [['--listener-trace', '--count-interval', '3601'], /^--count-interval wants seconds from 0\.01/],
      [
        ['--listener-trace', '--envoy-admin', 'localhost:1'],
        /^--envoy-admin wants IP:PORT \(\[IPv6\]:PORT\) or none, got 'localhost:1'$/,
      ],
      [['--listener-trace', '--target', 'container:x'], /^--target: /],
      [['--listener-trace', '--target', 'o"brien'], /^--target: /],
      [['--listener-trace', '--target', 'h1=container:x', '--node', 'h1'], /^--target: /],
      [['--node', 'h1', '--node', 'h1', 'x.bt'], /^--node h1 is given twice$/],
      [['--node', 'localhost-local', 'x.bt', '--node', 'local'], /^--node local is given twice$/],
      [
        ['--listener-trace', '--node', 'h1', '--target', 'h2=envoy'],
        /^--target h2=…: h2 is not one of the --node values$/,
      ],
      [['--listener-trace', '--target', 'h1=envoy'], /^--target h1=…: h1 is not one of the --node values$/],
      [['x.bt', '--node'], /^--node needs a value$/],
      [['x.bt', '--log-dir'], /^--log-dir needs a value$/],
      [['--bogus', 'x.bt'], /^unknown option '--bogus' \(see fieldtrace run --help\)$/],
      [['-x'], /^unknown option '-x' \(see fieldtrace run --help\)$/],
    ] as Array<[string[], RegExp]>) {
      assert.throws(
        () => readRunArgs(args),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        args.join(' '),
      );
    }
  });
});
