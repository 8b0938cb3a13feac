// Publishes the semantic pass's diagnostics for every open document, on open and on change.
import {
  type Diagnostic,
  DiagnosticSeverity,
  DiagnosticTag,
  type DiagnosticRelatedInformation,
} from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis, Severity } from '../analysis/analyzer';
import type { FeatureServer } from './feature-server';
import { toRange } from './util';

export const DIAGNOSTIC_SOURCE = 'bpftrace';

const SEVERITY: Record<Severity, DiagnosticSeverity> = {
  error: DiagnosticSeverity.Error,
  warning: DiagnosticSeverity.Warning,
  info: DiagnosticSeverity.Information,
  hint: DiagnosticSeverity.Hint,
};

export function toDiagnostics(doc: TextDocument, analysis: Analysis): Diagnostic[] {
  return analysis.diagnostics.map((d, index) => {
    const related: DiagnosticRelatedInformation[] | undefined = d.related?.map((r) => ({
      location: { uri: doc.uri, range: toRange(doc, r) },
      message: r.message,
    }));
    const diagnostic: Diagnostic = {
      range: toRange(doc, d),
      severity: SEVERITY[d.severity],
      code: d.code,
      source: DIAGNOSTIC_SOURCE,
      message: d.message,
      // The index lets code actions find the fixes of this diagnostic again.
      data: { index, version: doc.version },
    };
    if (related?.length) diagnostic.relatedInformation = related;
    if (d.deprecated) diagnostic.tags = [DiagnosticTag.Deprecated];
    return diagnostic;
  });
}

export interface DiagnosticsFeature {
  validate(uri: string): void;
}

export function registerDiagnostics(server: FeatureServer): DiagnosticsFeature {
  const pending = new Set<string>();
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    for (const uri of [...pending]) {
      pending.delete(uri);
      const doc = server.documents.get(uri);
      if (!doc) continue;
      const analysis = server.analysis(uri);
      if (!analysis) continue;
      void server.connection.sendDiagnostics({
        uri,
        version: doc.version,
        diagnostics: toDiagnostics(doc, analysis),
      });
    }
  };
  // Coalesce bursts of changes: only the latest text of each document is analysed.
  const validate = (uri: string) => {
    pending.add(uri);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  server.documents.onDidChangeContent((e) => validate(e.document.uri));
  server.documents.onDidClose((e) => {
    pending.delete(e.document.uri);
    void server.connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
  });
  return { validate };
}
