// Hosts from the user's OpenSSH client config, read with the `ssh-config` library. Only what a
// trace needs is resolved: HostName, User, Port, IdentityFile, ProxyJump, ProxyCommand,
// UserKnownHostsFile, HostKeyAlias. (CheckHostIP is off by default since OpenSSH 8.5 and is not read.)
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as SshConfigModule from 'ssh-config' with { 'resolution-mode': 'import' };

// The package's types are ESM-only while its CommonJS build is what a CJS bundle loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { SSHConfig, LineType, glob } = require('ssh-config') as typeof SshConfigModule;
type SSHConfig = SshConfigModule.SSHConfig;

export interface SshEnvironment {
  /** Home folder whose `.ssh/` is used (tests pass a temporary one). */
  home: string;
  /** ssh-agent socket; undefined means no agent. */
  agentSocket?: string;
  /** Local user name, for `User` defaults and `%u`. */
  localUser: string;
}

export function defaultSshEnvironment(env: NodeJS.ProcessEnv = process.env): SshEnvironment {
  return {
    home: env.HOME || os.homedir(),
    agentSocket: env.SSH_AUTH_SOCK || undefined,
    localUser: env.USER || os.userInfo().username,
  };
}

export interface SshHost {
  /** What the user typed or the config's Host alias. */
  alias: string;
  hostName: string;
  user: string;
  port: number;
  /** Explicit IdentityFile entries, expanded; empty means the OpenSSH defaults. */
  identityFiles: string[];
  /** ProxyJump hops, outermost first (`[user@]host[:port]` or aliases). */
  proxyJump: string[];
  knownHostsFiles: string[];
  /** GlobalKnownHostsFile: the system-wide files, read (never written) after the user's. */
  globalKnownHostsFiles: string[];
  /** HostKeyAlias: the name known_hosts records this host's key under, instead of host[:port]. */
  hostKeyAlias?: string;
  /**
   * ProxyCommand with its `%` tokens expanded, run through the user's shell with `exec`; its
   * stdin/stdout carry the SSH connection. Absent for `none` and when ProxyJump came first.
   */
  proxyCommand?: string;
}

export function sshConfigPath(env: SshEnvironment): string {
  return path.join(env.home, '.ssh', 'config');
}

export function loadSshConfig(env: SshEnvironment): SSHConfig {
  return parseSshConfig(configText(sshConfigPath(env), env, 0), sshConfigPath(env));
}

/** The library's parser, whose own failures (a TypeError on `ProxyCommand` with no value) become one clear error. */
export function parseSshConfig(text: string, origin: string): SSHConfig {
  try {
    return SSHConfig.parse(text);
  } catch (error) {
    throw new Error(
      `cannot read the SSH config ${origin}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/**
 * The config with `Include` lines replaced by the files they name (relative paths are under
 * ~/.ssh, `*` and `?` match in the last path element), as OpenSSH reads them in place; the
 * library parses the result.
 */
function configText(
  file: string,
  env: SshEnvironment,
  depth: number,
  // Shared by the whole read: a config that includes itself twice per level would otherwise
  // read 2^16 files.
  budget = { files: 256, bytes: 16 * 1024 * 1024 },
): string {
  if (depth > 16 || !existsSync(file) || !statSync(file).isFile()) return '';
  const size = statSync(file).size;
  if (--budget.files < 0 || (budget.bytes -= size) < 0)
    throw new Error(`the SSH config includes more than 256 files or 16 MiB (at ${file})`);
  const text = readFileSync(file, 'utf8');
  return text
    .split('\n')
    .map((line) => {
      const m = /^\s*include\s*[\s=]\s*(.+?)\s*$/i.exec(line);
      if (!m?.[1]) return line;
      return m[1]
        .split(/\s+/)
        .map((p) => p.replace(/^"(.*)"$/, '$1'))
        .flatMap((pattern) => {
          let full = pattern.startsWith('~/') ? path.join(env.home, pattern.slice(2)) : pattern;
          if (!path.isAbsolute(full)) full = path.join(env.home, '.ssh', full);
          return expandGlob(full);
        })
        .map((f) => configText(f, env, depth + 1, budget))
        .join('\n');
    })
    .join('\n');
}

function expandGlob(file: string): string[] {
  const base = path.basename(file);
  if (!/[*?]/.test(base)) return [file];
  const dir = path.dirname(file);
  try {
    return readdirSync(dir)
      .filter((f) => glob(base, f))
      .sort()
      .map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

/** Concrete Host aliases of the config (patterns with wildcards cannot be connected to). */
export function configuredHosts(config: SSHConfig): string[] {
  const hosts: string[] = [];
  for (const line of config) {
    if (line.type !== LineType.DIRECTIVE || line.param.toLowerCase() !== 'host') continue;
    const values = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    for (const v of values) if (v && !/[*?!]/.test(v) && !hosts.includes(v)) hosts.push(v);
  }
  return hosts;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function all(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

type TokenHost = Pick<SshHost, 'alias' | 'hostName' | 'user' | 'port'>;

type TokenValue = (host: TokenHost, env: SshEnvironment) => string;

/** The `%` tokens of ssh_config(5) (TOKENS) that are expanded here, each with its value. */
const TOKEN_VALUES: ReadonlyMap<string, TokenValue> = new Map<string, TokenValue>([
  ['%', () => '%'],
  ['d', (_host, env) => env.home],
  ['h', (host) => host.hostName],
  ['n', (host) => host.alias],
  ['p', (host) => String(host.port)],
  ['r', (host) => host.user],
  ['u', (_host, env) => env.localUser],
]);

/**
 * Which of those tokens each keyword accepts, as ssh_config(5)'s TOKENS section lists them.
 * `files`: IdentityFile and UserKnownHostsFile, whose list also has %C %i %k %L %l (not expanded
 * here: they stay as written); HostName and GlobalKnownHostsFile are read the same way (OpenSSH
 * takes only %% and %h in HostName). ProxyCommand: exactly its list, and any other token is an
 * error, as in OpenSSH.
 */
const ACCEPTED_TOKENS = {
  files: { tokens: '%dhnpru', unknown: 'keep' },
  ProxyCommand: { tokens: '%hnpr', unknown: 'error' },
} as const;

/** A value of the config with its `%` tokens expanded as `keyword` accepts them. */
function expandTokens(
  value: string,
  keyword: keyof typeof ACCEPTED_TOKENS,
  host: TokenHost,
  env: SshEnvironment,
): string {
  const { tokens, unknown } = ACCEPTED_TOKENS[keyword];
  return value.replace(/%(.?)/g, (m, c: string) => {
    const expanded = c && tokens.includes(c) ? TOKEN_VALUES.get(c)?.(host, env) : undefined;
    if (expanded !== undefined) return expanded;
    if (unknown === 'error') throw new Error(`${keyword} for '${host.alias}': unknown token %${c}`);
    return m;
  });
}

/** A value of the `files` keywords: its tokens, then a leading `~` as the home folder. */
function expandValue(value: string, host: TokenHost, env: SshEnvironment): string {
  const out = expandTokens(value, 'files', host, env);
  return out === '~' || out.startsWith('~/') ? path.join(env.home, out.slice(1)) : out;
}

/** A `[user@]host[:port]` destination as ProxyJump and the command line write it. */
export function parseDestination(spec: string): { user?: string; host: string; port?: number } {
  let rest = spec.trim();
  let user: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at > 0) {
    user = rest.slice(0, at);
    rest = rest.slice(at + 1);
  }
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(rest);
  if (bracket) {
    rest = bracket[1] ?? rest;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const colon = /^([^:]+):(\d+)$/.exec(rest);
    if (colon) {
      rest = colon[1] ?? rest;
      port = Number(colon[2]);
    }
  }
  if (!rest) throw new Error(`'${spec}' is not a host`);
  return { user, host: rest, port };
}

/** Resolves a destination (`alias`, `user@host:port`) through the SSH config like `ssh -G`. */
export function resolveSshHost(
  destination: string,
  env: SshEnvironment,
  config = loadSshConfig(env),
): SshHost {
  const dest = parseDestination(destination);
  const computed = config.compute(dest.host, { ignoreCase: true, matchExec: false });
  const get = (key: string) => computed[key.toLowerCase()] ?? computed[key];
  const portText = first(get('Port'));
  const base = {
    alias: dest.host,
    hostName: first(get('HostName')) ?? dest.host,
    user: dest.user ?? first(get('User')) ?? env.localUser,
    port: dest.port ?? (portText ? Number(portText) : 22),
  };
  base.hostName = expandValue(base.hostName, base, env);
  if (!Number.isInteger(base.port) || base.port < 1 || base.port > 65535)
    throw new Error(`SSH config for '${dest.host}': Port '${portText ?? ''}' is not a port number`);
  const proxy = proxyDirective(config, dest.host, get);
  const jump = proxy?.kind === 'ProxyJump' ? proxy.value : undefined;
  if (proxy?.kind === 'ProxyCommand') {
    // OpenSSH 9.6+: a name typed by the user must not smuggle shell syntax into the command.
    if (!isSafeTypedHostName(dest.host))
      throw new Error(
        `'${dest.host}' holds characters that are not allowed in a host name that is expanded into a ProxyCommand`,
      );
    if (dest.user !== undefined && !isSafeTypedUserName(dest.user))
      throw new Error(
        `'${dest.user}' holds characters that are not allowed in a user name that is expanded into a ProxyCommand`,
      );
  }
  const files = (key: string) =>
    all(get(key))
      .flatMap((v) => v.split(/\s+/))
      .filter((f) => f && f.toLowerCase() !== 'none');
  const knownFiles = files('UserKnownHostsFile');
  const globalFiles = files('GlobalKnownHostsFile');
  const hostKeyAlias = first(get('HostKeyAlias'));
  return {
    ...base,
    ...(hostKeyAlias ? { hostKeyAlias } : {}),
    ...(proxy?.kind === 'ProxyCommand'
      ? { proxyCommand: expandTokens(proxy.value, 'ProxyCommand', base, env) }
      : {}),
    identityFiles: all(get('IdentityFile')).map((f) => expandValue(f, base, env)),
    proxyJump:
      jump && jump.toLowerCase() !== 'none'
        ? jump
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
    knownHostsFiles: knownFiles.length
      ? knownFiles.map((f) => expandValue(f, base, env))
      : [path.join(env.home, '.ssh', 'known_hosts'), path.join(env.home, '.ssh', 'known_hosts2')],
    globalKnownHostsFiles: globalFiles.length
      ? globalFiles.map((f) => expandValue(f, base, env))
      : ['/etc/ssh/ssh_known_hosts', '/etc/ssh/ssh_known_hosts2'],
  };
}

/** OpenSSH's default identities, in its order, that exist. */
export function defaultIdentityFiles(env: SshEnvironment): string[] {
  return ['id_ed25519', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519_sk', 'id_rsa']
    .map((n) => path.join(env.home, '.ssh', n))
    .filter((f) => existsSync(f));
}

type ProxyDirective = { kind: 'ProxyJump' | 'ProxyCommand'; value: string };

/**
 * ProxyJump and ProxyCommand exclude each other; as in OpenSSH, the one obtained first (in config
 * order, over the sections that apply to the host) wins, and `none` counts as obtained.
 */
function proxyDirective(
  config: SSHConfig,
  host: string,
  get: (key: string) => string | string[] | undefined,
): ProxyDirective | undefined {
  const jump = first(get('ProxyJump'));
  const command = first(get('ProxyCommand'));
  const pick = (kind: ProxyDirective['kind'], value: string | undefined): ProxyDirective | undefined =>
    value === undefined || value.trim().toLowerCase() === 'none' ? undefined : { kind, value };
  if (jump === undefined || command === undefined)
    return pick('ProxyJump', jump) ?? pick('ProxyCommand', command);
  return firstProxyKeyword(config, host) === 'proxycommand'
    ? pick('ProxyCommand', command)
    : pick('ProxyJump', jump);
}

function firstProxyKeyword(config: SSHConfig, host: string): string | undefined {
  for (const line of config) {
    if (line.type !== LineType.DIRECTIVE) continue;
    const param = line.param.toLowerCase();
    if (param === 'proxyjump' || param === 'proxycommand') return param;
    if (param !== 'host' || !('config' in line)) continue;
    const patterns = Array.isArray(line.value) ? line.value.map((v) => v.val) : line.value.split(/\s+/);
    if (!hostPatternsMatch(patterns, host)) continue;
    for (const inner of line.config) {
      if (inner.type !== LineType.DIRECTIVE) continue;
      const p = inner.param.toLowerCase();
      if (p === 'proxyjump' || p === 'proxycommand') return p;
    }
  }
  return undefined;
}

function hostPatternsMatch(patterns: string[], host: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (glob(pattern.slice(1), host)) return false;
    } else if (glob(pattern, host)) matched = true;
  }
  return matched;
}

/** OpenSSH's check on a host name given on the command line (ssh.c, valid_hostname). */
export function isSafeTypedHostName(name: string): boolean {
  if (name.startsWith('-')) return false;
  // eslint-disable-next-line no-control-regex
  return !/['`"$\\;&<>|(){},\s\x00-\x1f\x7f]/.test(name);
}

/** OpenSSH's check on a user name given on the command line (ssh.c, valid_ruser). */
export function isSafeTypedUserName(name: string): boolean {
  if (name.startsWith('-') || name.endsWith('\\')) return false;
  // eslint-disable-next-line no-control-regex
  return !/['`";&<>|(){}\x00-\x1f\x7f]/.test(name) && !/\s-/.test(name);
}
