import type { CliCommand } from '../command';
import { checkCommand } from './check';
import { fmtCommand } from './fmt';
import { probeCommand } from './probe';
import { framesCommand } from './frames';
import { runCommand } from './run';
import { stateCommand } from './state';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [
  checkCommand,
  fmtCommand,
  stateCommand,
  framesCommand,
  probeCommand,
  runCommand,
];
