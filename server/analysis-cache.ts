// The analysis of each open document, kept per document version and target: every feature of one
// keystroke (diagnostics, semantic tokens, completion…) shares one analyze() run.
import type { TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze, type Analysis } from './analysis/analyzer';
import type { Target, Targets } from './targets';

const SLOW_MS = 100;

export interface AnalysisLog {
  error(message: string): void;
  warn(message: string): void;
}

export class AnalysisCache {
  private readonly entries = new Map<string, { version: number; key: string; analysis: Analysis }>();

  constructor(
    private readonly documents: TextDocuments<TextDocument>,
    private readonly targets: Targets,
    private readonly log: AnalysisLog,
    /** Told of each fresh analysis (machine facts fetch the binaries it named). */
    private readonly analysed: (target: Target) => void = () => undefined,
  ) {}

  get(uri: string): Analysis | undefined {
    const doc = this.documents.get(uri);
    if (!doc) return undefined;
    const target = this.targets.forDocument(uri);
    const cached = this.entries.get(uri);
    if (cached && cached.version === doc.version && cached.key === target.key) return cached.analysis;
    const started = performance.now();
    let analysis: Analysis;
    try {
      analysis = analyze(doc.getText(), target.dialect, target.catalog, target.facts, {
        unsafe: target.unsafe,
      });
    } catch (err) {
      // A bug must cost the features of one document version, never the server.
      this.log.error(`analysis of ${uri} failed: ${(err as Error).stack ?? String(err)}`);
      analysis = analyze('', target.dialect, target.catalog);
      analysis.diagnostics.length = 0;
      analysis.diagnostics.push({
        start: 0,
        end: 0,
        severity: 'warning',
        code: 'internal-error',
        message: `The bpftrace language server could not analyse this text: ${(err as Error).message}`,
      });
    }
    const ms = performance.now() - started;
    if (ms > SLOW_MS) this.log.warn(`analysis of ${uri} (${doc.lineCount} lines) took ${ms.toFixed(0)} ms`);
    this.entries.set(uri, { version: doc.version, key: target.key, analysis });
    this.analysed(target);
    return analysis;
  }

  forget(uri: string): void {
    this.entries.delete(uri);
  }
}
