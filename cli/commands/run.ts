// `fieldtrace run`: a script (or the built-in listener trace) on a node with the extension's
// runner; bpftrace's text rendering live on stdout, the `.jsonl` session log on disk, Ctrl+C
// stops cleanly (SIGINT to bpftrace so the maps print; a second Ctrl+C drops the channel).
import * as path from 'node:path';
import { type CliCommand, UsageError, readOperand, write } from '../command';
import { readFlags } from '../flags';
import { type NodeRunSummary, runOnNode } from '../run-on-node';
import { checkTargetComm } from '../../core/trace/listener-script';
import { type AdminAddress, DEFAULT_ENVOY_ADMIN, parseAdminAddress } from '../../core/listeners/admin-watch';
import { parseTargetSpec } from '../../core/trace/target';
import { LOCAL_NODE } from '../../common/nodes';

const USAGE = `Usage: fieldtrace run [--node HOST]... [--log-dir DIR] [--listener-trace [--target TARGET] [--no-stacks] [--count-interval SECONDS] [--envoy-admin ADDRESS]] [--fold-stacks] [SCRIPT] [-- ARGS...]

Runs a bpftrace script on a node and prints bpftrace's text output live.

  --node HOST        SSH destination (alias from ~/.ssh/config, user@host, user@host:port);
                     default: this machine. Repeat it to run on a fleet at once: each output
                     line is prefixed with its node, each node has its own session log, and a
                     summary per node ends the run
  --listener-trace   run the built-in listener trace instead of SCRIPT
  --target TARGET    what the listener trace follows (default: envoy): a process name, a pid,
                     container:PID (every process in the container/cgroup of PID) or
                     NAME@container:PID (e.g. the envoy of a pod). NODE=TARGET (repeatable)
                     sets the target of one node of a fleet (pids differ from node to node)
  --no-stacks        listener trace without user stacks (bpftrace < 0.20 can abort resolving
                     the stack of a process that has just exited)
  --count-interval SECONDS
                     how often the listener trace prints its accept counts (default 1; counted
                     in the kernel, so the log grows with listeners and time, not connections)
  --envoy-admin ADDRESS|none
                     the Envoy admin address inside the target's network namespace (default
                     127.0.0.1:15000): a traced process listening there has its admin API read
                     at the start, every 10 s and at the stop (per-worker downstream_cx_total,
                     listeners' connection_balance_config), set beside the traced accepts
  --fold-stacks      print each event's stack as one line ("stack: 23 frames") instead of its
                     frames (the session log keeps every frame)
  --log-dir DIR      folder for the session log <session>.jsonl (default: current folder)
  --yes-new-host-key accept an unknown host key (then recorded in known_hosts); without it an
                     unknown key is refused (a key of a new type for a host with a key on record
                     is always refused)
  SCRIPT             a .bt file, or - for stdin
  ARGS               positional parameters ($1, $2, ...) for the script, never read as options

Ctrl+C stops the trace cleanly (bpftrace prints its maps); the node is checked for leftovers.
Exit code: 0 when bpftrace ended normally or was stopped (on every node), 1 on errors, 2 on usage
errors.`;

export interface RunArgs {
  nodes: string[];
  listener: boolean;
  target?: string;
  /** Per-node targets of a fleet (`--target NODE=TARGET`). */
  nodeTargets: Map<string, string>;
  stacks: boolean;
  foldStacks: boolean;
  countIntervalMs?: number;
  /** Undefined: no admin reads (`none`). */
  envoyAdmin?: AdminAddress;
  envoyAdminGiven: boolean;
  logDir?: string;
  script?: string;
  positional: string[];
  acceptNewHostKey: boolean;
}

/** The arguments of `fieldtrace run`, checked before any connection is made. */
export function readRunArgs(args: string[]): RunArgs {
  const out: RunArgs = {
    nodes: [],
    listener: false,
    nodeTargets: new Map(),
    stacks: true,
    foldStacks: false,
    positional: [],
    acceptNewHostKey: false,
    envoyAdmin: DEFAULT_ENVOY_ADMIN,
    envoyAdminGiven: false,
  };
  readFlags('run', args, {
    values: {
      '--node': (node) => out.nodes.push(node === 'localhost-local' ? LOCAL_NODE : node),
      '--target': (v) => {
        const eq = v.indexOf('=');
        if (eq > 0) out.nodeTargets.set(v.slice(0, eq), v.slice(eq + 1));
        else out.target = v;
      },
      '--count-interval': (text) => {
        const seconds = Number(text);
        if (!/^\d+(\.\d+)?$/.test(text) || seconds < 0.01 || seconds > 3600)
          throw new UsageError(`--count-interval wants seconds from 0.01 to 3600, got '${text}'`);
        out.countIntervalMs = Math.round(seconds * 1000);
      },
      '--envoy-admin': (text) => {
        out.envoyAdminGiven = true;
        if (text === 'none') out.envoyAdmin = undefined;
        else {
          out.envoyAdmin = parseAdminAddress(text);
          if (!out.envoyAdmin)
            throw new UsageError(`--envoy-admin wants IP:PORT ([IPv6]:PORT) or none, got '${text}'`);
        }
      },
      '--log-dir': (dir) => (out.logDir = dir),
    },
    switches: {
      '--listener-trace': () => (out.listener = true),
      '--no-stacks': () => (out.stacks = false),
      '--fold-stacks': () => (out.foldStacks = true),
      '--yes-new-host-key': () => (out.acceptNewHostKey = true),
    },
    operand: (script) => {
      if (out.script !== undefined)
        throw new UsageError(
          `one script only (got '${out.script}' and '${script}'); pass script arguments after --`,
        );
      out.script = script;
    },
    // The script's own parameters: never read as options, whatever they look like.
    rest: (positional) => (out.positional = positional),
  });
  if (out.listener && out.script) throw new UsageError('give either --listener-trace or a SCRIPT, not both');
  if (!out.listener && !out.script) throw new UsageError('a SCRIPT (or --listener-trace) is required');
  if ((out.target || out.nodeTargets.size) && !out.listener)
    throw new UsageError('--target only applies to --listener-trace');
  for (const target of [out.target, ...out.nodeTargets.values()]) {
    if (target === undefined) continue;
    const spec = parseTargetSpec(target);
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
  if (out.countIntervalMs !== undefined && !out.listener)
    throw new UsageError('--count-interval only applies to --listener-trace');
  if (out.envoyAdminGiven && !out.listener)
    throw new UsageError('--envoy-admin only applies to --listener-trace');
  if (!out.nodes.length) out.nodes.push(LOCAL_NODE);
  const twice = out.nodes.find((n, i) => out.nodes.indexOf(n) !== i);
  if (twice) throw new UsageError(`--node ${twice} is given twice`);
  for (const node of out.nodeTargets.keys())
    if (!out.nodes.includes(node))
      throw new UsageError(`--target ${node}=…: ${node} is not one of the --node values`);
  return out;
}

export const runCommand: CliCommand = {
  name: 'run',
  summary: 'run a bpftrace script (or the listener trace) on one node or a fleet, live, with session logs',
  usage: USAGE,
  async run(argv, io) {
    const args = readRunArgs(argv);
    let scriptText = '';
    let scriptName = 'script.bt';
    if (args.script) {
      scriptText = await readOperand(args.script, io);
      scriptName = args.script === '-' ? 'stdin.bt' : path.basename(args.script);
    }
    const fleet = args.nodes.length > 1;
    const width = Math.max(...args.nodes.map((n) => n.length));
    const handles = args.nodes.map((node) => {
      const prefix = fleet ? `${node.padEnd(width)} | ` : '';
      const prefixed = (text: string) =>
        prefix
          ? text
              .replace(/\n$/, '')
              .split('\n')
              .map((l) => prefix + l)
              .join('\n')
          : text;
      return runOnNode(
        {
          node,
          scriptText,
          scriptName,
          scriptLabel: args.script ?? scriptName,
          ...(args.listener
            ? {
                listener: {
                  target: args.nodeTargets.get(node) ?? args.target ?? 'envoy',
                  stacks: args.stacks,
                  countIntervalMs: args.countIntervalMs,
                  envoyAdmin: args.envoyAdmin,
                },
              }
            : {}),
          positional: args.positional,
          logDir: path.resolve(io.cwd, args.logDir ?? '.'),
          acceptNewHostKey: args.acceptNewHostKey,
          foldStacks: args.foldStacks,
        },
        io,
        {
          text: (text) => write(io.stdout, prefixed(text)),
          diagnostic: (text) => write(io.stderr, prefixed(text)),
          message: (text) => write(io.stderr, prefixed(`fieldtrace run: ${text}`)),
        },
      );
    });
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts === 1) {
        write(io.stderr, 'fieldtrace run: stopping (Ctrl+C again to drop the connection)…');
        for (const h of handles) h.stop();
      } else for (const h of handles) h.abandon();
    };
    process.on('SIGINT', onSigint);
    try {
      const summaries = await Promise.all(handles.map((h) => h.done));
      if (fleet) write(io.stderr, fleetSummary(summaries));
      return summaries.every((s) => s.ok) ? 0 : 1;
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
};

/** One line per node: whether it started, its events and errors, and how it ended. */
export function fleetSummary(summaries: NodeRunSummary[]): string {
  const rows = [
    ['node', 'started', 'events', 'errors', 'ended'],
    ...summaries.map((s) => [s.node, s.started ? 'yes' : 'no', String(s.events), String(s.errors), s.ended]),
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const lines = rows.map((r) =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
  const failed = summaries.filter((s) => !s.ok).length;
  return [
    `fieldtrace run: fleet of ${summaries.length}, ${failed ? `${failed} failed` : 'all ok'}`,
    ...lines,
  ].join('\n');
}
