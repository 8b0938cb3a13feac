// Test harness: a real OpenSSH sshd on 127.0.0.1 (free port, throwaway ed25519 keys) and a
// temporary HOME with its own ~/.ssh/config, known_hosts and client key. SSH_AUTH_SOCK is never
// used: tests get `env.agentSocket === undefined` unless they start their own agent.
// Always `await harness.stop()` (t.after): it stops sshd and removes every file it made.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
  appendFileSync,
  chmodSync,
} from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshEnvironment } from '../../core/ssh/config';
import { addKnownHost, fingerprintSha256, keyTypeOf } from '../../core/ssh/known-hosts';
import { freePort } from './net';
import { descendantsNamed } from './processes';

export const SSHD = '/usr/sbin/sshd';

/** True when sshd can run here; with CI=true a missing sshd is a failure, not a skip. */
export function sshdAvailable(): boolean {
  const ok = existsSync(SSHD) && existsSync('/usr/bin/ssh-keygen') && process.getuid?.() === 0;
  if (!ok && process.env.CI === 'true') throw new Error('sshd/ssh-keygen missing or not root, and CI=true');
  return ok;
}

export interface SshdHarness {
  port: number;
  /** Temporary HOME of the SSH client side (.ssh/config, known_hosts, id_ed25519). */
  home: string;
  env: SshEnvironment;
  /** The Host alias written to the config for root@127.0.0.1:port. */
  alias: string;
  /**
   * The system-wide known_hosts of this client (GlobalKnownHostsFile, set for every host in the
   * config): a harness file, empty at first, so that tests never read the machine's own.
   */
  globalKnownHosts: string;
  /** Client private key authorized for every user the harness knows. */
  clientKey: string;
  hostKeyFingerprint: string;
  /** The server's host key blob (as an SSH client receives it). */
  hostKeyBlob: Buffer;
  /** Appends `Host <alias>` with directives to ~/.ssh/config (values are written as given). */
  addHost(alias: string, directives: Record<string, string>): void;
  /** `Host <alias>`: this sshd on 127.0.0.1 as `user` with the client key, plus `extra` directives. */
  addLoopbackHost(alias: string, user?: string, extra?: Record<string, string>): void;
  /** Records the real host key in known_hosts (hashed like Debian's default, or plain). */
  trustHostKey(hashed?: boolean): void;
  /** Records a different key of the same type for the host (a "changed" key). */
  trustWrongHostKey(): void;
  clearKnownHosts(): void;
  /** Lets the client key log in as `user`. */
  authorize(user: string): void;
  /** Adds sshd_config lines (e.g. a `Match User` block) and restarts sshd on the same port. */
  reconfigure(extra: string): Promise<void>;
  /** Working folder of the harness (removed by stop()). */
  dir: string;
  /** Processes named `comm` started under this sshd (bpftrace runs of its sessions). */
  processesNamed(comm: string): number[];
  stop(): Promise<void>;
}

/** Resolves once the port answers with an SSH banner. */
async function waitForBanner(
  address: string,
  port: number,
  deadlineMs: number,
  child: ChildProcess,
  log: () => string,
): Promise<void> {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    if (child.exitCode !== null) throw new Error(`sshd exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, address);
      s.setTimeout(1000);
      s.once('data', (d) => {
        s.destroy();
        resolve(d.toString().startsWith('SSH-'));
      });
      s.once('error', () => resolve(false));
      s.once('timeout', () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`sshd did not answer on ${address}:${port}: ${log()}`);
}

export interface SshdOptions {
  alias?: string;
  trust?: boolean;
  /** false: no SFTP subsystem */
  sftp?: boolean;
  /** Runs sshd inside this network namespace (the test made it), listening on `address`. */
  netns?: string;
  /** Listen address (default 127.0.0.1; inside `netns`, the namespace's own address). */
  address?: string;
  /** The client side (HOME, .ssh/config, known_hosts, key) of another harness, for a fleet. */
  clientOf?: SshdHarness;
  /** Sessions see no bpftrace: /usr/bin/bpftrace is covered in sshd's own mount namespace. */
  hideBpftrace?: boolean;
}

export async function startSshd(options: SshdOptions = {}): Promise<SshdHarness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fieldtrace-sshd-'));
  chmodSync(dir, 0o755); // other test users must reach their authorized_keys below
  const address = options.address ?? '127.0.0.1';
  const home = options.clientOf?.home ?? path.join(dir, 'home');
  const sshDir = path.join(home, '.ssh');
  const authDir = path.join(dir, 'authorized');
  mkdirSync(sshDir, { recursive: true, mode: 0o700 });
  mkdirSync(authDir, { mode: 0o755 });
  mkdirSync('/run/sshd', { recursive: true });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  const clientKey = options.clientOf?.clientKey ?? path.join(sshDir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fieldtrace-host', '-f', hostKey]);
  if (!options.clientOf)
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'fieldtrace-client', '-f', clientKey]);
  const hostKeyBlob = Buffer.from(readFileSync(`${hostKey}.pub`, 'utf8').split(/\s+/)[1] ?? '', 'base64');
  const clientPub = readFileSync(`${clientKey}.pub`, 'utf8');
  const port = options.netns ? 22 : await freePort();
  const alias = options.alias ?? 'fieldtrace-test';
  const baseConfig = [
    `Port ${port}`,
    `ListenAddress ${address}`,
    `HostKey ${hostKey}`,
    `AuthorizedKeysFile ${authDir}/%u`,
    `PidFile ${dir}/sshd.pid`,
    'UsePAM no',
    'StrictModes no',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'AllowTcpForwarding yes',
    options.sftp === false ? '' : 'Subsystem sftp internal-sftp',
    'LogLevel ERROR',
  ].join('\n');
  const configFile = path.join(dir, 'sshd_config');
  let extraConfig = '';
  let child: ChildProcess | undefined;
  let stderr = '';

  const launch = async () => {
    writeFileSync(configFile, `${baseConfig}\n${extraConfig}\n`);
    stderr = '';
    const sshd = [SSHD, '-D', '-e', '-f', configFile];
    // `ip netns exec` gives sshd a mount namespace of its own with a fresh /sys: tracefs is
    // mounted again there, and a hidden bpftrace is covered there only.
    const setup = [
      options.netns ? 'mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null' : '',
      options.hideBpftrace ? 'mount --bind /dev/null /usr/bin/bpftrace' : '',
    ].filter(Boolean);
    const wrapped = setup.length ? ['sh', '-c', `${setup.join(' && ')}; exec "$@"`, 'sh', ...sshd] : sshd;
    const argv = options.netns
      ? ['ip', 'netns', 'exec', options.netns, ...wrapped]
      : options.hideBpftrace
        ? ['unshare', '-m', '--propagation', 'private', ...wrapped]
        : sshd;
    const c = spawn(argv[0] ?? SSHD, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    child = c;
    await waitForBanner(address, port, 10_000, c, () => stderr);
  };
  const halt = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once('exit', r));
    c.kill('SIGTERM');
    await gone;
  };

  const harness: SshdHarness = {
    port,
    home,
    dir,
    env: { home, agentSocket: undefined, localUser: 'root' },
    alias,
    clientKey,
    hostKeyFingerprint: fingerprintSha256(hostKeyBlob),
    hostKeyBlob,
    globalKnownHosts: path.join(dir, 'global_known_hosts'),
    addHost(hostAlias, directives) {
      const lines = Object.entries(directives).map(([k, v]) => `  ${k} ${v}`);
      appendFileSync(path.join(sshDir, 'config'), `Host ${hostAlias}\n${lines.join('\n')}\n\n`, {
        mode: 0o600,
      });
    },
    addLoopbackHost(hostAlias, user = 'root', extra = {}) {
      harness.addHost(hostAlias, {
        HostName: address,
        Port: String(port),
        User: user,
        IdentityFile: clientKey,
        ...extra,
      });
    },
    trustHostKey(hashed = true) {
      addKnownHost(
        path.join(sshDir, 'known_hosts'),
        address,
        port,
        { type: keyTypeOf(hostKeyBlob), blob: hostKeyBlob },
        hashed,
      );
    },
    trustWrongHostKey() {
      const other = path.join(dir, `other_${Date.now()}`);
      execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', other]);
      const blob = Buffer.from(readFileSync(`${other}.pub`, 'utf8').split(/\s+/)[1] ?? '', 'base64');
      addKnownHost(path.join(sshDir, 'known_hosts'), address, port, { type: 'ssh-ed25519', blob }, false);
    },
    processesNamed(comm) {
      const root = child?.pid;
      return root === undefined ? [] : descendantsNamed(root, comm);
    },
    clearKnownHosts() {
      rmSync(path.join(sshDir, 'known_hosts'), { force: true });
    },
    authorize(user) {
      writeFileSync(path.join(authDir, user), clientPub, { mode: 0o644 });
    },
    async reconfigure(extra) {
      extraConfig += `${extra}\n`;
      await halt();
      await launch();
    },
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  harness.authorize('root');
  // First in the file, so it applies to every Host below (the first value obtained wins).
  harness.addHost('*', { GlobalKnownHostsFile: harness.globalKnownHosts });
  harness.addLoopbackHost(alias);
  if (options.trust !== false) harness.trustHostKey();
  try {
    await launch();
  } catch (error) {
    await harness.stop();
    throw error;
  }
  return harness;
}
