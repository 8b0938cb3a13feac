// Fuzz: mutated corpus scripts (deleted, duplicated, swapped tokens and bytes; seeded PRNG)
// through the analysis entry point and, for a subset, through the real LSP. Nothing may throw,
// every diagnostic range must lie inside the text, and a 1 MB script must get an answer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CodeActionRequest,
  CompletionRequest,
  DefinitionRequest,
  DocumentSymbolRequest,
  FoldingRangeRequest,
  HoverRequest,
  PrepareRenameRequest,
  ReferencesRequest,
  SignatureHelpRequest,
} from 'vscode-languageserver-protocol';
import { analyze } from '../../server/analysis/analyzer';
import { Dialect } from '../../server/analysis/dialects';
import { bundledCatalog } from '../../server/catalog/catalog';
import { CORPUS_DIR, corpusScripts } from '../corpus/verdict';
import { startServer } from './harness';

const SEED = Number(process.env.FUZZ_SEED ?? 20260517);
const INPUTS = Number(process.env.FUZZ_INPUTS ?? 10_000);
const LSP_INPUTS = 300;

/** mulberry32: small, fast, and the same sequence on every machine for a given seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKEN = /\s+|[A-Za-z_$@][\w]*|\d+|"(?:\\.|[^"\\\n])*"?|\/\/[^\n]*|->|[^\s]/g;
// Bytes that stress a lexer: quotes, comment openers, braces, NUL, a lone surrogate, astral chars.
const ODD = [
  '"',
  '/*',
  '*/',
  '//',
  '{',
  '}',
  '(',
  ')',
  '/',
  '\\',
  '\0',
  '\ud800',
  '😀',
  '\r',
  '\t',
  '$',
  '@',
  '#',
  ':',
  '->',
  '..',
  "'",
];

function mutate(text: string, random: () => number): string {
  const pick = (n: number) => Math.floor(random() * n);
  let out = text;
  const rounds = 1 + pick(3);
  for (let r = 0; r < rounds; r++) {
    const tokens = out.match(TOKEN) ?? [''];
    const i = pick(tokens.length);
    const j = pick(tokens.length);
    const at = pick(out.length + 1);
    switch (pick(9)) {
      case 0:
        tokens.splice(i, 1);
        out = tokens.join('');
        break;
      case 1:
        tokens.splice(i, 0, tokens[i]);
        out = tokens.join('');
        break;
      case 2:
        [tokens[i], tokens[j]] = [tokens[j], tokens[i]];
        out = tokens.join('');
        break;
      case 3:
        out = out.slice(0, at) + out.slice(at + 1);
        break;
      case 4:
        out = out.slice(0, at) + out.slice(at, at + 1) + out.slice(at);
        break;
      case 5: {
        const b = pick(out.length + 1);
        const chars = [...out];
        if (chars.length > 1)
          [chars[at % chars.length], chars[b % chars.length]] = [
            chars[b % chars.length],
            chars[at % chars.length],
          ];
        out = chars.join('');
        break;
      }
      case 6:
        out = out.slice(0, at) + ODD[pick(ODD.length)] + out.slice(at);
        break;
      case 7:
        out = out.slice(0, at);
        break;
      default:
        // A token moved far from home (e.g. a `}` into a predicate).
        out = out.slice(0, at) + tokens[i] + out.slice(at);
    }
  }
  return out;
}

function seeds(): string[] {
  return corpusScripts().map((s) => readFileSync(join(CORPUS_DIR, s), 'utf8'));
}

function checkRanges(
  text: string,
  diagnostics: Array<{ start: number; end: number; message: string }>,
  label: string,
) {
  for (const d of diagnostics) {
    assert.ok(
      d.start >= 0 && d.start <= d.end && d.end <= text.length,
      `${label}: range ${d.start}-${d.end} of ${text.length}`,
    );
    assert.ok(typeof d.message === 'string' && d.message.length > 0, `${label}: empty message`);
  }
}

test(`fuzz: ${INPUTS} mutated scripts through the analysis entry point`, () => {
  const random = prng(SEED);
  const base = seeds();
  const dialects = [new Dialect('0.17'), new Dialect('0.21'), new Dialect('0.26')];
  const catalog = bundledCatalog();
  const started = Date.now();
  let diagnostics = 0;
  for (let n = 0; n < INPUTS; n++) {
    const text = mutate(base[Math.floor(random() * base.length)], random);
    const dialect = dialects[n % dialects.length];
    let result;
    try {
      result = analyze(text, dialect, catalog);
    } catch (error) {
      assert.fail(
        `input ${n} (FUZZ_SEED=${SEED}, dialect ${dialect.name}) threw ${String(error)}\n---\n${text}\n---`,
      );
    }
    checkRanges(text, result.diagnostics, `input ${n}`);
    diagnostics += result.diagnostics.length;
  }
  const ms = Date.now() - started;
  console.log(`fuzz: ${INPUTS} inputs, ${diagnostics} diagnostics, ${ms} ms (seed ${SEED})`);
  assert.ok(diagnostics > INPUTS / 2, 'mutations should produce diagnostics');
});

test(`fuzz: ${LSP_INPUTS} mutated scripts and a 1 MB script through the real LSP`, async () => {
  const random = prng(SEED ^ 0x5eed);
  const base = seeds();
  const server = await startServer({ bpftraceVersion: '0.17' });
  try {
    const caps = server.initializeResult.capabilities;
    for (let n = 0; n < LSP_INPUTS; n++) {
      const text = mutate(base[Math.floor(random() * base.length)], random);
      const uri = server.open(`fuzz-${n}.bt`, text);
      const published = await server.diagnostics(uri, 10_000);
      for (const d of published.diagnostics) {
        assert.ok(d.range.start.line <= d.range.end.line, `fuzz-${n}: inverted range`);
      }
      // Requests at a random position: whatever the server offers must answer, not fail.
      const offset = Math.floor(random() * (text.length + 1));
      const before = text.slice(0, offset);
      const position = {
        line: before.split('\n').length - 1,
        character: offset - (before.lastIndexOf('\n') + 1),
      };
      const textDocument = { uri };
      if (caps.completionProvider)
        await server.client.sendRequest(CompletionRequest.type, { textDocument, position });
      if (caps.hoverProvider) await server.client.sendRequest(HoverRequest.type, { textDocument, position });
      if (caps.documentSymbolProvider)
        await server.client.sendRequest(DocumentSymbolRequest.type, { textDocument });
      if (caps.foldingRangeProvider)
        await server.client.sendRequest(FoldingRangeRequest.type, { textDocument });
      if (caps.signatureHelpProvider)
        await server.client.sendRequest(SignatureHelpRequest.type, { textDocument, position });
      if (caps.definitionProvider)
        await server.client.sendRequest(DefinitionRequest.type, { textDocument, position });
      if (caps.referencesProvider) {
        await server.client.sendRequest(ReferencesRequest.type, {
          textDocument,
          position,
          context: { includeDeclaration: true },
        });
      }
      if (caps.renameProvider)
        await server.client.sendRequest(PrepareRenameRequest.type, { textDocument, position });
      if (caps.codeActionProvider && published.diagnostics.length) {
        await server.client.sendRequest(CodeActionRequest.type, {
          textDocument,
          range: published.diagnostics[0].range,
          context: { diagnostics: published.diagnostics },
        });
      }
    }

    // 1 MB made of corpus scripts back to back (with their errors), each probe renamed apart.
    const parts: string[] = [];
    let size = 0;
    for (let i = 0; size < 1 << 20; i++) {
      const part = `${base[i % base.length]}\n`;
      parts.push(part);
      size += part.length;
    }
    const big = parts.join('');
    const started = Date.now();
    const uri = server.open('one-megabyte.bt', big);
    const published = await server.diagnostics(uri, 60_000);
    console.log(
      `1 MB script (${big.split('\n').length} lines): ${published.diagnostics.length} diagnostics in ${Date.now() - started} ms`,
    );
    assert.ok(published.diagnostics.length > 0);
    const analysed = analyze(big, new Dialect('0.17'), bundledCatalog());
    checkRanges(big, analysed.diagnostics, '1 MB');
  } finally {
    await server.close();
  }
});
