// The formatter's check of its own output: the text it gives must parse to the same program as
// the text it was given (same tree but for positions and written form, same syntax problems,
// same comment words), else the output is not used.
import { parse, type ParseResult } from '../syntax/parser';
import { sameTree } from './same-tree';
import { Trivia } from './trivia';

/** Every word of every comment, in order (the formatter re-flows comments, never rewords them). */
function commentWords(text: string, parsed: ParseResult): string {
  const p = parsed.program;
  const trivia = new Trivia(text, parsed.comments, [...p.preprocessor, ...p.cDefinitions]);
  return trivia.comments
    .flatMap((c) => c.lines)
    .join(' ')
    .split(/\s+/)
    .filter((w) => w !== '')
    .join(' ');
}

/**
 * Whether `text` parses to the same program as `before` (the parse of `beforeText`). Each
 * top-level item of the new tree is compared with the original's as soon as the parser has it,
 * and then dropped: the parse and the comparison are those of a whole second tree, but that tree
 * is never held (on a 5,000-line script, copying it was most of the garbage collector's work).
 */
export function parsesToSameProgram(before: ParseResult, beforeText: string, text: string): boolean {
  const items = before.program.items;
  let count = 0;
  let same = true;
  const after = parse(text, (item) => {
    if (same && !(count < items.length && sameTree(item, items[count]))) same = false;
    count++;
  });
  if (!same || count !== items.length) return false;
  // The items are the same: the rest of the program (preprocessor lines, C definitions, config,
  // imports) is compared with the original's own item list in place of the one not kept.
  return (
    after.problems.length === before.problems.length &&
    sameTree({ ...after.program, items }, before.program) &&
    commentWords(text, after) === commentWords(beforeText, before)
  );
}
