// The one table of bpftrace's known-benign warnings: each said in plain words once per run (what
// it means, whether anything is lost). The message itself is always shown as bpftrace wrote it;
// a warning not in this table reaches the user verbatim, without an explanation.

export interface KnownWarning {
  id: string;
  /** Matches bpftrace's message (without its `WARNING:`/`ERROR:` prefix). */
  pattern: RegExp;
  /** What it means and whether any event is lost, for someone who has never read bpftrace's source. */
  explanation: string;
}

export const KNOWN_WARNINGS: readonly KnownWarning[] = [
  {
    id: 'rlimit-memlock',
    // bpftrace sets RLIMIT_MEMLOCK to unlimited at start; when setrlimit() fails it prints the
    // call's return value (-1) through strerror(), hence "Unknown error -1" instead of the reason.
    pattern: /couldn't set RLIMIT_MEMLOCK/,
    explanation:
      'bpftrace asks for unlimited locked memory at start and was refused (typically a container ' +
      'or a hard limit without CAP_SYS_RESOURCE); "Unknown error -1" is bpftrace printing the ' +
      'failed call’s return value instead of its reason. Since Linux 5.11 BPF maps are charged to ' +
      'the memory cgroup, not to this limit, so it changes nothing. On an older kernel a script ' +
      'that needs more locked memory fails to start with an error of its own. Either way no event ' +
      'is lost: a trace that runs, runs whole.',
  },
  {
    id: 'traceable-functions',
    // bpftrace reads tracefs available_filter_functions to expand and check kprobe names.
    pattern: /available_filter_functions|traceable functions/,
    explanation:
      'bpftrace could not read the kernel’s list of traceable functions (tracefs ' +
      'available_filter_functions: not mounted, or not readable here). It uses the list only to ' +
      'expand kprobe wildcards and check kprobe names; tracepoints and uprobes (all the listener ' +
      'trace uses) are unaffected, and no event is lost.',
  },
];

/** The table's entry for a message of bpftrace, if it is a known one. */
export function knownWarning(message: string): KnownWarning | undefined {
  return KNOWN_WARNINGS.find((w) => w.pattern.test(message));
}
