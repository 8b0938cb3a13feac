import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Dialect, FEATURES } from '../../server/analysis/dialects';

test('versions: clamping and unsupported versions', () => {
  assert.equal(new Dialect('0.14').minor, 17);
  assert.match(new Dialect('0.14').unsupported ?? '', /not supported.*checking as 0\.17/);
  assert.equal(new Dialect('v0.23.2').name, '0.23');
  // Newer than the newest release: bpftrace's development branch as last read.
  assert.equal(new Dialect('1.2').name, 'main');
  assert.equal(new Dialect('main').name, 'main');
  assert.equal(new Dialect('0.26.1').name, '0.26');
  assert.equal(new Dialect('').unsupported, undefined);
});

test('the feature table answers per version', () => {
  const at = (v: string) => new Dialect(v);
  assert.equal(at('0.18').has('argsDot'), false);
  assert.equal(at('0.19').has('argsDot'), true);
  assert.equal(at('0.19').has('config'), false);
  assert.equal(at('0.20').has('config'), true);
  assert.equal(at('0.21').has('forMap'), true);
  assert.equal(at('0.21').has('let'), false);
  assert.equal(at('0.22').has('blockScoping'), true);
  assert.equal(at('0.23').has('forRange'), false);
  assert.equal(at('0.24').has('forRange'), true);
  assert.equal(at('0.24').has('shortInterval'), true);
  assert.equal(at('0.24').has('sargs'), true);
  assert.equal(at('0.25').has('sargs'), false);
  assert.equal(at('0.25').deprecated('whileLoop'), true);
  assert.equal(at('0.24').has('ifWithoutParens'), false);
  assert.equal(at('0.25').has('forWithoutParens'), true);
  assert.equal(at('0.26').func('str_concat'), undefined);
  assert.ok(at('main').func('str_concat'));
  assert.ok(Object.keys(FEATURES).length >= 25);
});

test('probe names, arities and function arities per version', () => {
  const v17 = new Dialect('0.17');
  const v26 = new Dialect('0.26');
  assert.equal(v17.probe('fentry'), undefined);
  assert.equal(v17.probe('kfunc')?.name, 'fentry');
  assert.equal(v17.probeName(v17.probe('kfunc')!), 'kfunc');
  assert.equal(v26.probe('fentry')?.name, 'fentry');
  assert.equal(v17.probe('begin'), undefined);
  assert.equal(v26.probe('begin')?.name, 'BEGIN');
  assert.deepEqual(v17.partsRange(v17.probe('interval')!), [2, 2]);
  assert.deepEqual(v26.partsRange(v26.probe('interval')!), [1, 2]);
  assert.deepEqual(v17.arity(v17.func('exit')!), [0, 0]);
  assert.deepEqual(v26.arity(v26.func('exit')!), [0, 1]);
  assert.equal(v17.func('has_key'), undefined);
  assert.equal(v17.builtin('jiffies'), undefined);
  assert.ok(v26.builtin('jiffies'));
});
