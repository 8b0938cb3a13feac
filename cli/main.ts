import { type CliIo, UsageError, write } from './command';
import { COMMANDS } from './commands/index';

const VERSION = '0.1.0';

function topLevelHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length), 4);
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    'Usage: fieldtrace <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    'Run `fieldtrace <command> --help` for the options of a command.',
  ].join('\n');
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    write(io.stderr, topLevelHelp());
    return 2;
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    write(io.stdout, topLevelHelp());
    return 0;
  }
  if (name === '--version' || name === '-V') {
    write(io.stdout, VERSION);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    write(io.stderr, `fieldtrace: unknown command '${name}' (see fieldtrace --help)`);
    return 2;
  }
  // After `--` everything belongs to the script (`run x.bt -- -h` passes -h on).
  const end = rest.indexOf('--');
  const options = end < 0 ? rest : rest.slice(0, end);
  if (options.includes('--help') || options.includes('-h')) {
    write(io.stdout, command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      write(io.stderr, `fieldtrace ${name}: ${error.message}`);
      return 2;
    }
    write(io.stderr, `fieldtrace ${name}: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  }
}

if (require.main === module) {
  // A closed reader (`fieldtrace check … | head -5`) ends the command quietly, as `git log | head`.
  for (const stream of [process.stdout, process.stderr])
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  runCli(process.argv.slice(2), {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    cwd: process.cwd(),
    env: process.env,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`fieldtrace: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
