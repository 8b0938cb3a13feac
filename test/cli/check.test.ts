// `fieldtrace check` as a child process of the bundled CLI (node dist/cli.js): text and JSON
// output, stdin, dialects, catalogs, usage errors, the whole corpus (the same diagnostics the
// language server publishes), and --node over a real sshd.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import { SetCatalogRequest } from '../../common/protocol';
import { CORPUS_DIR, corpusScripts } from '../corpus/verdict';
import { startServer } from '../server/harness';
import { type SshdHarness, sshdAvailable, startSshd } from '../helpers/sshd';
import { type CliRun, runFieldtrace } from '../helpers/cli';

const ROOT = resolve(__dirname, '..', '..');
const CLI = join(ROOT, 'dist/cli.js');
const CI = process.env.CI === 'true';

type Run = CliRun;

function check(
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Run> {
  return runFieldtrace(['check', ...args], options);
}

/** Newest modification time under the folders the CLI bundle is built from. */
function newestSource(dirs: string[]): number {
  let newest = 0;
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const s = statSync(p);
      if (s.isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(name)) newest = Math.max(newest, s.mtimeMs);
    }
  };
  for (const d of dirs) if (existsSync(d)) walk(join(ROOT, d));
  return newest;
}

/** 1-based line and column of the first occurrence of needle in text. */
function lineCol(text: string, needle: string): [number, number] {
  const index = text.indexOf(needle);
  assert.ok(index >= 0, `${needle} not in text`);
  const before = text.slice(0, index);
  return [before.split('\n').length, index - before.lastIndexOf('\n')];
}

const tmp = mkdtempSync(join(tmpdir(), 'ft-check-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

before(() => {
  // npm test builds before the tests; a stale or missing bundle (local runs) is rebuilt here.
  if (!existsSync(CLI) || statSync(CLI).mtimeMs < newestSource(['cli', 'server', 'core', 'common'])) {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: ROOT, stdio: 'inherit' });
  }
});

const BIND_TYPO = join(CORPUS_DIR, 'tpargs/err-field-typo.bt');
const CLEAN = join(CORPUS_DIR, 'casts/ok-sockaddr-in.bt');
const ARGS_DOT = join(CORPUS_DIR, 'dialect/new-args-dot.bt');

describe('fieldtrace check', () => {
  it('prints FILE:LINE:COL: severity: message and a summary; exit 1 on errors', async () => {
    const r = await check([
      '--bpftrace-version',
      '0.17',
      'test/corpus/casts/ok-sockaddr-in.bt',
      'test/corpus/tpargs/err-field-typo.bt',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.trim().split('\n');
    const [line, col] = lineCol(readFileSync(BIND_TYPO, 'utf8'), 'umyadr');
    assert.match(
      lines[0],
      new RegExp(`^test/corpus/tpargs/err-field-typo\\.bt:${line}:${col}: error: .*'umyadr'.*umyaddr`),
    );
    assert.equal(lines.length, 2, r.stdout);
    assert.match(
      lines[1],
      /^1 error, 0 warnings in 2 files \(bpftrace 0\.17 dialect, bundled catalog of kernel /,
    );
  });

  it('exits 0 on a clean script', async () => {
    const r = await check(['--bpftrace-version=0.17', CLEAN]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^0 errors, 0 warnings in 1 file /);
  });

  it('prints JSON with 1-based ranges and codes', async () => {
    const r = await check(['--bpftrace-version', '0.17', '--format', 'json', BIND_TYPO, CLEAN]);
    assert.equal(r.code, 1, r.stderr);
    const findings = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(findings.length, 1);
    const [line, col] = lineCol(readFileSync(BIND_TYPO, 'utf8'), 'umyadr');
    assert.deepEqual(
      { ...findings[0], message: undefined, code: undefined },
      {
        file: BIND_TYPO,
        line,
        column: col,
        endLine: line,
        endColumn: col + 'umyadr'.length,
        severity: 'error',
        message: undefined,
        code: undefined,
      },
    );
    assert.equal(typeof findings[0].code, 'string');
    assert.ok((findings[0].code as string).length > 0);
  });

  it('reads - from stdin', async () => {
    const r = await check(['--bpftrace-version', '0.17', '-'], {
      input: 'BEGIN\n{\n  printf("%d %d\\n", 1);\n}\n',
    });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^<stdin>:3:3: error: .*[Nn]ot enough arguments/m);
    const clean = await check(['--bpftrace-version', '0.17', '-'], { input: 'BEGIN { exit(); }\n' });
    assert.equal(clean.code, 0, clean.stdout);
  });

  it('allows system(), signal() and override() only when the script runs with --unsafe', async () => {
    const script = 'BEGIN\n{\n  system("true");\n  exit();\n}\n';
    const safe = await check(['--bpftrace-version', '0.17', '-'], { input: script });
    assert.equal(safe.code, 1, safe.stdout);
    assert.match(safe.stdout, /^<stdin>:3:3: error: system\(\) is an unsafe function .*fieldtrace: unsafe/m);
    const flag = await check(['--bpftrace-version', '0.17', '--unsafe', '-'], { input: script });
    assert.equal(flag.code, 0, flag.stdout);
    const pragma = await check(['--bpftrace-version', '0.17', '-'], {
      input: `// fieldtrace: unsafe\n${script}`,
    });
    assert.equal(pragma.code, 0, pragma.stdout);
    // The pragma is a line of its own: a mention inside another comment does not count.
    const mention = await check(['--bpftrace-version', '0.17', '-'], {
      input: `// see fieldtrace: unsafe in the docs\n${script}`,
    });
    assert.equal(mention.code, 1, mention.stdout);
  });

  it('checks in the dialect asked for: args.fd is an error in 0.17, fine in 0.26', async () => {
    const old = await check(['--bpftrace-version', '0.17', ARGS_DOT]);
    assert.equal(old.code, 1, old.stdout);
    assert.match(old.stdout, /new-args-dot\.bt:3:\d+: error: /);
    const latest = await check(['--bpftrace-version', '0.26', ARGS_DOT]);
    assert.equal(latest.code, 0, latest.stdout);
    assert.match(latest.stdout, /bpftrace 0\.26 dialect/);
  });

  it('defaults to the local bpftrace version, else the latest', async () => {
    const local = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
    const version = local.status === 0 ? /v?(\d+\.\d+)/.exec(local.stdout)?.[1] : undefined;
    const r = await check([CLEAN]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, new RegExp(`bpftrace ${(version ?? '0.26').replace('.', '\\.')} dialect`));
  });

  it('says when a version is older than supported and checks as 0.17', async () => {
    const r = await check(['--bpftrace-version', '0.14', ARGS_DOT]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /0\.14.*not supported.*0\.17/);
    assert.match(r.stdout, /bpftrace 0\.17 dialect/);
  });

  it('takes a catalog: a bpftrace -lv listing (unknown tracepoint = error) or a catalog JSON file', async () => {
    const listing = join(tmp, 'node-listing.txt');
    writeFileSync(
      listing,
      'tracepoint:syscalls:sys_enter_listen\n    int __syscall_nr\n    int fd\n    int backlog\n',
    );
    const script = join(tmp, 'two.bt');
    writeFileSync(
      script,
      'tracepoint:syscalls:sys_enter_listen { @l = count(); }\n\ntracepoint:syscalls:sys_enter_bind { @b = count(); }\n',
    );
    const r = await check(['--bpftrace-version', '0.17', '--catalog', listing, script]);
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /two\.bt:3:\d+: error: .*sys_enter_bind/);
    assert.match(r.stdout, /target catalog of kernel/);

    const json = await check([
      '--bpftrace-version',
      '0.17',
      '--catalog',
      join(ROOT, 'server/catalog/kernel-catalog.json'),
      script,
    ]);
    assert.equal(json.code, 0, json.stdout);
  });

  it('usage errors exit 2 with one line on stderr', async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /no script given/],
      [['--frobnicate', CLEAN], /unknown option '--frobnicate'/],
      [['--format', 'xml', CLEAN], /--format must be text or json/],
      [['--bpftrace-version', 'banana', CLEAN], /not a version/],
      [['--bpftrace-version'], /needs a value/],
      [[join(tmp, 'missing.bt')], /cannot read .*missing\.bt: no such file\n$/],
      [['--catalog', join(tmp, 'x'), '--node', 'h', CLEAN], /either --catalog or --node/],
      [['--catalog', join(tmp, 'nothing.txt'), CLEAN], /--catalog .*nothing\.txt: no such file\n$/],
      [['-', '-'], /stdin \(-\) can be read only once/],
    ];
    for (const [args, message] of cases) {
      const r = await check(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stdout, '');
    }
    writeFileSync(join(tmp, 'empty.txt'), 'not a listing\n');
    const bad = await check(['--catalog', join(tmp, 'empty.txt'), CLEAN]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no tracepoints found/);
  });

  it('--help describes the options and exits 0', async () => {
    const r = await check(['--help']);
    assert.equal(r.code, 0);
    for (const option of ['--bpftrace-version', '--catalog', '--node', '--format'])
      assert.ok(r.stdout.includes(option));
  });

  // Same code as the server: every corpus script gets exactly the diagnostics the LSP publishes.
  it('gives the whole corpus the diagnostics the language server publishes', async () => {
    const scripts = corpusScripts();
    const catalogFile = join(ROOT, 'server/catalog/kernel-catalog.json');
    const r = await check(
      ['--bpftrace-version', '0.17', '--catalog', catalogFile, '--format', 'json', ...scripts],
      { cwd: CORPUS_DIR },
    );
    assert.ok(r.code === 1, r.stderr);
    const findings = JSON.parse(r.stdout) as Array<{
      file: string;
      line: number;
      column: number;
      severity: string;
      message: string;
    }>;
    const server = await startServer({ bpftraceVersion: '0.17' });
    try {
      await server.client.sendRequest(SetCatalogRequest.type, {
        kernel: 'bundled',
        catalogData: JSON.parse(readFileSync(catalogFile, 'utf8')),
      });
      const severity = {
        [DiagnosticSeverity.Error]: 'error',
        [DiagnosticSeverity.Warning]: 'warning',
      } as Record<number, string>;
      for (const script of scripts) {
        const uri = server.open(script.replace(/\//g, '__'), readFileSync(join(CORPUS_DIR, script), 'utf8'));
        const published = await server.diagnostics(uri, 10_000);
        const lsp = published.diagnostics.map(
          (d) =>
            `${d.range.start.line + 1}:${d.range.start.character + 1} ${severity[d.severity ?? 1] ?? 'info'} ${d.message}`,
        );
        const cli = findings
          .filter((f) => f.file === script)
          .map((f) => `${f.line}:${f.column} ${f.severity} ${f.message}`);
        assert.deepEqual(cli, lsp, script);
      }
    } finally {
      await server.close();
    }
  });
});

describe('fieldtrace check --node', () => {
  const canTrace = spawnSync('bpftrace', ['--version']).status === 0 && process.getuid?.() === 0;
  let sshd: SshdHarness | undefined;
  after(async () => sshd?.stop());

  it('takes the version and catalog of a node over SSH', async (t) => {
    if (!canTrace || !sshdAvailable()) {
      if (CI) assert.fail('bpftrace, root and sshd are required under CI');
      return t.skip('needs root, bpftrace and sshd');
    }
    sshd = await startSshd({ trust: true });
    const env = { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: '' };
    const script = join(tmp, 'node.bt');
    writeFileSync(
      script,
      'tracepoint:syscalls:sys_enter_bind { printf("%d\\n", args.fd); }\n\ntracepoint:syscalls:sys_enter_bindx { }\n',
    );
    const r = await check(['--node', sshd.alias, script], { env });
    assert.equal(r.code, 1, r.stderr);
    // The node runs bpftrace 0.17 (args.fd is an error there) and its own catalog (bindx is unknown).
    assert.match(r.stdout, /node\.bt:1:\d+: error: /);
    assert.match(r.stdout, /node\.bt:3:\d+: error: .*sys_enter_bindx/);
    assert.match(
      r.stdout,
      new RegExp(`bpftrace 0\\.17 dialect, target catalog of kernel ${release().replace(/\./g, '\\.')}`),
    );

    // An unknown host key is never accepted from a terminal run.
    sshd.clearKnownHosts();
    const refused = await check(['--node', sshd.alias, script], { env });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not in known_hosts/);
    assert.equal(refused.stdout, '');
  });

  it('--node local uses this machine', async (t) => {
    if (!canTrace) {
      if (CI) assert.fail('bpftrace and root are required under CI');
      return t.skip('needs root and bpftrace');
    }
    const r = await check(['--node', 'local', ARGS_DOT]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /bpftrace 0\.17 dialect, target catalog/);
  });

  it('--node checks what the machine lacks, as bpftrace there says', async (t) => {
    if (!canTrace || !sshdAvailable()) {
      if (CI) assert.fail('bpftrace, root and sshd are required under CI');
      return t.skip('needs root, bpftrace and sshd');
    }
    const lacking = join(tmp, 'lacking.bt');
    writeFileSync(
      lacking,
      [
        'uprobe:/nonexistent/ft-bin:main { exit(); }',
        'BEGIN { printf("%d\\n", kaddr("ft_no_such_symbol")); exit(); }',
        'iter:task { exit(); }',
        '',
      ].join('\n'),
    );
    const present = join(tmp, 'present.bt');
    writeFileSync(
      present,
      'uprobe:/bin/bash:readline { exit(); }\nBEGIN { printf("%d\\n", kaddr("vfs_read")); exit(); }\n',
    );
    const missingSymbol = join(tmp, 'missing-symbol.bt');
    writeFileSync(missingSymbol, 'uprobe:/bin/bash:ft_no_such_function { exit(); }\n');
    sshd ??= await startSshd({ trust: true });
    sshd.trustHostKey(); // the test before may have cleared known_hosts
    const env = { ...process.env, HOME: sshd.home, SSH_AUTH_SOCK: '', XDG_CACHE_HOME: join(tmp, 'cache') };
    for (const node of ['local', sshd.alias]) {
      const r = await check(['--node', node, lacking, present, missingSymbol], { env });
      assert.equal(r.code, 1, `${node}: ${r.stderr}`);
      assert.match(
        r.stdout,
        /lacking\.bt:1:\d+: error: uprobe target file '\/nonexistent\/ft-bin' does not exist or is not executable/,
      );
      assert.match(r.stdout, /lacking\.bt:2:\d+: error: Failed to resolve kernel symbol: ft_no_such_symbol/);
      assert.match(r.stdout, /lacking\.bt:3:\d+: error: iter task not available for your kernel version/);
      assert.match(
        r.stdout,
        /missing-symbol\.bt:1:1: error: No probes to attach: uprobe \/bin\/bash:ft_no_such_function/,
      );
      assert.doesNotMatch(r.stdout, /present\.bt:\d+:\d+: error/);
    }
  });
});
