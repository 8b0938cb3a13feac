// The one rule for every file a frame link opens: its real path (symlinks resolved) is a regular
// file under the real path of a source root. Build paths come from DWARF, debugger output and
// symbol names that a traced process or a binary chose; `..`, absolute paths and symlinks out of
// the tree must not make a link open /etc/shadow or ~/.ssh/id_ed25519.
import { realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { Resolution } from './resolution';

/** The real path of an existing regular file, or undefined. */
export type RealFile = (file: string) => string | undefined;

export const realFile: RealFile = (file) => {
  try {
    const real = realpathSync.native(file);
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
};

function realRoot(root: string): string {
  try {
    return realpathSync.native(root);
  } catch {
    return path.resolve(root);
  }
}

/** `file`'s real path when it is a regular file under one of `roots` (also real), else undefined. */
export function confinedPath(
  file: string,
  roots: readonly string[],
  real: RealFile = realFile,
): string | undefined {
  if (!file || file.includes('\0')) return undefined;
  const resolved = real(file);
  if (resolved === undefined) return undefined;
  for (const root of roots) {
    const rel = path.relative(realRoot(root), resolved);
    if (rel && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel)) return resolved;
  }
  return undefined;
}

/**
 * A resolution whose every file (the location, the near matches, the inline chain) passes
 * confinedPath(); a location outside the roots is dropped with the reason.
 */
export function confineResolution(
  r: Resolution,
  roots: readonly string[],
  real: RealFile = realFile,
): Resolution {
  const out: Resolution = { ...r };
  if (r.location) {
    const file = confinedPath(r.location.file, roots, real);
    if (file) out.location = { ...r.location, file };
    else {
      delete out.location;
      out.reason = `${r.location.file} is not a file under the source roots; not opened`;
    }
  }
  if (r.candidates)
    out.candidates = r.candidates.flatMap((c) => {
      const file = confinedPath(c.file, roots, real);
      return file ? [{ ...c, file }] : [];
    });
  if (r.inlined)
    out.inlined = r.inlined.flatMap((c) => {
      const file = confinedPath(c.file, roots, real);
      return file ? [{ ...c, file }] : [];
    });
  return out;
}
