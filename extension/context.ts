// What every capability of the extension shares: the log, the extension's storage, command
// registration that reports failures instead of throwing, and the disposables of the whole.
// It knows no capability: extension.ts creates them and hands each what it needs.
import * as vscode from 'vscode';
import { notify } from './notify';

/** A thing to release at deactivation; an async one is awaited. */
export interface Releasable {
  dispose(): unknown;
}

export class FieldtraceContext {
  readonly log = vscode.window.createOutputChannel('Fieldtrace', { log: true });
  private readonly disposables: Releasable[] = [this.log];

  constructor(readonly extension: vscode.ExtensionContext) {}

  registerCommand(id: string, handler: (...args: never[]) => unknown): void {
    this.disposables.push(
      vscode.commands.registerCommand(id, async (...args: never[]) => {
        try {
          return await handler(...args);
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          this.log.error(`${id}: ${message}`);
          void notify.error(`Fieldtrace: ${message}`);
          return undefined;
        }
      }),
    );
  }

  track<T extends Releasable>(disposable: T): T {
    this.disposables.push(disposable);
    return disposable;
  }

  /** Releases everything, the last tracked first (capabilities before what they use). */
  async dispose(): Promise<void> {
    for (const d of this.disposables.splice(0).reverse()) {
      try {
        await d.dispose();
      } catch {
        // Deactivation goes on: what is left must still be released.
      }
    }
  }
}
