// Throwaway local users for SSH tests (root only): created with useradd, removed by remove().
// Each gets a valid-but-unusable password field ('*') so that sshd without PAM lets keys in.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export interface TestUser {
  name: string;
  home: string;
  remove(): void;
}

export function createTestUser(
  baseDir: string,
  prefix: string,
  options: { sudo?: boolean; /** login shell (default /bin/sh) */ shell?: string } = {},
): TestUser {
  const name = `${prefix}${randomBytes(3).toString('hex')}`.slice(0, 31);
  const home = path.join(baseDir, `home-${name}`);
  mkdirSync(home, { recursive: true });
  execFileSync('useradd', ['-M', '-d', home, '-s', options.shell ?? '/bin/sh', name]);
  const sudoers = path.join('/etc/sudoers.d', `fieldtrace-test-${name}`);
  try {
    execFileSync('usermod', ['-p', '*', name]);
    execFileSync('chown', [name, home]);
    if (options.sudo) writeFileSync(sudoers, `${name} ALL=(root) NOPASSWD: ALL\n`, { mode: 0o440 });
  } catch (error) {
    execFileSync('userdel', [name]);
    throw error;
  }
  return {
    name,
    home,
    remove() {
      rmSync(sudoers, { force: true });
      try {
        execFileSync('userdel', [name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
      rmSync(home, { recursive: true, force: true });
    },
  };
}

export function canCreateUsers(): boolean {
  const ok = process.getuid?.() === 0 && hasCommand('useradd') && hasCommand('sudo');
  if (!ok && process.env.CI === 'true') throw new Error('useradd/sudo missing or not root, and CI=true');
  return ok;
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', 'command -v "$1"', 'sh', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** True when bpftrace can trace here (installed, and we are root); with CI=true, missing fails. */
export function bpftraceAvailable(): boolean {
  const ok = hasCommand('bpftrace') && process.getuid?.() === 0;
  if (!ok && process.env.CI === 'true') throw new Error('bpftrace missing or not root, and CI=true');
  return ok;
}
