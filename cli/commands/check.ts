// `fieldtrace check`: the language server's diagnostics for scripts, in a terminal or CI.
// Same modules as the server: Targets picks dialect and catalog, analyze() checks, and
// toDiagnostics() makes the very diagnostics the editor shows.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { DiagnosticSeverity } from 'vscode-languageserver';
import {
  type CliCommand,
  type CliIo,
  UsageError,
  checkInputFiles,
  readInputs,
  readTextFile,
  write,
} from '../command';
import { dialectFlag, readFlags } from '../flags';
import { analyze } from '../../server/analysis/analyzer';
import { toDiagnostics } from '../../server/features/diagnostics';
import { Targets } from '../../server/targets';
import {
  type Catalog,
  bundledCatalog,
  catalogFromData,
  catalogFromListing,
} from '../../server/catalog/catalog';
import { readBinaryFacts, readNodeFacts } from '../../core/nodes/facts';
import { fetchTracepointListing, probeNode } from '../../core/nodes/probe';
import { defaultSymbolCacheDir, SymbolCache } from '../../core/symbols/cache';
import { type BinaryEntry, TargetFacts } from '../../server/facts';
import type { NodeTransport } from '../../core/nodes/transport';
import { connectNode } from '../node';

const USAGE = `Usage: fieldtrace check [options] FILE...

Checks bpftrace scripts with the language server's diagnostics, without running them
(no root, no bpftrace needed). FILE "-" reads the script from stdin.

Options:
  --bpftrace-version V   dialect to check in (e.g. 0.17, 0.26, main); default: the local
                         \`bpftrace --version\` if installed, else the latest known
  --catalog FILE         tracepoint catalog of the target kernel: the output of
                         \`bpftrace -lv 'tracepoint:*'\`, or a JSON file from \`npm run gen:catalog\`
  --node HOST            check against a node (SSH config host, or "local" for this machine):
                         its bpftrace version, tracepoints, probe types (\`bpftrace --info\`),
                         kernel functions and symbols, and the binaries and symbols the
                         scripts name; what the node lacks is an error, as bpftrace there
                         says. Its host key must already be in known_hosts
  --format text|json     text: FILE:LINE:COL: severity: MESSAGE, then a summary (default);
                         json: [{file, line, column, endLine, endColumn, severity, message, code}]
  --unsafe               the scripts run with \`bpftrace --unsafe\`: system(), signal() and
                         override() are allowed (a script says so itself with a line
                         \`// fieldtrace: unsafe\`)
  -h, --help             this help

Exit status: 0 no errors (warnings allowed), 1 errors found, 2 bad usage or unreadable input.`;

export interface CheckFinding {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: 'error' | 'warning' | 'info';
  message: string;
  code: string;
}

interface Options {
  version?: string;
  catalogFile?: string;
  node?: string;
  format: 'text' | 'json';
  unsafe: boolean;
  files: string[];
}

function parseArgs(args: string[]): Options {
  const options: Options = { format: 'text', unsafe: false, files: [] };
  readFlags('check', args, {
    values: {
      '--bpftrace-version': (v) => (options.version = dialectFlag(v)),
      '--catalog': (v) => (options.catalogFile = v),
      '--node': (v) => (options.node = v),
      '--format': (v) => {
        if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json, not '${v}'`);
        options.format = v;
      },
    },
    switches: { '--unsafe': () => (options.unsafe = true) },
    operand: (file) => options.files.push(file),
  });
  if (options.catalogFile && options.node) throw new UsageError('give either --catalog or --node, not both');
  checkInputFiles(options.files, 'script');
  return options;
}

/** A catalog file is either bpftrace's own listing or our JSON catalog format. */
export function catalogFromFile(text: string, file: string): Catalog {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`--catalog ${file}: not valid JSON (${(error as Error).message})`);
    }
    try {
      return catalogFromData(data);
    } catch (error) {
      throw new UsageError(`--catalog ${file}: ${(error as Error).message}`);
    }
  }
  const catalog = catalogFromListing(text, 'from ' + file);
  if (!catalog.categories().length) {
    throw new UsageError(
      `--catalog ${file}: no tracepoints found (expected \`bpftrace -lv 'tracepoint:*'\` output)`,
    );
  }
  return catalog;
}

interface NodeCheck {
  version?: string;
  catalog: Catalog;
  facts: TargetFacts;
  /** Reads the binaries the scripts name, on the node (symbols through the cache by build-id). */
  binaries(targets: string[]): Promise<BinaryEntry[]>;
  close(): void;
}

/**
 * Version, catalog and machine facts of a node, through the same SSH client, probe and readers as
 * the extension; the connection stays open while the scripts' binaries are read.
 */
async function nodeTarget(node: string, io: CliIo): Promise<NodeCheck> {
  let transport: NodeTransport;
  try {
    transport = await connectNode(node, io, { command: 'check' });
  } catch (error) {
    throw new Error(`--node ${node}: ${(error as Error).message}`);
  }
  try {
    const probe = await probeNode(transport);
    const listing = await fetchTracepointListing(transport, probe);
    const facts = new TargetFacts(await readNodeFacts(transport, probe));
    const symbols = new SymbolCache({ dir: defaultSymbolCacheDir(io.env) });
    return {
      version: probe.bpftraceVersion,
      catalog: catalogFromListing(listing, probe.kernelRelease),
      facts,
      binaries: (targets) => readBinaryFacts(transport, probe, targets, symbols),
      close: () => transport.close(),
    };
  } catch (error) {
    transport.close();
    throw error;
  }
}

function toFinding(file: string, d: ReturnType<typeof toDiagnostics>[number]): CheckFinding {
  const severity =
    d.severity === DiagnosticSeverity.Error
      ? 'error'
      : d.severity === DiagnosticSeverity.Warning
        ? 'warning'
        : 'info';
  return {
    file,
    line: d.range.start.line + 1,
    column: d.range.start.character + 1,
    endLine: d.range.end.line + 1,
    endColumn: d.range.end.character + 1,
    severity,
    message: d.message,
    code: String(d.code ?? ''),
  };
}

export const checkCommand: CliCommand = {
  name: 'check',
  summary: 'check bpftrace scripts in the dialect of a bpftrace version (for CI)',
  usage: USAGE,
  async run(args, io) {
    const options = parseArgs(args);
    let node: NodeCheck | undefined;
    try {
      return await check(options, io, (n) => (node = n));
    } finally {
      node?.close();
    }
  },
};

async function check(options: Options, io: CliIo, opened: (node: NodeCheck) => void): Promise<number> {
  let node: NodeCheck | undefined;
  const targets = new Targets();
  let catalog: Catalog = bundledCatalog();
  let version = options.version;
  if (options.catalogFile) {
    const text = await readTextFile(options.catalogFile, io, `--catalog ${options.catalogFile}`);
    catalog = catalogFromFile(text, options.catalogFile);
  } else if (options.node) {
    node = await nodeTarget(options.node, io);
    opened(node);
    catalog = node.catalog;
    version ??= node.version;
  }
  targets.setDefaultCatalog(catalog);
  if (version) targets.setSetting(version);
  else await targets.detectLocal();

  const inputs = await readInputs(options.files, io);

  const findings: CheckFinding[] = [];
  let dialectNote: string | undefined;
  for (const { file, text } of inputs) {
    const uri = file === '-' ? 'untitled:stdin' : pathToFileURL(resolve(io.cwd, file)).href;
    const target = targets.forDocument(uri);
    dialectNote = target.dialect.unsupported;
    const doc = TextDocument.create(uri, 'bpftrace', 1, text);
    let analysis = analyze(text, target.dialect, target.catalog, node?.facts, { unsafe: options.unsafe });
    // Binaries named by the script are read on the node once, then the script is checked again.
    const wanted = node?.facts.takeWanted() ?? [];
    if (node && wanted.length) {
      for (const entry of await node.binaries(wanted)) node.facts.setBinary(entry);
      analysis = analyze(text, target.dialect, target.catalog, node.facts, { unsafe: options.unsafe });
    }
    findings.push(...toDiagnostics(doc, analysis).map((d) => toFinding(file === '-' ? '<stdin>' : file, d)));
  }
  const target = targets.forDocument('untitled:summary');
  if (dialectNote) write(io.stderr, `fieldtrace check: ${dialectNote}`);
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warning').length;

  if (options.format === 'json') {
    write(io.stdout, JSON.stringify(findings, null, 2));
  } else {
    for (const f of findings)
      write(io.stdout, `${f.file}:${f.line}:${f.column}: ${f.severity}: ${f.message}`);
    const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
    write(
      io.stdout,
      `${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(inputs.length, 'file')} ` +
        `(bpftrace ${target.dialect.name} dialect, ${catalog.origin === 'bundled' ? 'bundled' : 'target'} catalog of kernel ${catalog.kernel})`,
    );
  }
  return errors > 0 ? 1 : 0;
}
