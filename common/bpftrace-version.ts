// The one reader of bpftrace version numbers, for every side: what `bpftrace --version` prints
// on a node (`bpftrace v0.17.0`, `bpftrace v0.21.2-1`), the version setting (`0.17`, `v0.23`)
// and the listener-trace options. bpftrace has had only 0.x releases so far; the minor number
// decides the dialect.

export interface BpftraceVersion {
  major: number;
  minor: number;
  /** 0 when the text gives none. */
  patch: number;
}

/** The first `major.minor[.patch]` in the text (a `v` in front allowed); undefined without one. */
export function parseBpftraceVersion(text: string | undefined): BpftraceVersion | undefined {
  const m = /\bv?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text ?? '');
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

/** `0.17.0`: how a version is shown and passed on. */
export function bpftraceVersionName(v: BpftraceVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** True when `v` is `major.minor` or newer. */
export function atLeastBpftrace(v: BpftraceVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}

/** What `--bpftrace-version` accepts: a version (`0.17`, `v0.26.1`) or `main`, bpftrace's main branch. */
export function isDialectName(text: string): boolean {
  return text.trim() === 'main' || parseBpftraceVersion(text) !== undefined;
}
