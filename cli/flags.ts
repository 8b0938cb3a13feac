// The one reader of a subcommand's arguments: `--flag VALUE` and `--flag=VALUE` for flags with a
// value (a flag given again is handed its value again), bare switches, `-` as an operand (stdin),
// and `--` before operands that look like flags, or before data that is no operand at all.
// What each flag means, and what a good value is, stays with its command.
import { isDialectName } from '../common/bpftrace-version';
import { UsageError } from './command';

export interface FlagSpec {
  /** Flags that take a value, each with what to do with it (a bad value throws a UsageError that says why). */
  values?: Record<string, (value: string, flag: string) => void>;
  /** Flags that take no value. */
  switches?: Record<string, () => void>;
  /** Every argument that is not a flag, in order. */
  operand(arg: string): void;
  /**
   * With it, what follows `--` is handed over whole, as data of its own (a script's positional
   * parameters), instead of as operands.
   */
  rest?(args: string[]): void;
}

/**
 * Reads `args` for the command `command` (named in the hint of an unknown option). A value that
 * looks like a flag (`-x`, `--x`, not `-`) is taken as a missing value, so a forgotten value never
 * swallows the next flag; `--flag=-x` gives such a value.
 */
export function readFlags(command: string, args: readonly string[], spec: FlagSpec): void {
  const looksLikeFlag = (arg: string) => arg.startsWith('-') && arg !== '-';
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      if (spec.rest) spec.rest(args.slice(i + 1));
      else for (const rest of args.slice(i + 1)) spec.operand(rest);
      return;
    }
    if (!looksLikeFlag(arg)) {
      spec.operand(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const onValue = spec.values && Object.hasOwn(spec.values, flag) ? spec.values[flag] : undefined;
    const onSwitch = spec.switches && Object.hasOwn(spec.switches, flag) ? spec.switches[flag] : undefined;
    if (onValue) {
      const value = eq > 0 ? arg.slice(eq + 1) : args[++i];
      if (value === undefined || (eq < 0 && looksLikeFlag(value)))
        throw new UsageError(`${flag} needs a value`);
      onValue(value, flag);
    } else if (onSwitch) {
      if (eq > 0) throw new UsageError(`${flag} takes no value`);
      onSwitch();
    } else throw new UsageError(`unknown option '${flag}' (see fieldtrace ${command} --help)`);
  }
}

/** The value of `--bpftrace-version` where it names the dialect to read scripts in (check, fmt). */
export function dialectFlag(value: string): string {
  if (!isDialectName(value))
    throw new UsageError(`--bpftrace-version: '${value}' is not a version like 0.17 or 0.26, or main`);
  return value;
}
