// `fieldtrace state`: replays trace logs through the listener state reducer and prints the state.
import { type CliCommand, type CliIo, UsageError, checkInputFiles, readOperand, write } from '../command';
import { readFlags } from '../flags';
import { stateToJson, stateToMarkdown } from '../../core/listeners/format';
import { ListenerReducer } from '../../core/listeners/reducer';
import { readTraceLog } from '../../core/listeners/readers';
import { bpftraceParserFactory } from '../../core/listeners/bpftrace-json';

const USAGE = `Usage: fieldtrace state [--format markdown|json] LOG...

Replays trace logs through the listener state reducer and prints the final state: per process,
each listening socket with its fds, each fd's thread and listen state, the layout (shared-dup,
reuse-port, inherited), socket options by name and accepts per worker.

LOG is a Fieldtrace session log (.jsonl), bpftrace -f json output, or the text output of the seed
article's script (read by its own importer). '-' reads standard input.

Options:
  --format markdown|json   output format (default: markdown)
  -h, --help               this help`;

function parseArgs(args: string[]): { format: 'markdown' | 'json'; files: string[] } {
  const options = { format: 'markdown' as 'markdown' | 'json', files: [] as string[] };
  readFlags('state', args, {
    values: {
      '--format': (value) => {
        if (value !== 'markdown' && value !== 'json')
          throw new UsageError(`--format must be markdown or json, not '${value}'`);
        options.format = value;
      },
    },
    operand: (file) => options.files.push(file),
  });
  if (!options.files.length) throw new UsageError('no LOG given (see fieldtrace state --help)');
  checkInputFiles(options.files);
  return options;
}

export const stateCommand: CliCommand = {
  name: 'state',
  summary: 'replay trace logs through the listener state reducer and print the state',
  usage: USAGE,
  async run(args: string[], io: CliIo): Promise<number> {
    const { format, files } = parseArgs(args);
    const reducer = new ListenerReducer();
    let problems = 0;
    for (const file of files) {
      const text = await readOperand(file, io);
      let log;
      try {
        log = readTraceLog(text, bpftraceParserFactory);
      } catch (error) {
        write(
          io.stderr,
          `fieldtrace state: ${file}: ${error instanceof Error ? error.message : String(error)}`,
        );
        return 1;
      }
      reducer.addSource(`${file} (${log.format})`);
      for (const p of log.problems) write(io.stderr, `${file}: ${p}`);
      problems += log.problems.length;
      // bpftrace -f json problems already travel as malformed events.
      if (log.format !== 'bpftrace-json') reducer.countMalformed(log.problems.length);
      for (const e of log.events) reducer.apply(e);
    }
    const state = reducer.state();
    write(io.stdout, format === 'json' ? stateToJson(state) : stateToMarkdown(state));
    return problems > 0 && state.events === 0 ? 1 : 0;
  },
};
