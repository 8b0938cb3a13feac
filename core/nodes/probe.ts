// What a node offers for tracing, found once per connection and cached per host: bpftrace and
// its version, kernel release, root or passwordless sudo, tracefs and BTF. Every gap comes with
// a message that says what to install or configure.
import { bpftraceVersionName, parseBpftraceVersion } from '../../common/bpftrace-version';
import { shellCommand } from './shell';
import { execOnNode, type NodeTransport } from './transport';
import { nodeInText } from '../../common/nodes';

export interface NodeProbe {
  nodeId: string;
  /** Login user on the node. */
  user: string;
  uid: number;
  kernelRelease: string;
  /** How bpftrace gets its privileges; undefined when it cannot get them. */
  privilege?: 'root' | 'sudo';
  /** Where bpftrace was found (in root's PATH when running through sudo). */
  bpftracePath?: string;
  /** e.g. "0.17.0" from `bpftrace v0.17.0`. */
  bpftraceVersion?: string;
  /** First line of `bpftrace --version`, as printed. */
  bpftraceVersionText?: string;
  tracefs?: string;
  btf: boolean;
  /** Clear, actionable reasons why a trace cannot run; empty when it can. */
  problems: string[];
}

// Fixed text: nothing from the user or the node's config is spliced into it.
const PROBE = `echo "user=$(id -un)"
echo "uid=$(id -u)"
echo "kernel=$(uname -r)"
echo "path=$PATH"
if p=$(command -v bpftrace 2>/dev/null); then
  echo "bpftrace=$p"
  echo "version=$(bpftrace --version 2>&1 | head -n 1)"
fi
t=$(awk '$3 == "tracefs" { print $2; exit }' /proc/mounts 2>/dev/null)
if [ -n "$t" ] && [ -e "$t/events" ]; then echo "tracefs=$t"; fi
if [ -e /sys/kernel/btf/vmlinux ]; then echo btf=yes; else echo btf=no; fi
if [ "$(id -u)" != 0 ]; then
  if sudo -n true 2>/dev/null; then echo sudo=yes; else echo sudo=no; fi
fi`;

function parseProbe(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const line of text.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  return values;
}

export async function probeNode(transport: NodeTransport): Promise<NodeProbe> {
  const asUser = await execOnNode(transport, shellCommand(['/bin/sh', '-c', PROBE]), { timeoutMs: 20_000 });
  if (asUser.code !== 0 && !asUser.stdout)
    throw new Error(
      `${transport.nodeId}: the node probe failed: ${asUser.stderr.trim() || `exit ${asUser.code}`}`,
    );
  let v = parseProbe(asUser.stdout);
  const uid = Number(v.get('uid'));
  const user = v.get('user') ?? '?';
  let privilege: NodeProbe['privilege'];
  if (uid === 0) privilege = 'root';
  else if (v.get('sudo') === 'yes') {
    privilege = 'sudo';
    // Through sudo, bpftrace comes from root's secure_path and tracefs is visible: probe as root.
    const asRoot = await execOnNode(transport, shellCommand(['sudo', '-n', '--', '/bin/sh', '-c', PROBE]), {
      timeoutMs: 20_000,
    });
    if (asRoot.code === 0)
      v = new Map([...parseProbe(asRoot.stdout)].filter(([k]) => !['user', 'uid'].includes(k)));
  }
  const versionText = v.get('version');
  const version = parseBpftraceVersion(versionText);
  const probe: NodeProbe = {
    nodeId: transport.nodeId,
    user,
    uid,
    kernelRelease: v.get('kernel') ?? '',
    privilege,
    bpftracePath: v.get('bpftrace'),
    bpftraceVersionText: versionText,
    bpftraceVersion: version && bpftraceVersionName(version),
    tracefs: v.get('tracefs'),
    btf: v.get('btf') === 'yes',
    problems: [],
  };
  const node = nodeInText(transport.nodeId);
  if (!probe.bpftracePath)
    probe.problems.push(
      `bpftrace is not installed on ${node} (not found in PATH ${v.get('path') ?? '?'}${privilege === 'sudo' ? ' of sudo' : ''}): install it, e.g. \`apt-get install bpftrace\` (Debian/Ubuntu) or \`dnf install bpftrace\` (Fedora/RHEL).`,
    );
  else if (!probe.bpftraceVersion)
    probe.problems.push(
      `bpftrace on ${node} (${probe.bpftracePath}) did not report a version: \`bpftrace --version\` printed '${versionText ?? ''}'.`,
    );
  if (!privilege)
    probe.problems.push(
      `${user} on ${node} is not root and cannot use \`sudo -n\` (passwordless sudo): connect as root, or allow passwordless sudo for ${user} (e.g. \`${user} ALL=(root) NOPASSWD: ALL\` in /etc/sudoers.d/).`,
    );
  else if (!probe.tracefs)
    probe.problems.push(
      `tracefs is not mounted on ${node}: mount it with \`mount -t tracefs nodev /sys/kernel/tracing\` (tracepoints need it).`,
    );
  return probe;
}

/** Probes each host once; a new connection to the same host reuses the answer until forgotten. */
export class NodeProbeCache {
  private readonly probes = new Map<string, Promise<NodeProbe>>();

  get(transport: NodeTransport): Promise<NodeProbe> {
    let probe = this.probes.get(transport.nodeId);
    if (!probe) {
      probe = probeNode(transport);
      this.probes.set(transport.nodeId, probe);
      probe.catch(() => this.probes.delete(transport.nodeId));
    }
    return probe;
  }

  forget(nodeId?: string): void {
    if (nodeId === undefined) this.probes.clear();
    else this.probes.delete(nodeId);
  }
}

/** `bpftrace -lv 'tracepoint:*'` on the node, cached per host and kernel release. */
export class TracepointCatalogCache {
  private readonly listings = new Map<string, Promise<string>>();

  get(transport: NodeTransport, probe: NodeProbe): Promise<string> {
    const key = `${transport.nodeId}\n${probe.kernelRelease}`;
    let listing = this.listings.get(key);
    if (!listing) {
      listing = fetchTracepointListing(transport, probe);
      this.listings.set(key, listing);
      listing.catch(() => this.listings.delete(key));
    }
    return listing;
  }
}

export async function fetchTracepointListing(transport: NodeTransport, probe: NodeProbe): Promise<string> {
  if (!probe.privilege || !probe.bpftracePath) throw new Error(probe.problems.join(' '));
  const words = [probe.bpftracePath, '-lv', 'tracepoint:*'];
  const command = shellCommand(probe.privilege === 'sudo' ? ['sudo', '-n', '--', ...words] : words);
  const result = await execOnNode(transport, command, { timeoutMs: 60_000 });
  if (result.code !== 0 || !result.stdout.trim())
    throw new Error(
      `${transport.nodeId}: listing tracepoints failed: ${result.stderr.trim().slice(0, 300) || `exit ${result.code}`}`,
    );
  return result.stdout;
}
