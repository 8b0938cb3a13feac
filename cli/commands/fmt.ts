// `fieldtrace fmt`: the language server's formatter for scripts in a terminal or CI, with the
// same settings as the editor (`--indent`, `--width`) and the same dialect choice as `check`.
import { chmod, rename, stat, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { type CliCommand, UsageError, checkInputFiles, readInputs, write } from '../command';
import { dialectFlag, readFlags } from '../flags';
import { DEFAULT_FORMAT, type FormatSettings, formatSettings, formatText } from '../../server/format/format';
import { Targets } from '../../server/targets';

const USAGE = `Usage: fieldtrace fmt [options] FILE...

Formats bpftrace scripts in bpftrace's own \`--fmt\` style, in the dialect of a bpftrace
version (no bpftrace needed). Files are rewritten in place; FILE "-" reads stdin and writes
the formatted script to stdout. A script with syntax errors is formatted only where it parses.

Options:
  --check                list the files that would change, change nothing
  --bpftrace-version V   dialect to format for (e.g. 0.17, 0.26, main); default: the local
                         \`bpftrace --version\` if installed, else the latest known
  --indent N             spaces per level (default ${DEFAULT_FORMAT.indent}, as fieldtrace.format.indentSize)
  --width N              line width (default ${DEFAULT_FORMAT.width}, as fieldtrace.format.width)
  -h, --help             this help

Exit status: 0 done (with --check: nothing would change), 1 with --check: some file would
change, without: some file has syntax errors; 2 bad usage or unreadable input.`;

interface Options {
  check: boolean;
  version?: string;
  settings: FormatSettings;
  files: string[];
}

function parseArgs(args: string[]): Options {
  let check = false;
  let version: string | undefined;
  let indent: number = DEFAULT_FORMAT.indent;
  let width: number = DEFAULT_FORMAT.width;
  const files: string[] = [];
  const integer = (flag: string, v: string, min: number, max: number) => {
    const n = /^\d+$/.test(v) ? Number(v) : NaN;
    if (!(n >= min && n <= max))
      throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not '${v}'`);
    return n;
  };
  readFlags('fmt', args, {
    values: {
      '--bpftrace-version': (v) => (version = dialectFlag(v)),
      '--indent': (v, flag) => (indent = integer(flag, v, 1, 16)),
      '--width': (v, flag) => (width = integer(flag, v, 20, 1000)),
    },
    switches: { '--check': () => (check = true) },
    operand: (file) => files.push(file),
  });
  checkInputFiles(files, 'script');
  return { check, version, settings: formatSettings(indent, width), files };
}

export const fmtCommand: CliCommand = {
  name: 'fmt',
  summary: "format bpftrace scripts in bpftrace's --fmt style, for any dialect",
  usage: USAGE,
  async run(args, io) {
    const options = parseArgs(args);
    const targets = new Targets();
    if (options.version) targets.setSetting(options.version);
    else await targets.detectLocal();
    const dialect = targets.forDocument('untitled:fmt').dialect;
    if (dialect.unsupported) write(io.stderr, `fieldtrace fmt: ${dialect.unsupported}`);

    // Everything is read first: an unreadable file is a usage error, before any change.
    const inputs = await readInputs(options.files, io);

    let changed = 0;
    let broken = 0;
    for (const { file, text } of inputs) {
      const name = file === '-' ? '<stdin>' : file;
      const result = formatText(text, dialect, options.settings);
      if (result.skipped) {
        broken++;
        write(io.stderr, `fieldtrace fmt: ${name}: ${result.skipped}`);
      }
      const formatted = result.text ?? text;
      if (formatted !== text) changed++;
      if (options.check) {
        if (formatted !== text) write(io.stdout, name);
      } else if (file === '-') {
        io.stdout.write(formatted);
      } else if (formatted !== text) {
        // Through a temporary file, so that an interrupted run never leaves half a script.
        const path = resolve(io.cwd, file);
        const temporary = `${path}.fieldtrace-fmt-${process.pid}`;
        const { mode } = await stat(path);
        await writeFile(temporary, formatted, 'utf8');
        await chmod(temporary, mode & 0o7777);
        await rename(temporary, path);
      }
    }
    if (options.check) return changed > 0 ? 1 : 0;
    return broken > 0 ? 1 : 0;
  },
};
