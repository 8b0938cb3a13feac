// `fieldtrace probe FILE:LINE --binary BIN`: the bpftrace script that traces the C++ function
// defined at FILE:LINE in the binary that runs (on a node over SSH, or here), through the same
// symbol cache and matcher as the editor's "Trace on node…".
import * as path from 'node:path';
import { type CliCommand, type CliIo, UsageError, readTextFile, write } from '../command';
import { readFlags } from '../flags';
import { connectNode } from '../node';
import { LOCAL_NODE } from '../../common/nodes';
import { probeForFunction } from '../../core/probe/script';
import { SymbolCache } from '../../core/symbols/cache';

const USAGE = `Usage: fieldtrace probe FILE:LINE --binary BIN [--node HOST] [--pid PID]
                       [--bpftrace-version V] [--latency]

Prints a bpftrace script with a uprobe on every symbol of BIN that the C++ function defined
at FILE:LINE compiled to (constructors and destructors have several, a lambda its own), with a
per-thread count and the user stacks; --latency adds a uretprobe with a latency histogram.

Options:
  --binary BIN            the binary that runs (a path on the node with --node)
  --node HOST             read BIN's symbols on this node (SSH config host; "local": here)
  --pid PID               only this process
  --bpftrace-version V    the node's bpftrace (default 0.17)
  --latency               also a uretprobe and a latency histogram
  -h, --help              this help`;

interface Options {
  file: string;
  line: number;
  binary: string;
  node: string;
  pid?: number;
  version?: string;
  latency: boolean;
}

function parseArgs(args: string[], cwd: string): Options {
  let where: string | undefined;
  const o: Partial<Options> & { latency: boolean } = { latency: false };
  readFlags('probe', args, {
    values: {
      '--binary': (v) => (o.binary = v),
      '--node': (v) => (o.node = v),
      '--pid': (v) => {
        if (!/^[1-9]\d{0,9}$/.test(v)) throw new UsageError(`--pid wants a process id, got '${v}'`);
        o.pid = Number(v);
      },
      '--bpftrace-version': (v) => {
        if (!/^v?\d+\.\d+(\.\d+)?$/.test(v))
          throw new UsageError(`--bpftrace-version wants a version such as 0.17, got '${v}'`);
        o.version = v;
      },
    },
    switches: { '--latency': () => (o.latency = true) },
    operand: (a) => {
      if (where !== undefined) throw new UsageError(`one FILE:LINE only (got '${where}' and '${a}')`);
      where = a;
    },
  });
  const m = where === undefined ? null : /^(.+):([1-9]\d*)$/.exec(where);
  if (!m) throw new UsageError('FILE:LINE is required (the line of a C++ function definition)');
  if (!o.binary) throw new UsageError('--binary BIN is required (the binary that runs)');
  const node = o.node ?? LOCAL_NODE;
  // A binary here is named absolutely, as bpftrace opens it; one on a node is named as it is there.
  const binary = node === LOCAL_NODE ? path.resolve(cwd, o.binary) : o.binary;
  return { ...o, file: path.resolve(cwd, m[1]), line: Number(m[2]), binary, node };
}

export const probeCommand: CliCommand = {
  name: 'probe',
  summary: 'print the bpftrace script tracing the C++ function defined at FILE:LINE',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const o = parseArgs(args, io.cwd);
    const text = await readTextFile(o.file, io);
    const transport = await connectNode(o.node, io, { command: 'probe' });
    try {
      const table = await new SymbolCache().tableFor({ transport }, o.binary);
      const result = await probeForFunction({
        file: path.relative(io.cwd, o.file) || o.file,
        text,
        line: o.line,
        binary: o.binary,
        table,
        bpftraceVersion: o.version,
        pid: o.pid,
        latency: o.latency,
      });
      if (!result.script) {
        write(io.stderr, `fieldtrace probe: ${result.problem ?? 'nothing to trace'}`);
        return 1;
      }
      if (result.note) write(io.stderr, `fieldtrace probe: ${result.note}`);
      write(io.stdout, result.script);
      return 0;
    } finally {
      transport.close();
    }
  },
};
