// Every `fieldtrace.*` setting, typed, with its section and its fallback; no `vscode` import, so
// that the reading rules are tested without an editor. extension/configuration.ts feeds it from
// VS Code's settings and tells the capabilities when a section changed.

import * as path from 'node:path';
import type { PathMapping } from '../core/stacks/dwarf';

export type LanguageServerTrace = 'off' | 'messages' | 'verbose';

export interface FieldtraceSettings {
  /** SSH destinations offered beside this machine and the hosts of ~/.ssh/config. */
  nodes: string[];
  /** C++ source trees as written (relative ones are resolved by `resolveSourceRoots`). */
  sourceRoots: string[];
  /** `unsafe`: check and run every script as with `bpftrace --unsafe`. */
  bpftrace: { version: string; unsafe: boolean };
  /** Passed to the language server, which keeps them within its bounds. */
  format: { indentSize: number; width: number };
  languageServer: { trace: LanguageServerTrace };
  /** `terminalStacks`: each event's stack as one link line (`folded`) or frame by frame (`full`). */
  trace: { sessionLogDirectory: string; stopTimeoutSeconds: number; terminalStacks: 'folded' | 'full' };
  /**
   * `countInterval`: seconds between the listener trace's accept counts. `envoyAdmin`: the Envoy
   * admin address read beside the trace (`IP:PORT`), empty for none.
   */
  listeners: { userStacks: boolean; countInterval: number; envoyAdmin: string };
  stacks: {
    pathMappings: PathMapping[];
    debugBinary: string;
    debugBinaryNode: string;
    documentLinks: boolean;
  };
}

/** The top-level part of a setting's key; a change event names the sections it touched. */
export type SettingsSection = keyof FieldtraceSettings;

export const SETTINGS_SECTIONS: readonly SettingsSection[] = [
  'nodes',
  'sourceRoots',
  'bpftrace',
  'format',
  'languageServer',
  'trace',
  'listeners',
  'stacks',
];

/**
 * The values used when a setting is absent or of the wrong type; package.json declares the same
 * defaults (a test holds the two together).
 */
export const DEFAULT_SETTINGS: FieldtraceSettings = {
  nodes: [],
  sourceRoots: [],
  bpftrace: { version: '', unsafe: false },
  format: { indentSize: 2, width: 90 },
  languageServer: { trace: 'off' },
  trace: { sessionLogDirectory: '', stopTimeoutSeconds: 10, terminalStacks: 'folded' },
  listeners: { userStacks: true, countInterval: 1, envoyAdmin: '127.0.0.1:15000' },
  stacks: { pathMappings: [], debugBinary: '', debugBinaryNode: '', documentLinks: false },
};

/** The key the language-server trace had before it moved out of the trace-session settings. */
export const LEGACY_LANGUAGE_SERVER_TRACE = 'trace.server';
/** Its key now, under `fieldtrace.` (the language client reads `<client id>.trace.server`). */
export const LANGUAGE_SERVER_TRACE = 'languageServer.trace.server';
/** The language client's id: it makes the client read `fieldtrace.languageServer.trace.server`. */
export const LANGUAGE_CLIENT_ID = 'fieldtrace.languageServer';

/**
 * Reads a setting, relative to `fieldtrace.`: `value` is what applies (defaults included),
 * `userValue` only what a user or workspace set (undefined when nobody did).
 */
export interface SettingsSource {
  value(key: string): unknown;
  userValue(key: string): unknown;
}

export interface SettingsRead {
  settings: FieldtraceSettings;
  /** One sentence per deprecated key still in use, for the log and a notice. */
  deprecations: string[];
}

export function readSettings(source: SettingsSource): SettingsRead {
  const d = DEFAULT_SETTINGS;
  const deprecations: string[] = [];
  let trace = enumOf(source.value(LANGUAGE_SERVER_TRACE), TRACE_LEVELS, d.languageServer.trace);
  const legacy = source.userValue(LEGACY_LANGUAGE_SERVER_TRACE);
  if (legacy !== undefined) {
    deprecations.push(
      `fieldtrace.${LEGACY_LANGUAGE_SERVER_TRACE} is now fieldtrace.${LANGUAGE_SERVER_TRACE}; ` +
        (source.userValue(LANGUAGE_SERVER_TRACE) === undefined
          ? 'its value is used until you move it.'
          : 'the new key wins: remove the old one.'),
    );
    if (source.userValue(LANGUAGE_SERVER_TRACE) === undefined) trace = enumOf(legacy, TRACE_LEVELS, trace);
  }
  return {
    settings: {
      nodes: stringList(source.value('nodes')),
      sourceRoots: stringList(source.value('sourceRoots')),
      bpftrace: {
        version: versionText(source.value('bpftrace.version')),
        unsafe: booleanOr(source.value('bpftrace.unsafe'), d.bpftrace.unsafe),
      },
      format: {
        indentSize: integerOr(source.value('format.indentSize'), d.format.indentSize),
        width: integerOr(source.value('format.width'), d.format.width),
      },
      languageServer: { trace },
      trace: {
        sessionLogDirectory: text(source.value('trace.sessionLogDirectory')),
        stopTimeoutSeconds: atLeast(
          1,
          numberOr(source.value('trace.stopTimeoutSeconds'), d.trace.stopTimeoutSeconds),
        ),
        terminalStacks: enumOf(source.value('trace.terminalStacks'), TERMINAL_STACKS, d.trace.terminalStacks),
      },
      listeners: {
        userStacks: booleanOr(source.value('listeners.userStacks'), d.listeners.userStacks),
        countInterval: Math.min(
          3600,
          atLeast(0.01, numberOr(source.value('listeners.countInterval'), d.listeners.countInterval)),
        ),
        envoyAdmin: (() => {
          const v = source.value('listeners.envoyAdmin');
          return typeof v === 'string' ? v.trim() : d.listeners.envoyAdmin;
        })(),
      },
      stacks: {
        pathMappings: pathMappings(source.value('stacks.pathMappings')),
        debugBinary: text(source.value('stacks.debugBinary')),
        debugBinaryNode: text(source.value('stacks.debugBinaryNode')),
        documentLinks: booleanOr(source.value('stacks.documentLinks'), d.stacks.documentLinks),
      },
    },
    deprecations,
  };
}

/** Which sections differ between two reads (what a change event reports). */
export function changedSections(before: FieldtraceSettings, after: FieldtraceSettings): SettingsSection[] {
  return SETTINGS_SECTIONS.filter((s) => JSON.stringify(before[s]) !== JSON.stringify(after[s]));
}

/** Source roots: relative ones from the first workspace folder; none set: the workspace folders. */
export function resolveSourceRoots(configured: string[], folders: string[], cwd: string): string[] {
  if (!configured.length) return folders;
  const base = folders[0] ?? cwd;
  return configured.map((r) => (path.isAbsolute(r) ? r : path.resolve(base, r)));
}

/** `${workspaceFolder}` in a mapping's target is the first workspace folder. */
export function resolvePathMappings(mappings: PathMapping[], folder: string): PathMapping[] {
  return mappings.map((m) => ({ from: m.from, to: m.to.replace('${workspaceFolder}', folder) }));
}

const TRACE_LEVELS: readonly LanguageServerTrace[] = ['off', 'messages', 'verbose'];
const TERMINAL_STACKS: readonly FieldtraceSettings['trace']['terminalStacks'][] = ['folded', 'full'];

function text(value: unknown): string {
  return typeof value === 'string' ? value.trim() : '';
}

// Other editors' configs and hand-written JSON may give a number (`0.17`).
function versionText(value: unknown): string {
  return typeof value === 'number' ? String(value) : text(value);
}

function stringList(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value)
    if (typeof item === 'string' && item.trim() && !out.includes(item.trim())) out.push(item.trim());
  return out;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

// Hand-written settings files may quote a number.
function integerOr(value: unknown, fallback: number): number {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : fallback;
}

function atLeast(min: number, value: number): number {
  return Math.max(min, value);
}

function booleanOr(value: unknown, fallback: boolean): boolean {
  return typeof value === 'boolean' ? value : fallback;
}

function enumOf<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return allowed.find((a) => a === value) ?? fallback;
}

function pathMappings(value: unknown): PathMapping[] {
  if (!Array.isArray(value)) return [];
  return value
    .filter(
      (m): m is PathMapping =>
        typeof m === 'object' &&
        m !== null &&
        typeof (m as Partial<PathMapping>).from === 'string' &&
        typeof (m as Partial<PathMapping>).to === 'string',
    )
    .map((m) => ({ from: m.from, to: m.to }));
}
