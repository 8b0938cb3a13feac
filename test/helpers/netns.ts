// Network namespaces made by a test, each joined to this machine by a veth pair on its own /30:
// a "node" of a fleet that is reachable from here and nowhere else, with loopback of its own.
import { execFileSync } from 'node:child_process';

export interface TestNetns {
  name: string;
  /** This machine's end of the veth pair. */
  hostAddress: string;
  /** The namespace's own address, reachable from this machine. */
  address: string;
  /** `ip netns exec NAME`: put before a command to run it inside (it execs, keeping the pid). */
  prefix: string[];
  remove(): void;
}

/** True when namespaces can be made here; with CI=true a missing `ip` or root is a failure. */
export function netnsAvailable(): boolean {
  let ok = process.getuid?.() === 0;
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    ok = false;
  }
  if (!ok && process.env.CI === 'true') throw new Error('ip (iproute2) missing or not root, and CI=true');
  return ok;
}

/** Makes namespace number `index` (0..63) of this test process; names carry the pid. */
export function createNetns(index: number): TestNetns {
  const tag = `${process.pid % 100000}x${index}`;
  const name = `ft-${tag}`;
  const outside = `ftv${tag}a`;
  const inside = `ftv${tag}b`;
  // 10.231.0.0/16, one /30 per (pid, index): pid bits keep parallel test processes apart.
  const subnet = ((process.pid % 256) * 64 + index) * 4;
  const octet3 = Math.floor(subnet / 256) % 256;
  const octet4 = subnet % 256;
  const hostAddress = `10.231.${octet3}.${octet4 + 1}`;
  const address = `10.231.${octet3}.${octet4 + 2}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const remove = () => {
    try {
      ip('netns', 'del', name);
    } catch {
      // already gone
    }
    try {
      ip('link', 'del', outside);
    } catch {
      // deleted with the namespace
    }
  };
  remove();
  ip('netns', 'add', name);
  try {
    ip('link', 'add', outside, 'type', 'veth', 'peer', 'name', inside);
    ip('link', 'set', inside, 'netns', name);
    ip('addr', 'add', `${hostAddress}/30`, 'dev', outside);
    ip('link', 'set', outside, 'up');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', `${address}/30`, 'dev', inside);
    ip('netns', 'exec', name, 'ip', 'link', 'set', inside, 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
  } catch (error) {
    remove();
    throw error;
  }
  return { name, hostAddress, address, prefix: ['ip', 'netns', 'exec', name], remove };
}
