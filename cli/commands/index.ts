import type { CliCommand } from '../command';
import { framesCommand } from './frames';
import { stateCommand } from './state';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [stateCommand, framesCommand];
