// Machine facts: the server's verdict on a script equals what the real bpftrace says when the
// script is started (attach included, not only -d) on the machine it is bound to: this machine
// (its dialect came from the local bpftrace) and a node over a real loopback sshd. Each script
// ends at once (BEGIN { exit(); } or an interval). kprobes cannot attach on this machine (no
// kprobe_events), so the kprobe-function check runs against a node listing the test controls.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Diagnostic } from 'vscode-languageserver-protocol';
import { DiagnosticSeverity } from 'vscode-languageserver-protocol';
import {
  BinaryFactsRequest,
  type NodeFacts,
  SetDocumentTargetNotification,
  SetNodeFactsNotification,
  SetNodeTargetNotification,
} from '../../common/protocol';
import { readBinaryFacts, readNodeFacts } from '../../core/nodes/facts';
import { fetchTracepointListing, probeNode } from '../../core/nodes/probe';
import { shellCommand } from '../../core/nodes/shell';
import { execOnNode, LocalTransport, type NodeTransport } from '../../core/nodes/transport';
import { connectSsh } from '../../core/ssh/client';
import { SymbolCache } from '../../core/symbols/cache';
import { type SshdHarness, sshdAvailable, startSshd } from '../helpers/sshd';
import { bpftraceAvailable } from '../helpers/users';
import { type ServerHarness, startServer } from './harness';

/** Scripts bpftrace refuses on this machine, each with a twin it runs. */
const CASES: Array<{ name: string; script: string }> = [
  { name: 'missing uprobe binary', script: 'uprobe:/nonexistent/ft-bin:main { exit(); } BEGIN { exit(); }' },
  { name: 'uprobe binary present', script: 'uprobe:/bin/bash:readline { exit(); } BEGIN { exit(); }' },
  { name: 'uprobe in a library by name', script: 'uprobe:libc:malloc { exit(); } BEGIN { exit(); }' },
  // `bpftrace -d` accepts it; a real start has no probe left to attach.
  { name: 'missing symbol, the only probe', script: 'uprobe:/bin/bash:ft_no_such_function { exit(); }' },
  // 0.17 leaves the probe out and runs the rest: a warning, not an error.
  {
    name: 'missing symbol beside BEGIN',
    script: 'uprobe:/bin/bash:ft_no_such_function { exit(); } BEGIN { exit(); }',
  },
  // A data symbol: bpftrace 0.17 resolves the name, then cannot attach to it.
  { name: 'uprobe on a data symbol', script: 'uprobe:/bin/bash:dist_version { exit(); } BEGIN { exit(); }' },
  // A target with `*` is a glob on the file system (resolve_binary_path): no ELF file, an error.
  {
    name: 'uprobe glob that matches no file',
    script: 'uprobe:/nonexistent/ft-envoy*/bin/envoy:* { exit(); } BEGIN { exit(); }',
  },
  {
    name: 'uprobe glob that matches',
    script: 'uprobe:/usr/lib/*/libc.so.6:malloc { exit(); } BEGIN { exit(); }',
  },
  // Several shells: the function is matched in each (bash has readline, dash has not).
  {
    name: 'uprobe glob over several binaries',
    script: 'uprobe:/usr/bin/*sh:readline { exit(); } BEGIN { exit(); }',
  },
  // In none of them: no probe left to attach; beside BEGIN 0.17 leaves it out.
  {
    name: 'uprobe glob over several binaries, function in none',
    script: 'uprobe:/usr/bin/*sh:ft_no_such_function { exit(); }',
  },
  {
    name: 'uprobe glob over several binaries, function in none beside BEGIN',
    script: 'uprobe:/usr/bin/*sh:ft_no_such_function { exit(); } BEGIN { exit(); }',
  },
  {
    name: 'uprobe glob over several binaries, wildcard function in none',
    script: 'uprobe:/usr/bin/*sh:ft_no_such_* { exit(); }',
  },
  // One ELF match (bashbug is a script) is that binary: its functions are checked as if written out.
  {
    name: 'uprobe glob of one binary, missing symbol',
    script: 'uprobe:/usr/bin/bash*:ft_no_such_function { exit(); }',
  },
  {
    name: 'usdt glob that matches no file',
    script: 'usdt:/nonexistent/ft-*/bin:probe { exit(); } BEGIN { exit(); }',
  },
  // A glob over several binaries: their USDT probes together (python3 and python3.11 here).
  {
    name: 'usdt glob over several binaries, probe in none',
    script: 'usdt:/usr/bin/python3*:ft_no_such_probe { exit(); }',
  },
  {
    name: 'usdt glob over several binaries, probe present',
    script: 'usdt:/usr/bin/python3*:function__entry { exit(); } BEGIN { exit(); }',
  },
  { name: 'missing usdt binary', script: 'usdt:/nonexistent/ft-bin:probe { exit(); } BEGIN { exit(); }' },
  {
    name: 'missing usdt probe, the only probe',
    script: 'usdt:/usr/bin/python3.11:ft_no_such_probe { exit(); }',
  },
  {
    name: 'usdt probe present',
    script: 'usdt:/usr/bin/python3.11:function__entry { exit(); } BEGIN { exit(); }',
  },
  { name: 'unknown kernel symbol', script: 'BEGIN { printf("%d\\n", kaddr("ft_no_such_symbol")); exit(); }' },
  { name: 'kernel symbol', script: 'BEGIN { printf("%d\\n", kaddr("vfs_read")); exit(); }' },
  { name: 'kfunc', script: 'kfunc:vfs_read { exit(); } BEGIN { exit(); }' },
  { name: 'iter', script: 'iter:task { exit(); }' },
  { name: 'interval (twin of kfunc and iter)', script: 'interval:ms:10 { exit(); }' },
  { name: 'unknown tracepoint', script: 'tracepoint:sched:ft_no_such_tp { exit(); } BEGIN { exit(); }' },
  { name: 'tracepoint', script: 'tracepoint:sched:sched_switch { exit(); } BEGIN { exit(); }' },
];

type Start = (script: string) => Promise<{ code: number | null; output: string }>;

/** bpftrace started for real: 0 means it attached and ran. */
const startHere: Start = async (script) => {
  const r = spawnSync('bpftrace', ['-e', script], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, output: `${r.stdout}${r.stderr}` };
};

function startOn(transport: NodeTransport): Start {
  return async (script) => {
    const r = await execOnNode(transport, shellCommand(['bpftrace', '-e', script]), { timeoutMs: 60_000 });
    return { code: r.code, output: `${r.stdout}${r.stderr}` };
  };
}

const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === DiagnosticSeverity.Error);

/** Opens every case, lets the server read the binaries they name, and returns the final diagnostics. */
async function verdicts(h: ServerHarness, bind?: string): Promise<Map<string, Diagnostic[]>> {
  const uris = CASES.map((c, i) => ({ c, uri: h.open(`case-${i}.bt`, c.script) }));
  for (const { uri } of uris) {
    if (bind) await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: bind });
    await h.diagnostics(uri, 30_000);
  }
  await h.server.machineFacts.settled();
  const out = new Map<string, Diagnostic[]>();
  for (const { c, uri } of uris) {
    h.change(uri, c.script + '\n');
    out.set(c.name, (await h.diagnostics(uri, 30_000)).diagnostics);
  }
  return out;
}

async function compare(server: Map<string, Diagnostic[]>, start: Start, where: string): Promise<void> {
  const disagreements: string[] = [];
  for (const c of CASES) {
    const real = await start(c.script);
    const serverErrors = errors(server.get(c.name) ?? []);
    const bpftraceFailed = real.code !== 0;
    if (bpftraceFailed !== serverErrors.length > 0)
      disagreements.push(
        `${c.name} on ${where}: bpftrace ${bpftraceFailed ? 'fails' : 'runs'} (${real.output.trim().slice(-300)}), the server says ${JSON.stringify(serverErrors.map((d) => d.message))}`,
      );
  }
  assert.deepEqual(disagreements, []);
}

function assertKnownVerdicts(server: Map<string, Diagnostic[]>): void {
  // Not vacuous: the cases that must fail get bpftrace's own words.
  const first = (name: string) => errors(server.get(name) ?? [])[0]?.message ?? '';
  assert.match(
    first('missing uprobe binary'),
    /uprobe target file '\/nonexistent\/ft-bin' does not exist or is not executable/,
  );
  assert.match(
    first('missing usdt binary'),
    /usdt target file '\/nonexistent\/ft-bin' does not exist or is not executable/,
  );
  assert.match(
    first('uprobe glob that matches no file'),
    /^uprobe target file '\/nonexistent\/ft-envoy\*\/bin\/envoy' does not exist or is not executable/,
  );
  assert.match(
    first('usdt glob that matches no file'),
    /^usdt target file '\/nonexistent\/ft-\*\/bin' does not exist or is not executable/,
  );
  assert.match(
    first('uprobe glob of one binary, missing symbol'),
    /^No probes to attach: uprobe \/usr\/bin\/bash:ft_no_such_function/,
  );
  // Every binary of the glob is read: nothing is left unchecked.
  assert.deepEqual(
    (server.get('uprobe glob over several binaries') ?? []).map((d) => d.message),
    [],
  );
  assert.match(
    first('uprobe glob over several binaries, function in none'),
    /^No probes to attach: uprobe \/usr\/bin\/\*sh:ft_no_such_function matches nothing \(none of the \d+ binaries \/usr\/bin\/\*sh matches has a function ft_no_such_function/,
  );
  assert.ok(
    (server.get('uprobe glob over several binaries, function in none beside BEGIN') ?? []).some(
      (d) => d.severity === DiagnosticSeverity.Warning && /leaves this probe out/.test(d.message),
    ),
  );
  assert.match(
    first('usdt glob over several binaries, probe in none'),
    /^No probes to attach: usdt \/usr\/bin\/python3\*:ft_no_such_probe matches nothing/,
  );
  assert.match(
    first('missing symbol, the only probe'),
    /^No probes to attach: uprobe \/bin\/bash:ft_no_such_function/,
  );
  assert.match(first('uprobe on a data symbol'), /^Could not resolve symbol: \/bin\/bash:dist_version/);
  assert.match(first('unknown kernel symbol'), /^Failed to resolve kernel symbol: ft_no_such_symbol/);
  assert.match(first('kfunc'), /^kfunc\/kretfunc not available for your kernel version\./);
  assert.match(first('iter'), /^iter task not available for your kernel version\./);
  assert.match(first('unknown tracepoint'), /tracepoint not found: sched:ft_no_such_tp/);
  const beside = server.get('missing symbol beside BEGIN') ?? [];
  assert.ok(
    beside.some((d) => d.severity === DiagnosticSeverity.Warning && /leaves this probe out/.test(d.message)),
    JSON.stringify(beside),
  );
}

const canTrace = bpftraceAvailable();
let cacheHome: string;
before(() => {
  // The server's symbol cache (default ~/.cache) goes to a folder of this test.
  cacheHome = mkdtempSync(path.join(os.tmpdir(), 'ft-facts-cache-'));
  process.env.XDG_CACHE_HOME = cacheHome;
});
after(() => rmSync(cacheHome, { recursive: true, force: true }));

describe('machine facts: this machine', { skip: !canTrace }, () => {
  it('a script checked in the local bpftrace dialect gets the verdict of a real start here', async () => {
    const h = await startServer();
    try {
      assert.match(await h.server.localDetection, /^0\.\d+$/);
      await h.server.localFacts;
      const server = await verdicts(h);
      assertKnownVerdicts(server);
      await compare(server, startHere, 'this machine');
    } finally {
      await h.close();
    }
  });
});

describe('machine facts: a node over SSH', { skip: !(canTrace && sshdAvailable()) }, () => {
  let sshd: SshdHarness;
  let transport: NodeTransport;
  before(async () => {
    sshd = await startSshd({ trust: true });
    transport = await connectSsh(sshd.alias, {
      env: sshd.env,
      callbacks: { confirmUnknownHostKey: async () => false },
    });
  });
  after(async () => {
    transport?.close();
    await sshd?.stop();
  });

  it('a document bound to the node gets the verdict of a real start there', async () => {
    // As the extension does: probe, push version, catalog and facts, answer binary requests.
    const h = await startServer({ bpftraceVersion: '0.26' });
    try {
      const probe = await probeNode(transport);
      const symbols = new SymbolCache();
      let asked = 0;
      h.client.onRequest(BinaryFactsRequest.type, async (params) => {
        assert.equal(params.nodeId, sshd.alias);
        asked += params.targets.length;
        return (await readBinaryFacts(transport, probe, params.targets, symbols)).map((e) => e.facts);
      });
      await h.client.sendNotification(SetNodeTargetNotification.type, {
        nodeId: sshd.alias,
        bpftraceVersion: probe.bpftraceVersion,
        kernelRelease: probe.kernelRelease,
        tracepointListing: await fetchTracepointListing(transport, probe),
      });
      await h.client.sendNotification(SetNodeFactsNotification.type, await readNodeFacts(transport, probe));
      const server = await verdicts(h, sshd.alias);
      assertKnownVerdicts(server);
      await compare(server, startOn(transport), `node ${sshd.alias}`);
      // Each binary was asked for once, however many documents and analyses named it.
      assert.equal(asked, 10, 'bash, libc, python3.11, the missing path and six globs');
    } finally {
      await h.close();
    }
  });
});

describe('machine facts: kprobe functions from a node listing', () => {
  const listing: NodeFacts = {
    nodeId: 'listed',
    kernelRelease: 'test',
    bpftraceVersion: '0.20.0',
    features: {},
    kprobeFunctions: 'vfs_read\ntcp_v4_connect\ntcp_sendmsg\next4_file_open [ext4]\nfoo.part.0\n',
    kernelSymbols: 'vfs_read\n',
  };
  const scripts: Array<[string, RegExp | undefined]> = [
    ['kprobe:vfs_read { exit(); }', undefined],
    [
      'kprobe:ft_missing_fn { exit(); }',
      /^ft_missing_fn is not traceable \(either non-existing, inlined, or marked as "notrace"\)/,
    ],
    ['kretprobe:tcp_sendmsg { exit(); }', undefined],
    ['kprobe:ext4:ext4_file_open { exit(); }', undefined],
    [
      'kprobe:xfs:xfs_file_open { exit(); }',
      /^specified module xfs in probe kprobe:xfs:xfs_file_open is not loaded/,
    ],
    ['kprobe:tcp_* { exit(); }', undefined],
    // A wildcard that matches nothing is left out; alone, bpftrace has nothing to attach.
    ['kprobe:ft_nomatch_* { exit(); }', /^No probes to attach: kprobe:ft_nomatch_\*/],
    ['kprobe:foo.part* { exit(); }', /^No probes to attach/],
  ];

  it('errors for functions and modules the listing lacks, none for the rest', async () => {
    const h = await startServer({ bpftraceVersion: '0.20' });
    try {
      await h.client.sendNotification(SetNodeFactsNotification.type, listing);
      for (const [i, [script, expected]] of scripts.entries()) {
        const uri = h.open(`k${i}.bt`, script);
        await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: 'listed' });
        h.change(uri, script + '\n');
        const found = errors((await h.diagnostics(uri)).diagnostics).map((d) => d.message);
        if (expected) assert.match(found[0] ?? '', expected, script);
        else assert.deepEqual(found, [], script);
      }
    } finally {
      await h.close();
    }
  });

  it('says plainly when a node cannot list its kernel functions', async () => {
    const h = await startServer({ bpftraceVersion: '0.20' });
    try {
      await h.client.sendNotification(SetNodeFactsNotification.type, {
        nodeId: 'unlisted',
        kernelRelease: 'test',
        kprobeProblem:
          'available_filter_functions is not readable on node unlisted (Operation not permitted)',
      });
      const uri = h.open('u.bt', 'kprobe:ft_missing_fn { exit(); }');
      await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: 'unlisted' });
      h.change(uri, 'kprobe:ft_missing_fn { exit(); }\n');
      const ds = (await h.diagnostics(uri)).diagnostics;
      assert.deepEqual(errors(ds), []);
      assert.ok(
        ds.some(
          (d) =>
            d.severity === DiagnosticSeverity.Information &&
            /kprobe functions are not checked: available_filter_functions is not readable/.test(d.message),
        ),
        JSON.stringify(ds),
      );
    } finally {
      await h.close();
    }
  });

  it('from 0.21 a uprobe that matches nothing is an error even beside BEGIN (missing_probes)', async () => {
    // bpftrace 0.21-0.24 fail at attach (attached_probe.cpp), 0.25 on before it
    // (ap_probe_expansion.cpp); no such bpftrace runs here, so the words are checked, not a start.
    for (const [version, words] of [
      ['0.22.0', /^Could not resolve uprobe \/bin\/bash:ft_no_such_function, cannot attach probe/],
      ['0.26.1', /^No matches for uprobe \/bin\/bash:ft_no_such_function\./],
    ] as const) {
      const h = await startServer({ bpftraceVersion: '0.17' });
      try {
        h.client.onRequest(BinaryFactsRequest.type, async (params) =>
          (
            await readBinaryFacts(
              new LocalTransport(),
              { privilege: 'root' },
              params.targets,
              new SymbolCache(),
            )
          ).map((e) => e.facts),
        );
        await h.client.sendNotification(SetNodeFactsNotification.type, {
          nodeId: 'newer',
          kernelRelease: 'test',
          bpftraceVersion: version,
        });
        const script = 'uprobe:/bin/bash:ft_no_such_function { exit(); } BEGIN { exit(); }';
        const uri = h.open(`newer-${version}.bt`, script);
        await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: 'newer' });
        await h.diagnostics(uri, 30_000);
        await h.server.machineFacts.settled();
        h.change(uri, script + '\n');
        const found = errors((await h.diagnostics(uri, 30_000)).diagnostics).map((d) => d.message);
        assert.match(found[0] ?? '', words, version);
      } finally {
        await h.close();
      }
    }
  });

  it('binaries a node cannot read are said so once, not asked again at each keystroke', async () => {
    const h = await startServer({ bpftraceVersion: '0.17' });
    try {
      let asked = 0;
      h.client.onRequest(BinaryFactsRequest.type, async () => {
        asked++;
        throw new Error('the node went away');
      });
      await h.client.sendNotification(SetNodeFactsNotification.type, {
        nodeId: 'gone',
        kernelRelease: 'test',
      });
      const script = 'uprobe:/bin/bash:readline { exit(); }';
      const uri = h.open('gone.bt', script);
      await h.client.sendNotification(SetDocumentTargetNotification.type, { uri, nodeId: 'gone' });
      await h.diagnostics(uri);
      await h.server.machineFacts.settled();
      for (const extra of ['\n', '\n\n']) {
        h.change(uri, script + extra);
        const ds = (await h.diagnostics(uri)).diagnostics;
        assert.deepEqual(errors(ds), []);
        assert.ok(
          ds.some((d) => /Functions of \/bin\/bash are not checked: .*the node went away/.test(d.message)),
          JSON.stringify(ds),
        );
      }
      await h.server.machineFacts.settled();
      assert.equal(asked, 1);
    } finally {
      await h.close();
    }
  });

  it('without a target machine nothing of this is checked', async () => {
    const h = await startServer({ bpftraceVersion: '0.17' });
    try {
      const uri = h.open('free.bt', 'uprobe:/nonexistent/ft-bin:main { exit(); } kfunc:vfs_read { }');
      const ds = (await h.diagnostics(uri)).diagnostics;
      assert.deepEqual(
        ds.filter((d) => String(d.code).startsWith('machine-')),
        [],
      );
    } finally {
      await h.close();
    }
  });
});
