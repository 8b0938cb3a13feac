// Text that came from outside (thread names, paths, stack symbols, a script's printf output,
// bpftrace's and a node's messages) shown to a person. Two surfaces, one function each:
// - a terminal obeys control characters: terminalText() shows them as visible escapes;
// - Markdown (tooltips) and VS Code notifications turn brackets and URLs into links, command:
//   URIs included: markdownText() and notificationText() leave no syntax in the text.
// The raw bytes stay where they are data (the .jsonl session log, the events).

/**
 * C0 controls (but tab and newline), DEL, C1 controls, and the Unicode format characters that
 * reorder or break what a person reads (bidi overrides and isolates, line/paragraph separators).
 */
// eslint-disable-next-line no-control-regex
const TERMINAL_UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

function escapeCode(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

const LINE_BREAKS = /[\t\n]/g;

/**
 * Untrusted text for a terminal: every control character becomes a visible `\u001b`-style escape
 * (also valid inside a JSON string), so nothing can clear the screen, move the cursor, set a
 * title or a hyperlink, or forge a line with a carriage return. Tab and newline stay, unless
 * `field` says the text is one field of a line (a thread name, a path): then they are escaped too.
 */
export function terminalText(text: string, options: { field?: boolean } = {}): string {
  const safe = text.replace(TERMINAL_UNSAFE, escapeCode);
  return options.field ? safe.replace(LINE_BREAKS, escapeCode) : safe;
}

// Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping all of them
// leaves no emphasis, link, autolink (`https\:\/\/`, `www\.`), HTML or code span.
const MARKDOWN_PUNCTUATION = /[!-/:-@[-`{-~]/g;

/** Untrusted text for a Markdown surface (a tooltip's MarkdownString): one line, no syntax. */
export function markdownText(text: string): string {
  return terminalText(text.replace(/\r?\n/g, ' ')).replace(MARKDOWN_PUNCTUATION, '\\$&');
}

/**
 * Untrusted text for a VS Code notification, whose only syntax is the link `[label](target)`
 * (command: URIs run a command): one line, controls escaped, and no `](` left to form a link.
 */
export function notificationText(text: string): string {
  return terminalText(text.replace(/\r?\n/g, ' ')).replace(/\]\s*\(/g, '] (');
}
