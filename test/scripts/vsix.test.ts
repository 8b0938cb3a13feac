// The packaged extension (fieldtrace.vsix, made by `npm run package`) carries what runs and the
// full license text, and no source maps: read from the zip's own central directory.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli';

const VSIX = path.join(REPO_ROOT, 'fieldtrace.vsix');

interface ZipEntry {
  name: string;
  size: number;
}

/** The entries of a zip file, from its end-of-central-directory record. */
function zipEntries(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  assert.ok(eocd >= 0, 'a zip file');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50, 'a central directory entry');
    const size = zip.readUInt32LE(at + 24);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    entries.push({ name: zip.toString('utf8', at + 46, at + 46 + nameLength), size });
    at += 46 + nameLength + extra + comment;
  }
  return entries;
}

test('the .vsix has the bundles, no source maps and the whole LICENSE', () => {
  const inputs = ['.vscodeignore', 'LICENSE', 'package.json'].map((f) => path.join(REPO_ROOT, f));
  const stale = !existsSync(VSIX) || inputs.some((f) => statSync(f).mtimeMs > statSync(VSIX).mtimeMs);
  // CI packages before the tests; elsewhere a missing or older package is made here.
  if (stale && process.env.CI !== 'true')
    execFileSync('npm', ['run', 'package', '--silent'], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
      timeout: 300_000,
    });
  // A test build leaves maps in dist/ before packaging: the package must still have none.
  assert.ok(existsSync(path.join(REPO_ROOT, 'dist')), 'built');
  const entries = zipEntries(readFileSync(VSIX));
  const names = entries.map((e) => e.name);
  for (const needed of [
    'extension/package.json',
    'extension/dist/extension.js',
    'extension/dist/server.js',
    'extension/dist/cli.js',
    'extension/dist/tree-sitter-cpp.wasm',
    'extension/dist/webview/main.js',
    'extension/dist/webview/main.css',
    'extension/dist/webview/codicon.ttf',
    'extension/syntaxes/bpftrace.tmLanguage.json',
  ])
    assert.ok(names.includes(needed), `${needed} is packaged (${names.join(', ')})`);
  assert.deepEqual(
    names.filter((n) => n.endsWith('.map')),
    [],
    'no source maps',
  );
  const license = entries.find((e) => /^extension\/LICENSE(\.txt|\.md)?$/i.test(e.name));
  assert.ok(license, 'a LICENSE');
  const text = readFileSync(path.join(REPO_ROOT, 'LICENSE'), 'utf8');
  assert.match(text, /Permission is hereby granted, free of charge/);
  assert.equal(license.size, Buffer.byteLength(text), 'the whole license text');
});
