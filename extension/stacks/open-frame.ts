// Opening a frame's source: resolve it (source index, then DWARF when a debug binary is set),
// open the location, or say why not and offer the near matches.
import * as vscode from 'vscode';
import { findFrameInLine } from '../../core/stacks/frames';
import type { Resolution } from '../../core/stacks/resolution';
import type { StackService } from './service';
import { notify } from '../notify';

/**
 * Of overlapping requests, only the newest is carried out: each `start()` gives a check that
 * stays true until the next `start()`.
 */
export function newestWins(): { start(): () => boolean } {
  let newest = 0;
  return {
    start() {
      const mine = ++newest;
      return () => mine === newest;
    },
  };
}

/**
 * Resolves a frame and opens its source, unless `stillWanted()` says another frame was asked for
 * meanwhile: a resolution can take seconds (DWARF over SSH), and a late editor would pull the
 * focus from whatever the user did since.
 */
export async function openFrame(
  service: StackService,
  frame: string,
  calleeFrame: string | undefined,
  stillWanted: () => boolean,
): Promise<Resolution | undefined> {
  if (typeof frame !== 'string' || !frame.trim())
    throw new Error('fieldtrace.openFrame expects a frame string');
  const r = await service.resolve(frame, typeof calleeFrame === 'string' ? calleeFrame : undefined);
  if (stillWanted()) await openResolution(r);
  return r;
}

export async function openResolution(r: Resolution): Promise<void> {
  if (r.location) {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(r.location.file));
    const pos = new vscode.Position(r.location.line - 1, r.location.column);
    await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: true });
    if (r.reason) vscode.window.setStatusBarMessage(`Fieldtrace: ${r.reason}`, 8000);
    return;
  }
  const reason = r.reason ?? 'not found';
  if (r.candidates?.length) {
    const pick = await notify.warning(`Fieldtrace: ${reason}`, 'Show Near Matches');
    if (pick) {
      const item = await vscode.window.showQuickPick(
        r.candidates.map((c) => ({
          label: c.definition,
          description: `${vscode.workspace.asRelativePath(c.file)}:${c.line}`,
          c,
        })),
        { placeHolder: 'Near matches: none of them is the frame’s function' },
      );
      if (item) await openResolution({ ...r, location: item.c, candidates: undefined, reason: undefined });
    }
  } else {
    void notify.warning(`Fieldtrace: ${r.frame} — ${reason}`);
  }
}

/** "Open Frame Source": the selection, else the frame on the cursor's line, else the clipboard. */
export async function openFrameSource(service: StackService, stillWanted: () => boolean): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  const candidates: string[] = [];
  if (editor) {
    const sel = editor.document.getText(editor.selection);
    if (sel.trim()) candidates.push(...sel.split(/\r?\n/));
    else candidates.push(editor.document.lineAt(editor.selection.active.line).text);
  }
  candidates.push(...(await vscode.env.clipboard.readText()).split(/\r?\n/));
  for (const line of candidates) {
    const m = findFrameInLine(line);
    if (m) {
      await openFrame(service, m.frame.raw, undefined, stillWanted);
      return;
    }
  }
  void notify.info('Fieldtrace: no stack frame in the selection, on this line or in the clipboard.');
}
