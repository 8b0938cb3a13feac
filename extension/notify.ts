// The one way the extension shows a notification. Notification text renders `[label](target)` as
// a link, `command:` URIs included, and messages carry text from outside (bpftrace's and a node's
// errors, thread names, file names): the message goes through notificationText() first. ESLint
// forbids vscode.window.show*Message everywhere else.
import * as vscode from 'vscode';
import { notificationText, terminalText } from '../core/text/untrusted';

type Show = <T extends string>(message: string, ...items: T[]) => Thenable<T | undefined>;

function safe(show: typeof vscode.window.showErrorMessage): Show {
  return (message, ...items) => show(notificationText(message), ...items) as Thenable<never>;
}

/* eslint-disable no-restricted-syntax */
export const notify = {
  error: safe(vscode.window.showErrorMessage),
  warning: safe(vscode.window.showWarningMessage),
  info: safe(vscode.window.showInformationMessage),
  /** A modal question: its detail is plain text (lines kept, controls escaped), its title a message. */
  modalWarning<T extends string>(message: string, detail: string, ...items: T[]): Thenable<T | undefined> {
    return vscode.window.showWarningMessage(
      notificationText(message),
      { modal: true, detail: terminalText(detail) },
      ...items,
    );
  },
};
/* eslint-enable no-restricted-syntax */
