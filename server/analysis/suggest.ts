// "Did you mean" suggestions: the closest candidate by edit distance, if close enough.

export function editDistance(a: string, b: string, limit = 4): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      best = Math.min(best, cur[j]);
    }
    if (best > limit) return limit + 1;
    prev = cur;
  }
  return prev[b.length];
}

export function closest(name: string, candidates: Iterable<string>): string | undefined {
  const allowed = Math.max(1, Math.min(3, Math.floor(name.length / 3)));
  let best: string | undefined;
  let bestScore = allowed + 1;
  const lower = name.toLowerCase();
  for (const c of candidates) {
    if (c === name) continue;
    let d = editDistance(lower, c.toLowerCase(), allowed);
    // A candidate that extends or is extended by the name is a likely typo too (umyaddr/myaddr).
    if (
      d > allowed &&
      (c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase())) &&
      Math.min(c.length, name.length) >= 3
    ) {
      d = allowed;
    }
    if (d < bestScore) {
      bestScore = d;
      best = c;
    }
  }
  return best;
}

/** Shell-style glob (`*`, `?`, `[..]`) match for attach point wildcards. */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const close = glob.indexOf(']', i);
      if (close > i) {
        re += '[' + glob.slice(i + 1, close).replace(/\\/g, '\\\\') + ']';
        i = close;
      } else re += '\\[';
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  try {
    return new RegExp(re + '$');
  } catch {
    // A malformed class such as `[z-a]`: no tracepoint can match it, but it must not throw.
    return new RegExp('^' + glob.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + '$');
  }
}
