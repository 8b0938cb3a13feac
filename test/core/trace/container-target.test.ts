// Targets as typed (name, pid, container:PID, NAME@container:PID), and a container target on
// real bpftrace: two mini-Envoys with the same name, one in a cgroup v2 of its own (as a pod's
// container is); only the one inside is traced.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { localRunner } from '../../../core/nodes/commands';
import {
  cgroupV2Mount,
  cgroupV2Path,
  describeProcess,
  describeTarget,
  parseTargetSpec,
  resolveContainer,
  resolveTarget,
} from '../../../core/trace/target';
import { acceptsOf, localBpftraceVersion, traceListeners, untilEvents } from '../../helpers/listener-trace';
import { type MiniEnvoy, startMiniEnvoy } from '../../targets/mini-envoy';
import { connectAndClose } from '../../helpers/net';

describe('listener trace targets as typed', () => {
  it('reads names, pids and containers, and says what is wrong', () => {
    assert.deepEqual(parseTargetSpec(' envoy '), { comm: 'envoy' });
    assert.deepEqual(parseTargetSpec('4242'), { pid: 4242 });
    assert.deepEqual(parseTargetSpec('container:4242'), { containerOf: 4242 });
    assert.deepEqual(parseTargetSpec('envoy@container:4242'), { comm: 'envoy', containerOf: 4242 });
    assert.deepEqual(parseTargetSpec('pilot-agent@container:7'), { comm: 'pilot-agent', containerOf: 7 });
    assert.match((parseTargetSpec('') as { error: string }).error, /a process name/);
    assert.match(
      (parseTargetSpec('container:abc') as { error: string }).error,
      /pid of a process in the container/,
    );
    assert.match(
      (parseTargetSpec('@container:1') as { error: string }).error,
      /name before @container: is empty/,
    );
    assert.match((parseTargetSpec('0') as { error: string }).error, /not a process id/);
    assert.equal(describeTarget({ comm: 'envoy', containerOf: 9 }), 'envoy in the container of 9');
    assert.equal(describeTarget({ pid: 9 }), 'pid 9');
  });

  it('finds the cgroup v2 path and mount, unified or hybrid', () => {
    assert.equal(
      cgroupV2Path('12:memory:/kubepods/x\n0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope\n'),
      '/kubepods.slice/kubepods-pod1.slice/cri-containerd-ab.scope',
    );
    assert.equal(cgroupV2Path('4:memory:/x\n'), undefined);
    assert.equal(cgroupV2Mount('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n'), '/sys/fs/cgroup');
    assert.equal(
      cgroupV2Mount(
        'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n',
      ),
      '/sys/fs/cgroup/unified',
    );
  });
});

const version = localBpftraceVersion;
const mount = cgroupV2Mount(readFileSync('/proc/self/mounts', 'utf8'));
const skipReal =
  process.env.CI !== 'true' && (process.getuid?.() !== 0 || !version || !mount)
    ? 'needs root, bpftrace and a cgroup2 mount'
    : false;

describe('a container target on real bpftrace', { skip: skipReal }, () => {
  for (const typed of ['container', 'envoy@container', 'envoy'])
    it(`${typed === 'envoy' ? 'envoy (both already running)' : `${typed}:PID`} follows ${typed === 'envoy' ? 'every envoy' : 'only the processes of that cgroup'}`, async (t) => {
      assert.ok(mount, 'a cgroup2 mount');
      const cgroupDir = path.join(mount, `fieldtrace-test-${process.pid}-${typed.length}`);
      mkdirSync(cgroupDir);
      // node:test runs after-hooks in the order they were added: the targets stop, then the
      // emptied cgroup goes.
      const started: MiniEnvoy[] = [];
      t.after(async () => {
        for (const envoy of started) await envoy.stop();
        for (let i = 0; ; i++) {
          try {
            rmdirSync(cgroupDir);
            return;
          } catch (error) {
            if (i === 50) throw new Error(`${cgroupDir} left behind: ${String(error)}`);
            await new Promise((r) => setTimeout(r, 100));
          }
        }
      });
      // The shell joins the cgroup, then execs the target: everything it starts is inside.
      const inside = await startMiniEnvoy({
        concurrency: 2,
        prefix: ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroupDir],
      });
      started.push(inside);
      const outside = await startMiniEnvoy({ concurrency: 2 });
      started.push(outside);

      const container = await resolveContainer(localRunner, inside.pid);
      assert.equal(container.path, `/${path.basename(cgroupDir)}`);
      assert.equal(container.id, statSync(cgroupDir).ino);
      // What the process picker offers: its name and its container; the other one has none.
      assert.deepEqual(await describeProcess(localRunner, inside.pid), {
        pid: inside.pid,
        comm: 'envoy',
        container,
      });
      assert.deepEqual(await describeProcess(localRunner, outside.pid), { pid: outside.pid, comm: 'envoy' });
      const spec = parseTargetSpec(typed === 'envoy' ? typed : `${typed}:${inside.pid}`);
      assert.ok(!('error' in spec));
      const { target, runningPids } = await resolveTarget(spec, localRunner);
      assert.equal(target.cgroupId, typed === 'envoy' ? undefined : container.id);
      assert.equal(target.comm, typed.startsWith('envoy') ? 'envoy' : undefined);
      // Both envoys run already: a name target adopts them at BEGIN (the cgroup still filters).
      if (target.comm)
        assert.deepEqual([inside.pid, outside.pid].filter((p) => runningPids.includes(p)).length, 2);

      const events = await traceListeners(t, { target, runningPids, withStacks: false });

      // The outside one first: had it been traced, its accepts would come before the inside's.
      for (let i = 0; i < 3; i++) await connectAndClose(outside.ports[0] as number);
      for (let i = 0; i < 3; i++) await connectAndClose(inside.ports[0] as number);
      await untilEvents(
        'three accepts inside the container',
        () => acceptsOf(events, inside.pid) >= 3,
        events,
      );
      for (let i = 0; i < 3; i++) await connectAndClose(outside.ports[0] as number);
      await new Promise((r) => setTimeout(r, 500));
      const pids = new Set(events.flatMap((e) => ('pid' in e && typeof e.pid === 'number' ? [e.pid] : [])));
      if (typed === 'envoy') {
        // Already running when the trace started: adopted at BEGIN, worker accepts included.
        await untilEvents(
          'accepts of the outside envoy too',
          () => acceptsOf(events, outside.pid) > 0,
          events,
        );
        assert.ok(pids.has(inside.pid));
      } else assert.deepEqual([...pids], [inside.pid], 'only the process in the container');
    });
});
