// The TextMate grammar's attach-point rule, run as the JavaScript regular expression it is: after
// an attach point's first colon bpftrace reads `/`, `/*` and `//` as path (lexer.l `path` up to
// 0.25, parse_attach_point from 0.26), so the header must take them before the comment rules can.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

interface Rule {
  match?: string;
}

const grammar = JSON.parse(
  readFileSync(path.join(__dirname, '..', '..', 'syntaxes', 'bpftrace.tmLanguage.json'), 'utf8'),
) as { repository: Record<string, { patterns: Rule[] }> };

function header(line: string): string | undefined {
  for (const rule of grammar.repository['probe-header'].patterns) {
    const m = rule.match ? new RegExp(rule.match).exec(line) : null;
    if (m) return m[0].trim();
  }
  return undefined;
}

test('an attach point with a glob path is one header, comment-like text included', () => {
  assert.equal(header('uprobe:/usr/bin/*sh:readline {'), 'uprobe:/usr/bin/*sh:readline');
  assert.equal(header('uprobe:/usr//lib/*/libc.so.6:malloc,'), 'uprobe:/usr//lib/*/libc.so.6:malloc');
  assert.equal(header('kprobe:vfs_read /pid == 1/ {'), 'kprobe:vfs_read');
  assert.equal(header('tracepoint:syscalls:sys_enter_read, kprobe:f'), 'tracepoint:syscalls:sys_enter_read');
});
