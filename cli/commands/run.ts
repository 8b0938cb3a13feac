// `fieldtrace run`: a script (or the built-in listener trace) on a node with the extension's
// runner; bpftrace's text rendering live on stdout, the `.jsonl` session log on disk, Ctrl+C
// stops cleanly (SIGINT to bpftrace so the maps print; a second Ctrl+C drops the channel).
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type CliCommand, type CliIo, UsageError, write } from '../command';
import { probeNode } from '../../core/nodes/probe';
import type { NodeTransport } from '../../core/nodes/transport';
import { connectNode } from '../node';
import { transportRunner } from '../../core/nodes/commands';
import { checkTargetComm, listenerTraceScript } from '../../core/trace/listener-script';
import { parseTargetSpec, resolveTarget } from '../../core/trace/target';
import { diagnosticRange, TraceSession } from '../../core/trace/session';
import { renderText } from '../../core/trace/render-text';
import { TraceStreamParser } from '../../core/trace/stream-parser';

const USAGE = `Usage: fieldtrace run [--node HOST] [--log-dir DIR] [--listener-trace [--target TARGET] [--no-stacks]] [SCRIPT] [-- ARGS...]

Runs a bpftrace script on a node and prints bpftrace's text output live.

  --node HOST        SSH destination (alias from ~/.ssh/config, user@host, user@host:port);
                     default: this machine
  --listener-trace   run the built-in listener trace instead of SCRIPT
  --target TARGET    what the listener trace follows (default: envoy): a process name, a pid,
                     container:PID (every process in the container/cgroup of PID) or
                     NAME@container:PID (e.g. the envoy of a pod)
  --no-stacks        listener trace without user stacks (bpftrace < 0.20 can abort resolving
                     the stack of a process that has just exited)
  --log-dir DIR      folder for the session log <session>.jsonl (default: current folder)
  --yes-new-host-key accept an unknown host key (then recorded in known_hosts); without it an
                     unknown key is refused (a key of a new type for a host with a key on record
                     is always refused)
  SCRIPT             a .bt file, or - for stdin
  ARGS               positional parameters ($1, $2, ...) for the script, never read as options

Ctrl+C stops the trace cleanly (bpftrace prints its maps); the node is checked for leftovers.
Exit code: 0 when bpftrace ended normally or was stopped, 1 on errors, 2 on usage errors.`;

interface RunArgs {
  node: string;
  listener: boolean;
  target?: string;
  stacks: boolean;
  logDir?: string;
  script?: string;
  positional: string[];
  acceptNewHostKey: boolean;
}

function parseArgs(args: string[]): RunArgs {
  const out: RunArgs = {
    node: 'local',
    listener: false,
    stacks: true,
    positional: [],
    acceptNewHostKey: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const value = () => {
      const v = args[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--') {
      out.positional = args.slice(i + 1);
      break;
    } else if (a === '--node') out.node = value();
    else if (a === '--listener-trace') out.listener = true;
    else if (a === '--target') out.target = value();
    else if (a === '--no-stacks') out.stacks = false;
    else if (a === '--log-dir') out.logDir = value();
    else if (a === '--yes-new-host-key') out.acceptNewHostKey = true;
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a}`);
    else if (out.script === undefined) out.script = a;
    else
      throw new UsageError(
        `one script only (got '${out.script}' and '${a}'); pass script arguments after --`,
      );
  }
  if (out.listener && out.script) throw new UsageError('give either --listener-trace or a SCRIPT, not both');
  if (!out.listener && !out.script) throw new UsageError('a SCRIPT (or --listener-trace) is required');
  if (out.target && !out.listener) throw new UsageError('--target only applies to --listener-trace');
  if (out.target !== undefined) {
    const spec = parseTargetSpec(out.target);
    if ('error' in spec) throw new UsageError(`--target: ${spec.error}`);
    // Checked here, before any connection: a name the trace cannot select is a usage error.
    if (spec.comm !== undefined) {
      try {
        checkTargetComm(spec.comm);
      } catch (error) {
        throw new UsageError(`--target: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  if (!out.stacks && !out.listener) throw new UsageError('--no-stacks only applies to --listener-trace');
  return out;
}

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

function connect(args: RunArgs, io: CliIo): Promise<NodeTransport> {
  const node = args.node === 'localhost-local' ? 'local' : args.node;
  return connectNode(node, io, { command: 'run', acceptNewHostKey: args.acceptNewHostKey });
}

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'run a bpftrace script (or the listener trace) on a node, live, with a session log',
  usage: USAGE,
  async run(argv, io) {
    const args = parseArgs(argv);
    let scriptText = '';
    let scriptName = 'script.bt';
    if (args.script === '-') {
      scriptText = await readStdin(io);
      scriptName = 'stdin.bt';
    } else if (args.script) {
      const file = path.resolve(io.cwd, args.script);
      scriptText = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
        throw new UsageError(
          `cannot read ${args.script}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`,
        );
      });
      scriptName = path.basename(file);
    }
    const transport = await connect(args, io);
    try {
      const probe = await probeNode(transport);
      if (probe.problems.length) {
        for (const p of probe.problems) write(io.stderr, `fieldtrace run: ${p}`);
        return 1;
      }
      if (args.listener) {
        const spec = parseTargetSpec(args.target ?? 'envoy');
        if ('error' in spec) throw new UsageError(spec.error);
        const resolved = await resolveTarget(spec, transportRunner(transport, probe.privilege));
        if (resolved.container)
          write(
            io.stderr,
            `fieldtrace run: container cgroup ${resolved.container.path} (id ${resolved.container.id})`,
          );
        scriptText = listenerTraceScript({
          target: resolved.target,
          runningPids: resolved.runningPids,
          bpftraceVersion: probe.bpftraceVersion ?? '0.17',
          withStacks: args.stacks,
        });
        scriptName = 'listeners.bt';
      }
      let failed = false;
      let session: TraceSession | undefined = undefined;
      session = await TraceSession.start({
        transport,
        probe,
        script: scriptText,
        scriptName,
        positional: args.positional,
        logDir: path.resolve(io.cwd, args.logDir ?? '.'),
        parser: new TraceStreamParser({
          nodeId: transport.nodeId,
          attachedWhen: args.listener ? 'begin' : 'announced',
        }),
        onEvent: ({ event }) => {
          if (event.type === 'diagnostic') {
            // Before start() returns there is no session yet; bpftrace's errors come later.
            const range =
              session?.isScriptDiagnostic(event) !== false ? diagnosticRange(event, scriptText) : undefined;
            const where = range
              ? `${args.script ?? scriptName}:${range.startLine + 1}:${range.startColumn + 1}: `
              : '';
            write(io.stderr, `${where}${event.severity}: ${event.message}`);
            if (event.severity === 'error') failed = true;
            return;
          }
          if (event.type === 'ended') return;
          const text = renderText(event);
          if (text) io.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
        },
      });
      write(
        io.stderr,
        `fieldtrace run: ${scriptName} on ${transport.nodeId} (bpftrace ${probe.bpftraceVersion}); log ${session.logPath}`,
      );
      let interrupts = 0;
      const onSigint = () => {
        interrupts++;
        if (interrupts === 1) {
          write(io.stderr, 'fieldtrace run: stopping (Ctrl+C again to drop the connection)…');
          void session.stop('interrupted');
        } else session.abandon('interrupted twice');
      };
      process.on('SIGINT', onSigint);
      try {
        const end = await session.ended;
        const remaining = await session.verifyGone();
        if (remaining.length) {
          write(
            io.stderr,
            `fieldtrace run: bpftrace (pid ${remaining.join(', ')}) is still running on ${transport.nodeId}`,
          );
          return 1;
        }
        if (interrupts > 0) return 0;
        return !failed && end.exitCode === 0 ? 0 : 1;
      } finally {
        process.off('SIGINT', onSigint);
      }
    } finally {
      transport.close();
    }
  },
};
