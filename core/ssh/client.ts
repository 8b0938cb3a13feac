// SSH connections with ssh2: agent first, then identity files (passphrases through a callback),
// host keys checked against known_hosts with the decision on unknown keys left to the caller.
// Nothing here accepts a key on its own: unknown -> ask, changed or revoked -> refuse.
import { readFileSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import {
  Client,
  type AnyAuthMethod,
  type ClientChannel,
  type SFTPWrapper,
  type ServerHostKeyAlgorithm,
  utils,
} from 'ssh2';
import { shellQuote } from '../nodes/shell';
import { execOnNode, type NodeProcess, type NodeTransport, type ProcessExit } from '../nodes/transport';
import {
  defaultIdentityFiles,
  loadSshConfig,
  resolveSshHost,
  type SshEnvironment,
  type SshHost,
} from './config';
import {
  addKnownHost,
  changedKeyWarning,
  checkHostKey,
  fingerprintSha256,
  keyTypeOf,
  knownHostsName,
  knownKeyTypes,
} from './known-hosts';
import { type ProxyProcess, startProxyCommand } from './proxy-command';

export interface UnknownHostKey {
  /** The destination as the user named it. */
  alias: string;
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:…`, as OpenSSH shows it. */
  fingerprint: string;
}

export interface SshCallbacks {
  /** Asked for a key not in known_hosts; resolve true only if the user accepted it. */
  confirmUnknownHostKey(prompt: UnknownHostKey): Promise<boolean>;
  /** Passphrase of an encrypted identity file; undefined = skip this key. */
  askPassphrase?(keyFile: string, previousAttemptFailed: boolean): Promise<string | undefined>;
  /** The passphrase decrypted the key (the extension keeps it in SecretStorage). */
  passphraseAccepted?(keyFile: string, passphrase: string): void;
  /** A remembered passphrase no longer works (forget it). */
  passphraseRejected?(keyFile: string): void;
}

export class HostKeyError extends Error {
  constructor(
    message: string,
    readonly reason: 'changed' | 'revoked' | 'rejected',
  ) {
    super(message);
  }
}

export interface ConnectOptions {
  env: SshEnvironment;
  callbacks: SshCallbacks;
  readyTimeoutMs?: number;
  /** Seconds between keepalives; a dead link is noticed after three misses. */
  keepaliveSeconds?: number;
  /** Environment of ProxyCommand processes (`SHELL` picks the shell); default: this process's. */
  proxyEnv?: NodeJS.ProcessEnv;
}

const DEFAULT_HOST_KEY_ORDER = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

/** Prefers key types already on record, as OpenSSH does, so a host with several keys is not "unknown". */
function hostKeyOrder(known: string[]): ServerHostKeyAlgorithm[] {
  const preferred = known.flatMap((t) =>
    t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t],
  );
  return [
    ...new Set([...preferred.filter((t) => DEFAULT_HOST_KEY_ORDER.includes(t)), ...DEFAULT_HOST_KEY_ORDER]),
  ] as ServerHostKeyAlgorithm[];
}

type AuthStep = () => Promise<AnyAuthMethod | undefined>;

function authSteps(host: SshHost, options: ConnectOptions): { steps: AuthStep[]; tried: string[] } {
  const tried: string[] = [];
  const steps: AuthStep[] = [];
  const username = host.user;
  if (options.env.agentSocket) {
    const agent = options.env.agentSocket;
    steps.push(async () => {
      tried.push('ssh-agent');
      return { type: 'agent', username, agent };
    });
  }
  const files = host.identityFiles.length ? host.identityFiles : defaultIdentityFiles(options.env);
  for (const file of files) {
    steps.push(async () => {
      let data: Buffer;
      try {
        data = readFileSync(file);
      } catch {
        return undefined; // OpenSSH skips identity files that do not exist, too
      }
      let parsed = utils.parseKey(data);
      let failed = false;
      for (
        let attempt = 0;
        parsed instanceof Error && /passphrase|encrypt|decrypt/i.test(parsed.message);
        attempt++
      ) {
        if (attempt >= 3 || !options.callbacks.askPassphrase) {
          tried.push(`${file} (encrypted: ${attempt >= 3 ? 'wrong passphrase' : 'add it to ssh-agent'})`);
          return undefined;
        }
        const passphrase = await options.callbacks.askPassphrase(file, failed);
        if (passphrase === undefined) {
          tried.push(`${file} (encrypted: no passphrase given)`);
          return undefined;
        }
        parsed = utils.parseKey(data, passphrase);
        failed = parsed instanceof Error;
        if (failed) options.callbacks.passphraseRejected?.(file);
        else options.callbacks.passphraseAccepted?.(file, passphrase);
      }
      if (parsed instanceof Error) {
        tried.push(`${file} (unreadable: ${parsed.message})`);
        return undefined;
      }
      tried.push(file);
      const key = Array.isArray(parsed) ? parsed[0] : parsed;
      return key ? { type: 'publickey', username, key } : undefined;
    });
  }
  return { steps, tried };
}

/**
 * The line sshd hands to the user's login shell (`$SHELL -c LINE`), which may be fish, tcsh or
 * anything else with its own quoting rules. Only base64 letters and a fixed frame cross it: the
 * command itself is decoded and run by /bin/sh on the node, so no login shell ever parses it.
 * The frame is one line of words, single quotes without backslashes, `!` or newlines, which sh,
 * bash, zsh, fish and csh/tcsh all read the same way.
 */
export function loginShellLine(command: string): string {
  const encoded = Buffer.from(command, 'utf8').toString('base64');
  return `exec /bin/sh -c 'eval "$(echo ${encoded} | base64 -d)"'`;
}

/** One SSH connection to a node; also the transport the runner and the probe use. */
export class SshConnection implements NodeTransport {
  readonly closed: Promise<void>;
  private sftpSession: Promise<SFTPWrapper> | undefined;

  constructor(
    readonly nodeId: string,
    readonly host: SshHost,
    private readonly client: Client,
    private readonly jumps: SshConnection[],
  ) {
    this.closed = new Promise((resolve) => client.once('close', () => resolve()));
  }

  spawn(command: string): Promise<NodeProcess> {
    const line = loginShellLine(command);
    return new Promise((resolve, reject) => {
      this.client.exec(line, (error, channel: ClientChannel) => {
        if (error) return reject(new Error(`${this.nodeId}: cannot start a command: ${error.message}`));
        let exit: ProcessExit = { code: null, signal: null };
        channel.on('exit', (code: number | null, signal?: string) => {
          exit = { code: typeof code === 'number' ? code : null, signal: signal ?? null };
        });
        const exited = new Promise<ProcessExit>((done) => channel.once('close', () => done(exit)));
        resolve({
          stdout: channel,
          stderr: channel.stderr,
          stdin: channel,
          exited,
          destroy: () => channel.close(),
        });
      });
    });
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= new Promise((resolve, reject) =>
      this.client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))),
    );
    return this.sftpSession;
  }

  async writeFile(file: string, content: string | Buffer, mode: number): Promise<void> {
    let sftp: SFTPWrapper;
    try {
      sftp = await this.sftp();
    } catch {
      // No SFTP subsystem on the node: the content travels on stdin instead, never in the command.
      this.sftpSession = undefined;
      const command = `umask ${(~mode & 0o777).toString(8)} && set -C && cat > ${shellQuote(file)}`;
      const result = await execOnNode(this, command, { stdin: content.toString() });
      if (result.code !== 0) throw new Error(`${this.nodeId}: cannot write ${file}: ${result.stderr.trim()}`);
      return;
    }
    await new Promise<void>((resolve, reject) =>
      sftp.writeFile(file, content, { mode, flag: 'wx' }, (error) =>
        error
          ? reject(new Error(`${this.nodeId}: cannot write ${file} over SFTP: ${error.message}`))
          : resolve(),
      ),
    );
  }

  /** A TCP stream to host:port from the node (ProxyJump's next hop). */
  forward(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) =>
      this.client.forwardOut('127.0.0.1', 0, host, port, (error, stream) =>
        error
          ? reject(new Error(`${this.nodeId}: cannot reach ${host}:${port}: ${error.message}`))
          : resolve(stream),
      ),
    );
  }

  close(): void {
    this.client.end();
    for (const j of this.jumps) j.close();
  }

  /** Tears the TCP connection down at once (as a network drop would). */
  destroy(): void {
    this.client.destroy();
    for (const j of this.jumps) j.destroy();
  }
}

/**
 * Connects to a destination from the SSH config (`alias`, `user@host`, `host:port`),
 * following ProxyJump hops, each with its own host-key check; the first hop (or the host itself)
 * may be reached through its ProxyCommand.
 */
export async function connectSsh(destination: string, options: ConnectOptions): Promise<SshConnection> {
  const config = loadSshConfig(options.env);
  const host = resolveSshHost(destination, options.env, config);
  const jumps: SshConnection[] = [];
  let sock: Duplex | undefined;
  try {
    for (const hop of host.proxyJump) {
      const previous = jumps[jumps.length - 1];
      const hopHost = resolveSshHost(hop, options.env, config);
      const hopSock = previous ? await previous.forward(hopHost.hostName, hopHost.port) : undefined;
      // Behind a jump host the next hop is reached through the tunnel, never its own ProxyCommand.
      const hopConfig = previous ? { ...hopHost, proxyCommand: undefined } : hopHost;
      jumps.push(await connectOne(hop, { ...hopConfig, proxyJump: [] }, options, hopSock, []));
    }
    const last = jumps[jumps.length - 1];
    if (last) sock = await last.forward(host.hostName, host.port);
    return await connectOne(
      destination,
      last ? { ...host, proxyCommand: undefined } : host,
      options,
      sock,
      jumps,
    );
  } catch (error) {
    for (const j of jumps) j.close();
    throw error;
  }
}

function connectOne(
  nodeId: string,
  host: SshHost,
  options: ConnectOptions,
  sock: Duplex | undefined,
  jumps: SshConnection[],
): Promise<SshConnection> {
  const client = new Client();
  const { steps, tried } = authSteps(host, options);
  let hostKeyFailure: Error | undefined;
  const where = `${host.user}@${knownHostsName(host.hostName, host.port)}`;
  let proxy: ProxyProcess | undefined;
  if (!sock && host.proxyCommand) {
    proxy = startProxyCommand(host.proxyCommand, options.proxyEnv);
    sock = proxy.sock;
    const running = proxy;
    client.once('close', () => running.stop());
  }
  return new Promise<SshConnection>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      client.destroy();
      // A failure with the proxy's own words is worth far more than "connection closed".
      if (
        proxy &&
        !hostKeyFailure &&
        !(error instanceof HostKeyError) &&
        !/^Permission denied/.test(error.message)
      )
        void proxy.describeFailure().then((why) => reject(new Error(`${error.message}. ${why}`)));
      else reject(error);
      proxy?.stop();
    };
    client.once('ready', () => {
      settled = true;
      // Every command is a few small request/reply packets: Nagle plus delayed ACKs would add
      // tens of milliseconds to each.
      client.setNoDelay(true);
      resolve(new SshConnection(nodeId, host, client, jumps));
    });
    client.on('error', (error: Error & { level?: string }) => {
      if (hostKeyFailure) return fail(hostKeyFailure);
      if (error.level === 'client-authentication')
        return fail(
          new Error(
            `Permission denied for ${where}: tried ${tried.length ? tried.join(', ') : 'no keys (no ssh-agent, no identity file)'}.`,
          ),
        );
      fail(new Error(`SSH to ${nodeId} (${where}): ${error.message}`));
    });
    client.once('close', () =>
      fail(hostKeyFailure ?? new Error(`SSH to ${nodeId} (${where}): connection closed`)),
    );
    client.connect({
      host: host.hostName,
      port: host.port,
      username: host.user,
      sock,
      readyTimeout: options.readyTimeoutMs ?? 20_000,
      keepaliveInterval: (options.keepaliveSeconds ?? 15) * 1000,
      keepaliveCountMax: 3,
      algorithms: {
        serverHostKey: hostKeyOrder(
          knownKeyTypes(knownHostsFilesOf(host), keyRecordName(host).name, keyRecordName(host).port),
        ),
      },
      hostVerifier: (blob: Buffer, verify: (ok: boolean) => void) => {
        void verifyHostKey(nodeId, host, blob, options.callbacks).then(
          () => verify(true),
          (error: Error) => {
            hostKeyFailure = error;
            verify(false);
          },
        );
      },
      authHandler: (_methodsLeft, _partial, next) => {
        const nextStep = async (): Promise<AnyAuthMethod | false> => {
          for (let step = steps.shift(); step; step = steps.shift()) {
            const method = await step();
            if (method) return method;
          }
          return false;
        };
        void nextStep().then(
          (m) => next(m as AnyAuthMethod),
          () => next(false as unknown as AnyAuthMethod),
        );
      },
    });
  });
}

/**
 * Host and port as known_hosts names this host: `HostKeyAlias` verbatim (OpenSSH adds no port to
 * it), else the host name with its port. Port 22 makes knownHostsName() write the bare name.
 */
/** The user's known_hosts files, then the system-wide ones (OpenSSH's order). */
function knownHostsFilesOf(host: SshHost): string[] {
  return [...host.knownHostsFiles, ...host.globalKnownHostsFiles];
}

function keyRecordName(host: SshHost): { name: string; port: number } {
  return host.hostKeyAlias ? { name: host.hostKeyAlias, port: 22 } : { name: host.hostName, port: host.port };
}

async function verifyHostKey(
  alias: string,
  host: SshHost,
  blob: Buffer,
  callbacks: SshCallbacks,
): Promise<void> {
  const key = { type: keyTypeOf(blob), blob };
  const record = keyRecordName(host);
  const verdict = checkHostKey(knownHostsFilesOf(host), record.name, record.port, key);
  switch (verdict.status) {
    case 'known':
      return;
    case 'changed':
      throw new HostKeyError(changedKeyWarning(record.name, record.port, key, verdict), 'changed');
    case 'revoked':
      throw new HostKeyError(
        `The ${key.type} host key of ${knownHostsName(record.name, record.port)} is marked as revoked in ${verdict.file}:${verdict.line}; refusing to connect.`,
        'revoked',
      );
    case 'unknown': {
      const fingerprint = fingerprintSha256(blob);
      // The handshake asks for the types on record first: a host that answers with another type
      // no longer has the recorded key, which is what a man in the middle looks like. OpenSSH
      // refuses to take such a key without a person removing the old one; so do we, always.
      if (verdict.otherTypes.length)
        throw new HostKeyError(
          `The host key of ${knownHostsName(record.name, record.port)} is a ${key.type} key (${fingerprint}), but only ${verdict.otherTypes.join(', ')} keys are on record for it; refusing to connect. If the host really changed its keys, remove the old ones with: ssh-keygen -R '${knownHostsName(record.name, record.port)}'`,
          'changed',
        );
      const accepted = await callbacks.confirmUnknownHostKey({
        alias,
        host: host.hostName,
        port: host.port,
        keyType: key.type,
        fingerprint,
      });
      if (!accepted)
        throw new HostKeyError(
          `Host key verification failed: the ${key.type} key ${fingerprint} of ${knownHostsName(record.name, record.port)} is not known and was not accepted.`,
          'rejected',
        );
      const file = host.knownHostsFiles[0];
      if (file) addKnownHost(file, record.name, record.port, key);
    }
  }
}
