import type { CliCommand } from '../command';
import { stateCommand } from './state';

/** Every subcommand, in the order `--help` lists them. */
export const COMMANDS: CliCommand[] = [stateCommand];
