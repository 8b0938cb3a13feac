// Entry point of the bundled language server: a connection over whatever transport VS Code
// chose (IPC here). Tests create their own connection over in-memory streams instead.
import { createConnection, ProposedFeatures } from 'vscode-languageserver/node';
import { BpftraceLanguageServer } from './server';

const connection = createConnection(ProposedFeatures.all);
new BpftraceLanguageServer(connection).listen();
