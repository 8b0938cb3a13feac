// What the Sessions tree and the status bar say about trace sessions, as plain data: the views
// turn it into tree items and a status bar entry.
import { markdownText } from '../../core/text/untrusted';
import type { TraceEnd } from '../../core/trace/runner';

/** What the views need of one session. */
export interface SessionFacts {
  id: string;
  nodeLabel: string;
  scriptLabel: string;
  running: boolean;
  eventCount: number;
  /** Events per second over the last seconds. */
  rate: number;
  end?: TraceEnd;
  logPath: string;
}

export interface SessionRow {
  label: string;
  description: string;
  /** Markdown paragraphs. */
  tooltip: string[];
  icon: 'pulse' | 'circle-outline';
  /** For the view's menus (`when: viewItem == …`). */
  contextValue: 'fieldtrace.session.running' | 'fieldtrace.session.ended';
}

export function sessionRow(s: SessionFacts): SessionRow {
  return {
    label: sessionTitle(s),
    description: s.running
      ? `running · ${s.eventCount} events · ${s.rate.toFixed(0)}/s`
      : `ended (${s.end?.reason ?? `exit ${s.end?.exitCode ?? '?'}`}) · ${s.eventCount} events`,
    // Script and node names and the log path are text from outside (a cloned workspace, a config):
    // rendered so that no link or command: URI can be made of them.
    tooltip: [
      `**${markdownText(s.scriptLabel)}** on **${markdownText(s.nodeLabel)}**`,
      `Session ${markdownText(s.id)}`,
      `Log: ${markdownText(s.logPath)}`,
    ],
    icon: s.running ? 'pulse' : 'circle-outline',
    contextValue: s.running ? 'fieldtrace.session.running' : 'fieldtrace.session.ended',
  };
}

/** How a session is named in the tree and in pickers. */
export function sessionTitle(s: Pick<SessionFacts, 'nodeLabel' | 'scriptLabel'>): string {
  return `${s.nodeLabel} · ${s.scriptLabel}`;
}

/** The status bar entry for the running sessions, or undefined when none runs. */
export function statusSummary(sessions: SessionFacts[]): { text: string; tooltip: string } | undefined {
  const live = sessions.filter((s) => s.running);
  if (live.length === 0) return undefined;
  const rate = live.reduce((sum, s) => sum + s.rate, 0);
  return {
    text: `$(pulse) ${live.length} trace${live.length > 1 ? 's' : ''} · ${rate.toFixed(0)} ev/s`,
    tooltip: live.map((s) => `${sessionTitle(s)}: ${s.eventCount} events`).join('\n'),
  };
}
