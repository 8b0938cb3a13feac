// Records what the real `bpftrace -d` says about every script of the differential corpus into
// test/corpus/expected.json. Run it (as root, tracefs mounted) after adding or changing scripts:
//   npm run corpus:record
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { release } from 'node:os';
import {
  CORPUS_DIR,
  type ExpectationFile,
  bpftraceVersion,
  corpusScripts,
  runAll,
  scriptClass,
} from '../test/corpus/verdict';

async function main(): Promise<void> {
  const version = bpftraceVersion();
  if (!version) throw new Error('bpftrace is not installed (apt-get install bpftrace)');
  const scripts = corpusScripts();
  const started = Date.now();
  const verdicts = await runAll(scripts);
  const file: ExpectationFile = {
    bpftrace: version,
    kernel: release(),
    scripts: Object.fromEntries(verdicts),
  };
  writeFileSync(join(CORPUS_DIR, 'expected.json'), JSON.stringify(file, null, 1) + '\n');

  const table = new Map<string, { ok: number; error: number; include: number }>();
  for (const [script, v] of verdicts) {
    const row = table.get(scriptClass(script)) ?? { ok: 0, error: 0, include: 0 };
    if (v.includeFailure) row.include++;
    else if (v.error) row.error++;
    else row.ok++;
    table.set(scriptClass(script), row);
  }
  console.log(`${version} on ${release()}: ${scripts.length} scripts in ${Date.now() - started} ms`);
  console.log('class        valid  error  include-failure');
  for (const [cls, row] of [...table].sort()) {
    console.log(
      `${cls.padEnd(12)} ${String(row.ok).padStart(5)}  ${String(row.error).padStart(5)}  ${String(row.include).padStart(5)}`,
    );
  }
  const unlocated = [...verdicts].filter(([, v]) => v.error && v.line === null);
  for (const [script, v] of unlocated) console.log(`no location: ${script}: ${v.message}`);
}

main().catch((error: unknown) => {
  console.error(`record-corpus: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
