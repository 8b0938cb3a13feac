// One build context per entry point. Node entries are CommonJS with `vscode` external;
// the webview is a browser ESM bundle. ssh2's optional native parts stay external so the
// bundle falls back to pure JavaScript crypto (see FIELD-NOTES).
import * as esbuild from 'esbuild';
import { cpSync, existsSync, mkdirSync } from 'node:fs';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

// web-tree-sitter's CommonJS build reads import.meta.url to find its wasm; give it the bundle's URL.
const importMetaBanner = "var __importMetaUrl = require('url').pathToFileURL(__filename).href;";

const nodeCommon = {
  bundle: true,
  define: { 'import.meta.url': '__importMetaUrl' },
  banner: { js: importMetaBanner },
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  sourcemap: !production,
  minify: production,
  external: ['vscode', 'cpu-features', '*.node'],
  logLevel: 'warning',
};

const entries = [
  { ...nodeCommon, entryPoints: ['extension/extension.ts'], outfile: 'dist/extension.js' },
  { ...nodeCommon, entryPoints: ['server/main.ts'], outfile: 'dist/server.js' },
  {
    ...nodeCommon,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: `#!/usr/bin/env node\n${importMetaBanner}` },
  },
  {
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    sourcemap: !production,
    minify: production,
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview/main.js',
    logLevel: 'warning',
  },
];

function copyAssets() {
  mkdirSync('dist/webview', { recursive: true });
  // Codicons and tree-sitter grammars are loaded at run time, not bundled.
  const assets = [
    ['node_modules/web-tree-sitter/tree-sitter.wasm', 'dist/tree-sitter.wasm'],
    ['node_modules/tree-sitter-cpp/tree-sitter-cpp.wasm', 'dist/tree-sitter-cpp.wasm'],
    ['node_modules/@vscode/codicons/dist/codicon.css', 'dist/webview/codicon.css'],
    ['node_modules/@vscode/codicons/dist/codicon.ttf', 'dist/webview/codicon.ttf'],
  ];
  for (const [from, to] of assets) if (existsSync(from)) cpSync(from, to);
}

if (watch) {
  const contexts = await Promise.all(entries.map((e) => esbuild.context(e)));
  copyAssets();
  await Promise.all(contexts.map((c) => c.watch()));
  console.log('esbuild: watching');
} else {
  await Promise.all(entries.map((e) => esbuild.build(e)));
  copyAssets();
}
