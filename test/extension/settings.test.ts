// The typed reading of `fieldtrace.*` settings (extension/settings.ts), held against the manifest
// that declares them: same keys, same defaults, a scope on each.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  changedSections,
  DEFAULT_SETTINGS,
  LANGUAGE_SERVER_TRACE,
  LEGACY_LANGUAGE_SERVER_TRACE,
  readSettings,
  resolvePathMappings,
  resolveSourceRoots,
  type SettingsSource,
} from '../../extension/settings';

interface DeclaredSetting {
  default?: unknown;
  scope?: string;
  deprecationMessage?: string;
  markdownDeprecationMessage?: string;
}

const manifest = JSON.parse(readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as {
  contributes: { configuration: Array<{ title: string; properties: Record<string, DeclaredSetting> }> };
};
const declared = new Map(
  manifest.contributes.configuration.flatMap((section) =>
    Object.entries(section.properties).map(([key, setting]) => [key.replace(/^fieldtrace\./, ''), setting]),
  ),
);

/** Settings as VS Code gives them: the user's values over the manifest's defaults. */
function source(user: Record<string, unknown>, asked?: Set<string>): SettingsSource {
  return {
    value: (key) => {
      asked?.add(key);
      return key in user ? user[key] : declared.get(key)?.default;
    },
    userValue: (key) => {
      asked?.add(key);
      return user[key];
    },
  };
}

test('with nothing set, the settings are the manifest defaults', () => {
  const { settings, deprecations } = readSettings(source({}));
  assert.deepEqual(settings, DEFAULT_SETTINGS);
  assert.deepEqual(deprecations, []);
});

test('every declared setting is read, has a scope, and defaults as the reader does', () => {
  const asked = new Set<string>();
  readSettings(source({}, asked));
  for (const [key, setting] of declared) {
    assert.ok(asked.has(key), `fieldtrace.${key} is declared but never read`);
    assert.ok(setting.scope, `fieldtrace.${key} has no scope`);
    if (setting.markdownDeprecationMessage ?? setting.deprecationMessage) continue;
    // The reader's fallback for a missing or wrongly typed value is the manifest's default.
    const fallback = readSettings({
      value: (k) => (k === key ? Symbol('wrong type') : undefined),
      userValue: () => undefined,
    });
    assert.deepEqual(
      (key === LANGUAGE_SERVER_TRACE ? 'languageServer.trace' : key)
        .split('.')
        .reduce<unknown>((o, part) => (o as Record<string, unknown>)[part], fallback.settings),
      setting.default,
      `fieldtrace.${key}`,
    );
  }
  for (const key of asked)
    assert.ok(declared.has(key), `fieldtrace.${key} is read but not declared in package.json`);
  // Paths and nodes differ between the machines one user works from.
  for (const key of [
    'nodes',
    'sourceRoots',
    'trace.sessionLogDirectory',
    'stacks.debugBinary',
    'stacks.debugBinaryNode',
  ])
    assert.equal(declared.get(key)?.scope, 'machine-overridable', key);
});

test('the language-server trace no longer shares the trace-session prefix', () => {
  assert.ok(!LANGUAGE_SERVER_TRACE.startsWith('trace.'));
  assert.ok(declared.get(LEGACY_LANGUAGE_SERVER_TRACE)?.markdownDeprecationMessage);
});

test('values of the wrong shape fall back; lists are trimmed and without repeats', () => {
  const { settings } = readSettings(
    source({
      nodes: ['  node-a ', '', 'node-a', 42, 'user@host:2222'],
      sourceRoots: 'not a list',
      'bpftrace.version': 0.17,
      'trace.stopTimeoutSeconds': 0,
      'listeners.userStacks': 'no',
      'stacks.pathMappings': [{ from: '/build/', to: '/src/' }, { from: '/x/' }, null, 'a'],
      'stacks.debugBinary': '  /usr/bin/envoy ',
      [LANGUAGE_SERVER_TRACE]: 'loud',
    }),
  );
  assert.deepEqual(settings.nodes, ['node-a', 'user@host:2222']);
  assert.deepEqual(settings.sourceRoots, []);
  assert.equal(settings.bpftrace.version, '0.17');
  assert.equal(settings.trace.stopTimeoutSeconds, 1);
  assert.equal(settings.listeners.userStacks, true);
  assert.deepEqual(settings.stacks.pathMappings, [{ from: '/build/', to: '/src/' }]);
  assert.equal(settings.stacks.debugBinary, '/usr/bin/envoy');
  assert.equal(settings.languageServer.trace, 'off');
});

test('the old language-server trace key counts while the new one is unset, and is said', () => {
  const old = readSettings(source({ [LEGACY_LANGUAGE_SERVER_TRACE]: 'verbose' }));
  assert.equal(old.settings.languageServer.trace, 'verbose');
  assert.equal(old.deprecations.length, 1);
  assert.match(
    old.deprecations[0] ?? '',
    /fieldtrace\.trace\.server is now fieldtrace\.languageServer\.trace\.server/,
  );
  const both = readSettings(
    source({ [LEGACY_LANGUAGE_SERVER_TRACE]: 'verbose', [LANGUAGE_SERVER_TRACE]: 'messages' }),
  );
  assert.equal(both.settings.languageServer.trace, 'messages');
  assert.match(both.deprecations[0] ?? '', /the new key wins/);
});

test('a change names the sections whose values changed', () => {
  const before = readSettings(source({})).settings;
  const after = readSettings(source({ 'stacks.documentLinks': true, nodes: ['n1'] })).settings;
  assert.deepEqual(changedSections(before, after), ['nodes', 'stacks']);
  assert.deepEqual(
    changedSections(after, readSettings(source({ 'stacks.documentLinks': true, nodes: ['n1'] })).settings),
    [],
  );
});

test('source roots: relative to the first workspace folder; none set: the folders', () => {
  assert.deepEqual(resolveSourceRoots([], ['/w/a', '/w/b'], '/cwd'), ['/w/a', '/w/b']);
  assert.deepEqual(resolveSourceRoots(['envoy', '/abs/src', '../up'], ['/w/a'], '/cwd'), [
    '/w/a/envoy',
    '/abs/src',
    '/w/up',
  ]);
  assert.deepEqual(resolveSourceRoots(['src'], [], '/cwd'), ['/cwd/src']);
});

test('${workspaceFolder} in a path mapping is the first workspace folder', () => {
  assert.deepEqual(
    resolvePathMappings(
      [
        { from: '/build/envoy/', to: '${workspaceFolder}/' },
        { from: '/b/', to: '/c/' },
      ],
      '/w/envoy',
    ),
    [
      { from: '/build/envoy/', to: '/w/envoy/' },
      { from: '/b/', to: '/c/' },
    ],
  );
});
