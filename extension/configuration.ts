// The one reader of `fieldtrace.*` settings in the extension: typed values (extension/settings.ts)
// refreshed on every change, and an event per section that changed. Deprecated keys are said once.
import * as vscode from 'vscode';
import { changedSections, type FieldtraceSettings, readSettings, type SettingsSection } from './settings';
import { notify } from './notify';

export class Configuration implements vscode.Disposable {
  private current: FieldtraceSettings;
  private readonly changed = new vscode.EventEmitter<ReadonlySet<SettingsSection>>();
  private readonly subscription: vscode.Disposable;
  private readonly said = new Set<string>();

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.current = this.read();
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('fieldtrace')) return;
      const before = this.current;
      this.current = this.read();
      const sections = changedSections(before, this.current);
      if (sections.length) this.changed.fire(new Set(sections));
    });
  }

  /** The settings as they are now (a fresh object after each change). */
  get settings(): FieldtraceSettings {
    return this.current;
  }

  /** Calls `listener` with the new settings when one of `sections` changed. */
  onDidChange(
    sections: SettingsSection[],
    listener: (settings: FieldtraceSettings) => void,
  ): vscode.Disposable {
    return this.changed.event((changed) => {
      if (sections.some((s) => changed.has(s))) listener(this.current);
    });
  }

  private read(): FieldtraceSettings {
    const config = vscode.workspace.getConfiguration('fieldtrace');
    const { settings, deprecations } = readSettings({
      value: (key) => config.get(key),
      userValue: (key) => {
        const set = config.inspect(key);
        return set?.workspaceFolderValue ?? set?.workspaceValue ?? set?.globalValue;
      },
    });
    for (const message of deprecations) {
      if (this.said.has(message)) continue;
      this.said.add(message);
      this.log.warn(message);
      void notify.warning(`Fieldtrace: ${message}`);
    }
    return settings;
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
  }
}
