// The one "which process on the node?" picker: the node's processes (those the user already
// traces first, then proxies) and a row for what is typed, which each caller reads its own way
// (a pid for a snapshot, a target such as envoy@container:PID for the listener trace).
import * as vscode from 'vscode';
import type { ProcessEntry } from '../../core/nodes/processes';

export interface TypedRow<T> {
  label: string;
  description: string;
  /** What the row stands for; without one the row only explains (e.g. why the text is wrong). */
  value?: T;
}

export interface ProcessPickerOptions<T> {
  title: string;
  placeholder: string;
  initialValue?: string;
  /** The node's processes, ranked; while they load the picker shows busy. */
  processes: Promise<ProcessEntry[]>;
  traced?: ReadonlySet<number>;
  /** The row for the typed text, if it means something. */
  typed(text: string, processes: readonly ProcessEntry[]): TypedRow<T> | undefined;
}

export type ProcessPick<T> = { typed: T } | { pid: number };

export async function pickNodeProcess<T>(
  options: ProcessPickerOptions<T>,
): Promise<ProcessPick<T> | undefined> {
  type Item = vscode.QuickPickItem & { pick?: ProcessPick<T> };
  const picker = vscode.window.createQuickPick<Item>();
  picker.title = options.title;
  picker.placeholder = options.placeholder;
  picker.matchOnDescription = true;
  picker.matchOnDetail = true;
  picker.busy = true;
  let processes: ProcessEntry[] = [];
  let listed: Item[] = [];
  // The typed row comes first: its label holds the text, so it also sorts first.
  const show = () => {
    const text = picker.value.trim();
    const row = text ? options.typed(text, processes) : undefined;
    const typed: Item[] = row
      ? [
          {
            label: row.label,
            description: row.description,
            alwaysShow: true,
            ...(row.value !== undefined ? { pick: { typed: row.value } } : {}),
          },
        ]
      : [];
    picker.items = [...typed, ...listed];
  };
  picker.onDidChangeValue(show);
  if (options.initialValue) picker.value = options.initialValue;
  show();
  picker.show();
  options.processes.then(
    (found) => {
      processes = found;
      listed = found.map((p) => ({
        label: p.name,
        description: `pid ${p.pid}${options.traced?.has(p.pid) ? ' · traced' : ''}`,
        detail: p.commandLine,
        pick: { pid: p.pid },
      }));
      picker.busy = false;
      show();
    },
    (error: unknown) => {
      picker.busy = false;
      picker.placeholder = `Cannot list the node's processes (${error instanceof Error ? error.message : String(error)}): type instead`;
    },
  );
  try {
    return await new Promise<ProcessPick<T> | undefined>((resolve) => {
      picker.onDidAccept(() => {
        const pick = picker.selectedItems[0]?.pick;
        if (pick) resolve(pick);
      });
      picker.onDidHide(() => resolve(undefined));
    });
  } finally {
    picker.dispose();
  }
}
