// `fieldtrace frames`: resolves the stack frames of any text (bpftrace output in its text or
// JSON forms, a pasted log) against C++ source trees, with the extension's index and resolver,
// and exact lines from DWARF when a debug binary is given.
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { type CliCommand, type CliIo, UsageError, checkInputFiles, readInputs, write } from '../command';
import { readFlags } from '../flags';
import { connectNode } from '../node';
import { demangle } from '../../core/stacks/demangle';
import type { NodeTransport } from '../../core/nodes/transport';
import { transportRunner } from '../../core/nodes/commands';
import { DwarfResolver, type PathMapping } from '../../core/stacks/dwarf';
import { extractStacks } from '../../core/stacks/frames';
import type { Resolution } from '../../core/stacks/resolution';
import { Resolver } from '../../core/stacks/resolver';
import { SourceIndex } from '../../core/stacks/sourceIndex';

const USAGE = `Usage: fieldtrace frames --source DIR [--source DIR...] [--binary FILE [--node HOST]]
                        [--path-map FROM=TO...] [--format text|json] [FILE...]

Reads text holding stack frames (bpftrace ustack/kstack output in any mode, -f json output,
or any log; stdin when no FILE or FILE is -) and resolves every frame against the C++ trees.

Options:
  --source DIR       C++ source tree to index (repeatable), e.g. an Envoy checkout
  --binary FILE      binary with debug info: exact lines from DWARF (addr2line), index otherwise
  --node HOST        the binary is on this node (SSH config host): nm and addr2line run there,
                     only addresses and lines travel; an unknown host key is refused
  --path-map FROM=TO map a build path prefix onto a local directory (repeatable)
  --format text|json text: "FRAME -> FILE:LINE" or "FRAME -> unresolved (REASON)";
                     json: [{frame, symbol, file, line, resolvedBy, reason}] in input order
  -h, --help         this help`;

interface Options {
  sources: string[];
  binary?: string;
  node?: string;
  mappings: PathMapping[];
  format: 'text' | 'json';
  files: string[];
}

function parseArgs(args: string[], cwd: string): Options {
  const o: Options = { sources: [], mappings: [], format: 'text', files: [] };
  readFlags('frames', args, {
    values: {
      '--source': (v) => o.sources.push(path.resolve(cwd, v)),
      '--binary': (v) => (o.binary = v),
      '--node': (v) => (o.node = v),
      '--path-map': (v) => {
        const sep = v.indexOf('=');
        if (sep <= 0) throw new UsageError(`--path-map wants FROM=TO, got '${v}'`);
        o.mappings.push({ from: v.slice(0, sep), to: path.resolve(cwd, v.slice(sep + 1)) });
      },
      '--format': (v) => {
        if (v !== 'text' && v !== 'json') throw new UsageError(`--format must be text or json, got '${v}'`);
        o.format = v;
      },
    },
    operand: (file) => o.files.push(file),
  });
  checkInputFiles(o.files);
  if (!o.sources.length)
    throw new UsageError('--source DIR is required (the C++ tree to resolve frames against)');
  for (const s of o.sources) {
    if (!isDir(s)) throw new UsageError(`--source ${s}: not a directory`);
  }
  if (o.node !== undefined && !o.binary)
    throw new UsageError('--node names where --binary is: give --binary');
  // A binary on a node is named as it is there; one here is checked now.
  if (o.binary && o.node === undefined) {
    o.binary = path.resolve(cwd, o.binary);
    if (!statSafe(o.binary)?.isFile()) throw new UsageError(`--binary ${o.binary}: no such file`);
  }
  return o;
}

function statSafe(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

function isDir(p: string): boolean {
  return statSafe(p)?.isDirectory() ?? false;
}

export const framesCommand: CliCommand = {
  name: 'frames',
  summary: 'resolve stack frames (bpftrace output, logs) to C++ source lines',
  usage: USAGE,
  async run(args, io) {
    const o = parseArgs(args, io.cwd);
    // No FILE: stdin.
    const inputs = await readInputs(o.files.length ? o.files : ['-'], io);
    const text = inputs.map((input) => input.text).join('\n\n');
    const index = await SourceIndex.build(o.sources);
    const transport = o.node !== undefined ? await connectNode(o.node, io, { command: 'frames' }) : undefined;
    try {
      return await resolveAll(o, text, index, transport, io);
    } finally {
      transport?.close();
    }
  },
};

async function resolveAll(
  o: Options,
  text: string,
  index: SourceIndex,
  transport: NodeTransport | undefined,
  io: CliIo,
): Promise<number> {
  const resolver = new Resolver(index);
  const dwarf = o.binary
    ? new DwarfResolver(o.binary, o.sources, {
        pathMappings: o.mappings,
        runner: transport ? transportRunner(transport) : undefined,
      })
    : undefined;
  const results: Resolution[] = [];
  for (const stack of extractStacks(text)) {
    const resolved = await resolver.resolveStack(stack.frames);
    if (dwarf) {
      const names = await demangle(stack.frames.map((f) => f.symbol));
      const exact = await dwarf.resolveStack(
        stack.frames.map((f, i) => ({ ...f, symbol: names[i], mangled: false })),
      );
      exact.forEach((e, i) => {
        if (e?.location) resolved[i] = { ...resolved[i], ...e, parsed: resolved[i].parsed };
      });
    }
    results.push(...resolved);
  }
  const rel = (file: string) => {
    const root = o.sources.find((s) => file.startsWith(s + path.sep));
    return root ? path.relative(root, file) : file;
  };
  if (o.format === 'json') {
    const out = results.map((r) => ({
      frame: r.frame,
      symbol: r.symbol,
      file: r.location ? rel(r.location.file) : null,
      line: r.location?.line ?? null,
      resolvedBy: r.location ? (r.resolvedBy ?? 'index') : null,
      reason: r.reason ?? null,
    }));
    write(io.stdout, JSON.stringify(out, null, 2));
  } else {
    const lines = results.map((r) =>
      r.location
        ? `${r.frame} -> ${rel(r.location.file)}:${r.location.line}`
        : `${r.frame} -> unresolved (${r.reason ?? 'unknown'})`,
    );
    if (lines.length) write(io.stdout, lines.join('\n'));
    const ok = results.filter((r) => r.location).length;
    write(
      io.stderr,
      `${results.length} frame(s), ${ok} resolved, ${results.length - ok} unresolved (${index.definitionCount} definitions indexed)`,
    );
  }
  return 0;
}
