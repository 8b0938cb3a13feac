// The one bpftrace version reader, on what each of its callers hands it: `bpftrace --version`
// output of several releases and distributions, the version setting, and texts without a version.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atLeastBpftrace, bpftraceVersionName, parseBpftraceVersion } from '../../common/bpftrace-version';

test('reads what bpftrace --version prints and what a setting says', () => {
  assert.deepEqual(parseBpftraceVersion('bpftrace v0.17.0\n'), { major: 0, minor: 17, patch: 0 });
  assert.deepEqual(parseBpftraceVersion('bpftrace v0.21.2-1'), { major: 0, minor: 21, patch: 2 });
  assert.deepEqual(parseBpftraceVersion('bpftrace v0.20.0-123-gabcdef'), { major: 0, minor: 20, patch: 0 });
  assert.deepEqual(parseBpftraceVersion('0.17'), { major: 0, minor: 17, patch: 0 });
  assert.deepEqual(parseBpftraceVersion('v0.23'), { major: 0, minor: 23, patch: 0 });
  assert.equal(bpftraceVersionName(parseBpftraceVersion('bpftrace v0.26.1')!), '0.26.1');
});

test('a text without a version is none', () => {
  assert.equal(parseBpftraceVersion(undefined), undefined);
  assert.equal(parseBpftraceVersion(''), undefined);
  assert.equal(parseBpftraceVersion('latest'), undefined);
  assert.equal(parseBpftraceVersion('bpftrace: command not found'), undefined);
});

test('compares by major, then minor', () => {
  const v = parseBpftraceVersion('0.19.1')!;
  assert.equal(atLeastBpftrace(v, 0, 19), true);
  assert.equal(atLeastBpftrace(v, 0, 20), false);
  assert.equal(atLeastBpftrace(v, 0, 17), true);
  assert.equal(atLeastBpftrace({ major: 1, minor: 0, patch: 0 }, 0, 26), true);
});
