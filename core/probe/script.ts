// Source -> probe: from a function definition (file and line) and the symbols of the binary that
// really runs on a node, the bpftrace script that traces it: a uprobe on every symbol the function
// compiled to, an optional uretprobe with latency, `ustack` and a per-thread count, written in
// the node's dialect. Every bpftrace from 0.17 attaches by mangled name (0.17 rejects `cpp:`),
// and a mangled name with characters outside [A-Za-z0-9_] (clang's `$_N`, `.cold`) is quoted.
import { parseBpftraceVersion } from '../../common/bpftrace-version';
import type { SymbolTable } from '../symbols/table';
import { uprobeFunctionName } from './names';
import { definitionAtLine, type FunctionMatch, matchDefinition } from './match';

export interface ProbeRequest {
  /** Source file path (shown in the script's header) and its text. */
  file: string;
  text: string;
  /** 1-based line inside the function definition (its header or body). */
  line: number;
  /** Path of the binary on the node, as bpftrace there must open it. */
  binary: string;
  table: SymbolTable;
  /** The node's bpftrace version (`0.17`, `v0.21.2`); default: the oldest supported. */
  bpftraceVersion?: string;
  /** Only this process (a predicate on `pid`). */
  pid?: number;
  /** Also a uretprobe with a latency histogram. */
  latency?: boolean;
}

export interface ProbeResult extends Partial<FunctionMatch> {
  /** The script; undefined when there is nothing to attach to (see `problem`). */
  script?: string;
  /** Why no script could be made, in plain words. */
  problem?: string;
}

export async function probeForFunction(request: ProbeRequest): Promise<ProbeResult> {
  // eslint-disable-next-line no-control-regex
  if (/["\\\x00-\x1f\x7f]/.test(request.binary))
    return {
      problem: `the binary's path holds a quote, backslash or control character: it cannot be named in a probe`,
    };
  const definition = definitionAtLine(request.text, request.line);
  if (!definition) return { problem: `${request.file}:${request.line} is not inside a function definition` };
  const match = await matchDefinition(definition, request.table);
  const unsafe = match.symbols.filter((s) => !SAFE_SYMBOL.test(s.name));
  if (unsafe.length) {
    match.symbols = match.symbols.filter((s) => SAFE_SYMBOL.test(s.name));
    match.note = `${unsafe.length} symbol(s) with characters no compiler emits were left out`;
  }
  if (!match.symbols.length) return { ...match, problem: match.note };
  return { ...match, script: renderScript(request, match) };
}

/** Symbol names a script may carry: what compilers emit. Anything else came from a hostile binary. */
const SAFE_SYMBOL = /^[A-Za-z0-9_$.@]+$/;

function comment(text: string): string {
  // Names come from a binary: no line break or comment end may leave the comment.
  // eslint-disable-next-line no-control-regex
  return `// ${text.replace(/[\x00-\x1f\x7f\u2028\u2029]+/g, ' ')}`;
}

function renderScript(request: ProbeRequest, match: FunctionMatch): string {
  const version = parseBpftraceVersion(request.bpftraceVersion ?? '0.17');
  const { definition, symbols } = match;
  const binary =
    request.binary.includes(':') || /\s/.test(request.binary) ? `"${request.binary}"` : request.binary;
  const attach = (kind: string) =>
    symbols.map((s) => `${kind}:${binary}:${uprobeFunctionName(s.name)}`).join(',\n');
  const predicate = request.pid !== undefined ? `/pid == ${request.pid}/\n` : '';
  const lines = [
    comment(`Trace ${definition.qname}(${definition.params}) from ${request.file}:${definition.line}`),
    comment(
      `in ${request.binary}${request.table.meta.buildId ? ` (build-id ${request.table.meta.buildId})` : ''}`,
    ),
    comment(
      `for bpftrace ${version ? `${version.major}.${version.minor}` : '0.17'}: ${symbols.length} symbol(s)`,
    ),
    ...symbols.map((s) => comment(`  ${s.role === 'lambda' ? 'lambda ' : ''}${s.display}`)),
    ...(match.note ? [comment(`Note: ${match.note}`)] : []),
    '',
    attach('uprobe'),
    `${predicate}{`,
    '  @calls[probe, comm, tid] = count();',
    '  @stacks[comm, ustack] = count();',
    ...(request.latency ? ['  @start[tid] = nsecs;'] : []),
    '}',
  ];
  if (request.latency) {
    // Per thread, not per symbol: when one symbol calls another of the same function (a lambda's
    // invoker calling its operator()), the inner call is measured and the outer finds no start.
    lines.push(
      '',
      attach('uretprobe'),
      `/@start[tid]/`,
      '{',
      '  @latency_us[comm] = hist((nsecs - @start[tid]) / 1000);',
      '  delete(@start[tid]);',
      '}',
    );
  }
  return `${lines.join('\n')}\n`;
}
