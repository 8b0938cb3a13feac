// Comments that tell Fieldtrace how a script is meant to run. One today: `// fieldtrace: unsafe`
// on a line of its own (anywhere in the script) says the script runs with `bpftrace --unsafe`, so
// system(), signal() and override() are allowed when it is checked and `--unsafe` is passed when
// it is run. A shebang that passes `--unsafe` to bpftrace says the same.
// The checker, the runner, the CLI and the differential corpus all read it from here.

const UNSAFE_COMMENT = /^[ \t]*\/\/[ \t]*fieldtrace:[ \t]*unsafe[ \t]*$/m;
const UNSAFE_SHEBANG = /^#![^\n]*\bbpftrace\b[^\n]*(?:^|\s)--unsafe(?:\s|$)/;

/** The pragma text, for documentation, hovers and quick fixes. */
export const UNSAFE_PRAGMA = '// fieldtrace: unsafe';

/** Whether the script says it runs with `bpftrace --unsafe`. */
export function declaresUnsafe(text: string): boolean {
  return UNSAFE_COMMENT.test(text) || UNSAFE_SHEBANG.test(text);
}
