// The one quoting function: every argument that reaches a shell on a node goes through it.
// Single quotes make everything literal in POSIX sh; a single quote itself is closed, escaped
// and reopened. NUL cannot travel in an argument at all, so it is refused rather than truncated.

export function shellQuote(arg: string): string {
  if (arg.includes('\0')) throw new Error('an argument cannot contain a NUL byte');
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A shell command line from words, each quoted. */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
