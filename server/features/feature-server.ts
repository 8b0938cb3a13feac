// What a language feature sees of the server: the connection to answer on, the open documents,
// and the cached analysis of each. Features get this from server.ts, never the server class,
// so that no feature depends on the module that registers it.
import type { Connection, TextDocuments } from 'vscode-languageserver';
import type { TextDocument } from 'vscode-languageserver-textdocument';
import type { Analysis } from '../analysis/analyzer';
import type { TargetFacts } from '../facts';

export interface FeatureServer {
  readonly connection: Connection;
  readonly documents: TextDocuments<TextDocument>;
  /** The analysis of a document's current text in its target dialect (cached by version). */
  analysis(uri: string): Analysis | undefined;
  /** Facts of the machine a document is bound to (its binaries' symbols), when known. */
  facts?(uri: string): TargetFacts | undefined;
}
