// OpenSSH known_hosts: plain and hashed (`|1|salt|hmac`) host patterns, `[host]:port` for
// non-default ports, wildcards and negation, @revoked and @cert-authority markers.
// The verdict is OpenSSH's: same key -> known; same type, other key -> changed; else unknown.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';

export interface HostKey {
  /** e.g. `ssh-ed25519`, `ecdsa-sha2-nistp256`, `ssh-rsa`. */
  type: string;
  /** The raw public key blob (what known_hosts stores in base64). */
  blob: Buffer;
}

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown'; otherTypes: string[] }
  | { status: 'changed'; file: string; line: number; knownType: string; knownFingerprint: string }
  | { status: 'revoked'; file: string; line: number };

export interface KnownHostsEntry {
  marker: '' | '@revoked' | '@cert-authority';
  patterns: string;
  type: string;
  blob: Buffer;
  line: number;
}

/** The key type named inside an SSH public key blob (its first SSH string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) throw new Error('host key blob too short');
  const len = blob.readUInt32BE(0);
  if (len > 64 || 4 + len > blob.length) throw new Error('host key blob is malformed');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** `SHA256:...` as `ssh-keygen -l` and OpenSSH's prompts print it. */
export function fingerprintSha256(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The name known_hosts uses for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** The entries of a known_hosts text (exported for the fuzz tests: it must read anything). */
export function parseEntries(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    let marker: KnownHostsEntry['marker'] = '';
    if (fields[0] === '@revoked' || fields[0] === '@cert-authority')
      marker = fields.shift() as KnownHostsEntry['marker'];
    if (fields.length < 3) return;
    const [patterns, type, key] = fields as [string, string, string];
    const blob = Buffer.from(key, 'base64');
    if (blob.length === 0) return;
    entries.push({ marker, patterns, type, blob, line: index + 1 });
  });
  return entries;
}

/**
 * OpenSSH's `*` and `?` wildcards, case-insensitive. A linear scan with one backtrack point,
 * not a regular expression: a pattern full of `*` cannot make it blow up.
 */
function wildcardMatch(pattern: string, name: string): boolean {
  const p = pattern.toLowerCase();
  const n = name.toLowerCase();
  let pi = 0;
  let ni = 0;
  let star = -1;
  let resume = 0;
  while (ni < n.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === n[ni])) {
      pi++;
      ni++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ni;
    } else if (star >= 0) {
      pi = star + 1;
      ni = ++resume;
    } else return false;
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

// A known_hosts file larger than this is not one; reading it whole would only cost memory.
const MAX_KNOWN_HOSTS_BYTES = 64 * 1024 * 1024;

/** The text of a known_hosts file, '' when it is missing; an oversized file is an error. */
function readKnownHosts(file: string): string {
  if (!existsSync(file)) return '';
  if (statSync(file).size > MAX_KNOWN_HOSTS_BYTES)
    throw new Error(`${file} is over ${MAX_KNOWN_HOSTS_BYTES} bytes; not a known_hosts file`);
  return readFileSync(file, 'utf8');
}

function hashedMatch(pattern: string, name: string): boolean {
  const parts = pattern.split('|');
  if (parts.length !== 4 || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const expected = Buffer.from(parts[3] ?? '', 'base64');
  const actual = createHmac('sha1', salt).update(name).digest();
  return expected.length === actual.length && expected.equals(actual);
}

/** Whether a host-pattern list (`a,b,!c`, or one hashed name) matches `name`. */
export function patternsMatch(patterns: string, name: string): boolean {
  if (patterns.startsWith('|')) return hashedMatch(patterns, name);
  let matched = false;
  for (const p of patterns.split(',')) {
    if (p.startsWith('!')) {
      if (wildcardMatch(p.slice(1), name)) return false;
    } else if (wildcardMatch(p, name)) matched = true;
  }
  return matched;
}

/** Checks a presented host key against known_hosts files (missing files count as empty). */
export function checkHostKey(
  files: readonly string[],
  host: string,
  port: number,
  key: HostKey,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const otherTypes = new Set<string>();
  let known = false;
  let changed: HostKeyVerdict | undefined;
  for (const file of files) {
    for (const e of parseEntries(readKnownHosts(file))) {
      if (!patternsMatch(e.patterns, name)) continue;
      if (e.marker === '@revoked') {
        if (e.blob.equals(key.blob)) return { status: 'revoked', file, line: e.line };
        continue;
      }
      if (e.marker === '@cert-authority') continue;
      if (e.type === key.type) {
        if (e.blob.equals(key.blob)) known = true;
        else
          changed ??= {
            status: 'changed',
            file,
            line: e.line,
            knownType: e.type,
            knownFingerprint: fingerprintSha256(e.blob),
          };
      } else otherTypes.add(e.type);
    }
  }
  // A matching line anywhere wins, like OpenSSH (a host may have several valid lines).
  if (known) return { status: 'known' };
  if (changed) return changed;
  return { status: 'unknown', otherTypes: [...otherTypes] };
}

/** Key types on record for a host, so the handshake can prefer them (as OpenSSH does). */
export function knownKeyTypes(files: readonly string[], host: string, port: number): string[] {
  const name = knownHostsName(host, port);
  const types: string[] = [];
  for (const file of files) {
    for (const e of parseEntries(readKnownHosts(file)))
      if (!e.marker && patternsMatch(e.patterns, name) && !types.includes(e.type)) types.push(e.type);
  }
  return types;
}

/** Records an accepted key, hashed by default like Debian's OpenSSH (`HashKnownHosts yes`). */
export function addKnownHost(file: string, host: string, port: number, key: HostKey, hashed = true): void {
  const name = knownHostsName(host, port);
  let pattern = name;
  if (hashed) {
    const salt = randomBytes(20);
    pattern = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  if (existsSync(file)) {
    const text = readFileSync(file, 'utf8');
    if (text.length > 0 && !text.endsWith('\n')) prefix = '\n';
  }
  appendFileSync(file, `${prefix}${pattern} ${key.type} ${key.blob.toString('base64')}\n`, { mode: 0o600 });
}

/** OpenSSH's warning for a changed key, adapted: we refuse, we never offer to continue. */
export function changedKeyWarning(
  host: string,
  port: number,
  key: HostKey,
  verdict: Extract<HostKeyVerdict, { status: 'changed' }>,
): string {
  return [
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    '@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @',
    '@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@',
    'IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!',
    'Someone could be eavesdropping on you right now (man-in-the-middle attack)!',
    'It is also possible that a host key has just been changed.',
    `The fingerprint for the ${key.type} key sent by the remote host ${knownHostsName(host, port)} is`,
    `${fingerprintSha256(key.blob)}.`,
    `The key on record is ${verdict.knownFingerprint}.`,
    `Offending ${verdict.knownType} key in ${verdict.file}:${verdict.line}`,
    `Host key for ${knownHostsName(host, port)} has changed; Fieldtrace refuses to connect.`,
    `If the change is expected, remove the old key with: ssh-keygen -R '${knownHostsName(host, port)}'`,
  ].join('\n');
}
