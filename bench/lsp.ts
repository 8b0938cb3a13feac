// Benchmark of the bpftrace language server (npm run bench:lsp): full diagnostics of generated
// 50-, 500- and 5,000-line scripts, completion latency after `args->`, and `bpftrace -d` on the
// same 500-line file as the ratio to beat, and formatting a 5,000-line script. Goals: 5,000 lines
// <= 20 ms median, completion <= 2 ms, >= 20x faster than `bpftrace -d`, formatting <= 20 ms.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CompletionRequest } from 'vscode-languageserver-protocol';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { analyze } from '../server/analysis/analyzer';
import { Dialect } from '../server/analysis/dialects';
import { bundledCatalog } from '../server/catalog/catalog';
import { toDiagnostics } from '../server/features/diagnostics';
import { DEFAULT_FORMAT, formatDocument, formatText } from '../server/format/format';
import { startServer, positionOf } from '../test/server/harness';

// Real tracepoints with the fields used below, so the script is valid for bpftrace 0.17 too.
const BLOCKS: Array<(i: number) => string> = [
  (i) => `tracepoint:syscalls:sys_enter_read
/pid > ${i}/
{
  $fd${i} = args->fd;
  @reads${i}[comm, $fd${i}] = count();
  printf("read %d %s %d\\n", $fd${i}, comm, args->count);
}
`,
  (i) => `tracepoint:syscalls:sys_enter_bind
{
  $sa = (struct sockaddr_in *)args->umyaddr;
  $port = ($sa->sin_port >> 8) | (($sa->sin_port << 8) & 0xff00);
  @binds${i}[ntop(2, $sa->sin_addr.s_addr), $port] = count();
  printf("bind fd=%d port=%d\\n", args->fd, $port);
}
`,
  (i) => `tracepoint:sched:sched_switch
/args->prev_pid != ${i}/
{
  @switch${i}[args->prev_comm, args->next_comm] = count();
  if (args->next_prio > 100) {
    @prio${i} = hist(args->next_prio);
  } else {
    @low${i} = lhist(args->next_prio, 0, 100, 10);
  }
}
`,
  (i) => `tracepoint:syscalls:sys_exit_openat
/args->ret >= 0/
{
  @opens${i}[pid, comm] = sum(1);
  @last${i} = nsecs;
}
`,
];

/** A valid script of about `lines` lines: probe blocks drawn in turn from BLOCKS. */
export function generateScript(lines: number): string {
  const parts: string[] = ['BEGIN\n{\n  printf("generated\\n");\n}\n'];
  let count = 4;
  for (let i = 0; count < lines; i++) {
    const block = BLOCKS[i % BLOCKS.length](i);
    parts.push(block);
    count += block.split('\n').length - 1;
  }
  return parts.join('');
}

function stats(samples: number[]): { median: number; p95: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return { median: at(0.5), p95: at(0.95) };
}

const ms = (v: number) => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

async function main(): Promise<void> {
  const dialect = new Dialect('0.17');
  const catalog = bundledCatalog();
  const results: Record<string, { median: number; p95: number }> = {};
  // Timings on a shared machine mean little without the load they ran under.
  const load = `load ${loadavg()[0].toFixed(1)} on ${cpus().length} CPUs`;
  console.log(
    `bench:lsp  node ${process.version}, dialect ${dialect.name}, catalog ${catalog.kernel}, ${load}`,
  );

  // 1. Full diagnostics in process: analysis + conversion to LSP diagnostics, as the server does.
  for (const lines of [50, 500, 5000]) {
    const text = generateScript(lines);
    const doc = TextDocument.create('file:///bench.bt', 'bpftrace', 1, text);
    const errors = analyze(text, dialect, catalog).diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) throw new Error(`generated ${lines}-line script has errors: ${errors[0].message}`);
    const runs = lines >= 5000 ? 60 : 200;
    for (let i = 0; i < 10; i++) toDiagnostics(doc, analyze(text, dialect, catalog)); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      toDiagnostics(doc, analyze(text, dialect, catalog));
      samples.push(performance.now() - t0);
    }
    results[`diagnostics ${lines}`] = stats(samples);
    console.log(
      `diagnostics  ${String(lines).padStart(5)} lines (${(text.length / 1024).toFixed(0)} KiB): median ${ms(results[`diagnostics ${lines}`].median)}, p95 ${ms(results[`diagnostics ${lines}`].p95)} (${runs} runs)`,
    );
  }

  // 1b. Formatting a 5,000-line script whose layout is off everywhere (indentation dropped,
  // operators glued), with the formatter's own re-parse check included. Goal: <= 20 ms, so that
  // formatting on save and on type is never felt as a pause.
  // And the same script once formatted (format on save of a tidy file: nothing to change).
  const messy = generateScript(5000)
    .replace(/\n +/g, '\n')
    .replace(/ ([=+*|&<>-]+) /g, '$1');
  const tidy = formatText(messy, dialect, DEFAULT_FORMAT).text;
  if (tidy === undefined || tidy === messy) throw new Error('formatting the generated script failed');
  for (const [name, text] of [
    ['format 5000', messy],
    ['format 5000 tidy', tidy],
  ] as const) {
    for (let i = 0; i < 5; i++) formatDocument(text, dialect, DEFAULT_FORMAT); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      formatDocument(text, dialect, DEFAULT_FORMAT);
      samples.push(performance.now() - t0);
    }
    results[name] = stats(samples);
    console.log(
      `${name.padEnd(17)} (5000 lines): median ${ms(results[name].median)}, p95 ${ms(results[name].p95)} (40 runs)`,
    );
  }

  // 2. Through the real LSP: an edit until its diagnostics arrive, and completion after `args->`.
  const server = await startServer({ bpftraceVersion: '0.17' });
  try {
    const text500 = generateScript(500);
    const uri = server.open('bench-500.bt', text500);
    await server.diagnostics(uri, 30_000);
    const edits: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      server.change(uri, `${text500}// edit ${i}\n`);
      await server.diagnostics(uri, 30_000);
      edits.push(performance.now() - t0);
    }
    results['lsp edit->diagnostics 500'] = stats(edits);
    console.log(
      `lsp edit -> diagnostics, 500 lines: median ${ms(results['lsp edit->diagnostics 500'].median)}, p95 ${ms(results['lsp edit->diagnostics 500'].p95)}`,
    );

    const marker = '$fd8 = args->';
    const position = positionOf(text500, marker, marker.length);
    const steady: number[] = [];
    let items = 0;
    for (let i = 0; i < 300; i++) {
      const t0 = performance.now();
      const list = await server.client.sendRequest(CompletionRequest.type, {
        textDocument: { uri },
        position,
      });
      steady.push(performance.now() - t0);
      items = Array.isArray(list) ? list.length : (list?.items.length ?? 0);
    }
    if (items === 0) throw new Error('completion after args-> returned nothing');
    results['completion args->'] = stats(steady);
    console.log(
      `completion at args-> (500 lines, ${items} items): median ${ms(results['completion args->'].median)}, p95 ${ms(results['completion args->'].p95)}`,
    );

    // Typing `args->` invalidates the analysis: completion right after an edit pays for it.
    const afterEdit: number[] = [];
    for (let i = 0; i < 50; i++) {
      server.change(uri, `${text500}// typing ${i}\n`);
      const t0 = performance.now();
      await server.client.sendRequest(CompletionRequest.type, { textDocument: { uri }, position });
      afterEdit.push(performance.now() - t0);
    }
    results['completion after edit'] = stats(afterEdit);
    console.log(
      `completion at args-> right after an edit: median ${ms(results['completion after edit'].median)}, p95 ${ms(results['completion after edit'].p95)}`,
    );
  } finally {
    await server.close();
  }

  // 3. The real compiler on the same 500-line file.
  const version = spawnSync('bpftrace', ['--version'], { encoding: 'utf8' });
  if (version.status !== 0) {
    console.log('bpftrace -d: bpftrace is not installed here, no ratio');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bench-lsp-'));
  try {
    const file = join(dir, 'bench-500.bt');
    writeFileSync(file, generateScript(500));
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      const run = spawnSync('bpftrace', ['-d', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'ignore', 'pipe'],
        maxBuffer: 256 << 20,
      });
      samples.push(performance.now() - t0);
      if (run.status !== 0) {
        console.log(
          `bpftrace -d failed on the generated script (status ${run.status}): ${run.stderr
            .split('\n')
            .filter((l) => l.includes('ERROR') && !l.includes('RLIMIT'))
            .slice(0, 2)
            .join(' | ')}`,
        );
        break;
      }
    }
    const d = stats(samples);
    const ours = results['diagnostics 500'].median;
    console.log(
      `bpftrace -d  500 lines (${version.stdout.trim()}): median ${ms(d.median)}, p95 ${ms(d.p95)} (${samples.length} runs)`,
    );
    console.log(
      `ratio: the server is ${(d.median / ours).toFixed(0)}x faster than bpftrace -d on the same 500-line script`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`bench:lsp: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      process.exit(1);
    },
  );
}
