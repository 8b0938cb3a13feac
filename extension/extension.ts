// Wires the capabilities together; the work lives in FieldtraceContext and the capability folders.
import * as vscode from 'vscode';
import { FieldtraceContext } from './context';

let context: FieldtraceContext | undefined;

export async function activate(extensionContext: vscode.ExtensionContext): Promise<FieldtraceApi> {
  context = new FieldtraceContext(extensionContext);
  try {
    await context.start();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    context.log.error(`Activation failed: ${message}`);
    void vscode.window
      .showErrorMessage(`Fieldtrace could not start: ${message}`, 'Show Log')
      .then((choice) => {
        if (choice) context?.log.show();
      });
  }
  return context.api();
}

export async function deactivate(): Promise<void> {
  await context?.dispose();
  context = undefined;
}

/** What the extension exports to tests and to other extensions. */
export interface FieldtraceApi {
  /** Resolves once the language server answered `initialize` (rejects if it could not start). */
  serverReady(): Promise<{ serverName: string; serverVersion: string }>;
}
