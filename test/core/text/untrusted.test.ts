// The three renderings of untrusted text, checked against what the surfaces do with them: a
// Markdown renderer with links and autolinks on (markdown-it, linkify), the notification link
// form `[label](target)`, and the control characters a terminal obeys.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { markdownText, notificationText, terminalText } from '../../../core/text/untrusted';
import { sessionRow } from '../../../extension/trace/session-summary';
import { noteText } from '../../../extension/trace/terminal-text';
import { hasRawControl } from '../../helpers/fuzz';

const HOSTILE = [
  '[open me](command:workbench.action.terminal.new)',
  '[x](https://evil.example "t")',
  'https://evil.example/a_b and www.evil.example',
  '<a href="command:x">html</a> <img src=x onerror=alert(1)>',
  '**bold** _em_ `code` ~~s~~ # heading',
  '![img](command:y)',
  '[ref]: command:z',
  'line\none\r\n> quote',
  '\x1b]8;;command:x\x07link\x1b]8;;\x07 \x9b2J \u202eevil',
].join(' ');

// markdown-it (through @vscode/vsce) ships no types; this is all the test uses of it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MarkdownIt = require('markdown-it') as new (options: { linkify: boolean; html: boolean }) => {
  render(text: string): string;
};
const md = new MarkdownIt({ linkify: true, html: true });

describe('untrusted text', () => {
  it('markdownText: rendered Markdown has no link, image, HTML, emphasis or code; the words stay', () => {
    const html = md.render(markdownText(HOSTILE));
    assert.doesNotMatch(html, /<(a|img|strong|em|code|s|h1|blockquote)\b/, html);
    const text = html
      .replace(/<[^>]*>/g, '')
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    for (const word of [
      'command:workbench.action.terminal.new',
      'https://evil.example/a_b',
      'www.evil.example',
      'onerror=alert(1)',
    ])
      assert.ok(text.includes(word), `${word} in ${text}`);
    assert.ok(!hasRawControl(text));
  });

  it('the Sessions tooltip renders script and node names as text', () => {
    const row = sessionRow({
      id: 'abc',
      nodeLabel: '[node](command:workbench.action.openSettings)',
      scriptLabel: '[x](command:workbench.action.terminal.new).bt',
      running: true,
      eventCount: 1,
      rate: 1,
      logPath: '/tmp/`x`/[l](https://evil.example).jsonl',
    });
    const html = md.render(row.tooltip.join('\n\n'));
    assert.doesNotMatch(html, /<a\b|<code>/, html);
    assert.match(html, /<strong>\[x\]\(command:workbench\.action\.terminal\.new\)\.bt<\/strong>/);
  });

  it('notificationText: no `[label](target)` is left, controls are escaped, one line', () => {
    const text = notificationText(HOSTILE);
    assert.doesNotMatch(text, /\[[^\]]*\]\(/);
    assert.ok(!hasRawControl(text) && !text.includes('\n'));
    assert.ok(text.includes('command:workbench.action.terminal.new'));
  });

  it('terminalText: every C0 (but tab and newline), DEL and C1 control is a visible escape', () => {
    let all = '';
    for (let c = 0; c < 0xa0; c++) all += String.fromCharCode(c);
    const safe = terminalText(all);
    assert.ok(!hasRawControl(safe));
    assert.ok(
      safe.includes('\\u001b') &&
        safe.includes('\\u009b') &&
        safe.includes('\\u007f') &&
        safe.includes('\\u000d'),
    );
    assert.ok(safe.includes('\t\n'));
    assert.equal(terminalText(safe), safe, 'idempotent: printing twice changes nothing');
    assert.equal(terminalText('a\nb\tc', { field: true }), 'a\\u000ab\\u0009c');
    assert.equal(terminalText('wrk:worker_0 ünï'), 'wrk:worker_0 ünï');
  });

  it("the trace terminal's notes keep only their own dimming", () => {
    const note = noteText('node \x1b[2J\x1b]0;x\x07 dropped');
    assert.equal(note.split('\x1b').length - 1, 2, JSON.stringify(note));
    assert.ok(note.startsWith('\x1b[2m# node \\u001b[2J'));
  });
});
