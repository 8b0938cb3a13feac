// Document, range and on-type formatting (`}` and `;`), in the document's dialect, with the
// `fieldtrace.format.*` settings. The editor's own tab size is ignored on purpose: the CLI and
// the editor must give the same text for the same settings.
import type { TextEdit } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Dialect } from '../analysis/dialects';
import {
  type Edit,
  type FormatResult,
  type FormatSettings,
  formatDocument,
  formatOnType,
  formatRange,
} from '../format/format';
import type { FeatureServer } from './feature-server';

export interface FormattingDeps extends Pick<FeatureServer, 'connection' | 'documents'> {
  /** The dialect a document is checked in (the same target as its diagnostics). */
  dialectOf(uri: string): Dialect;
  settings(): FormatSettings;
}

export const ON_TYPE_TRIGGERS = { firstTriggerCharacter: '}', moreTriggerCharacter: [';'] };

function toTextEdits(doc: TextDocument, result: FormatResult): TextEdit[] {
  return result.edits.map((e: Edit) => ({
    range: { start: doc.positionAt(e.start), end: doc.positionAt(e.end) },
    newText: e.newText,
  }));
}

export function registerFormatting(deps: FormattingDeps): void {
  const run = (
    uri: string,
    format: (text: string, dialect: Dialect, settings: FormatSettings, doc: TextDocument) => FormatResult,
  ) => {
    const doc = deps.documents.get(uri);
    if (!doc) return [];
    try {
      const result = format(doc.getText(), deps.dialectOf(uri), deps.settings(), doc);
      if (result.skipped) deps.connection.console.info(`formatting ${uri}: ${result.skipped}`);
      return toTextEdits(doc, result);
    } catch (err) {
      // A formatter bug must cost one request, never the document's text.
      deps.connection.console.error(`formatting ${uri} failed: ${(err as Error).stack ?? String(err)}`);
      return [];
    }
  };
  deps.connection.onDocumentFormatting((params) => run(params.textDocument.uri, formatDocument));
  deps.connection.onDocumentRangeFormatting((params) =>
    run(params.textDocument.uri, (text, dialect, settings, doc) =>
      formatRange(text, dialect, settings, doc.offsetAt(params.range.start), doc.offsetAt(params.range.end)),
    ),
  );
  deps.connection.onDocumentOnTypeFormatting((params) =>
    run(params.textDocument.uri, (text, dialect, settings, doc) =>
      formatOnType(text, dialect, settings, doc.offsetAt(params.position)),
    ),
  );
}
