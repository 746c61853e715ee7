/**
 * Command-line parsing shared by the tools: node:util parseArgs in strict mode, with every
 * mistake (unknown option, missing value, stray argument) turned into a usage error, exit 2
 * (DESIGN section 8). `--help`/`-h` is added to every tool.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AccordError } from '../core/errors.ts';
import { USAGE_CODE } from './exit.ts';

export { runCli, isMainModule, exitCodeFor, refusal, EXIT_OK, EXIT_FINDING, EXIT_CANNOT_RUN } from './exit.ts';

type Options = NonNullable<ParseArgsConfig['options']>;
type OptionValue<T> = T extends { type: 'boolean'; multiple: true }
  ? boolean[]
  : T extends { type: 'boolean' }
    ? boolean
    : T extends { multiple: true }
      ? string[]
      : string;

/** What parseCli returns: each option's value, absent when not given. */
export interface ParsedCli<O extends Options> {
  values: { [K in keyof O]?: OptionValue<O[K]> } & { help?: boolean };
  positionals: string[];
}

/** A usage error: printed with the tool's usage text, exit 2. */
export function usageError(message: string, usage: string): AccordError {
  return new AccordError(USAGE_CODE, message, { details: { usage } });
}

/**
 * Parses argv against `options` (plus --help). Positionals are allowed when `maxPositionals` > 0;
 * more than that is a usage error.
 */
export function parseCli<const O extends Options>(argv: string[], usage: string, options: O, maxPositionals = 0): ParsedCli<O> {
  let parsed: ParsedCli<O>;
  try {
    const all: Options = { ...options, help: { type: 'boolean', short: 'h' } };
    parsed = parseArgs({ args: argv, options: all, strict: true, allowPositionals: true }) as ParsedCli<O>;
  } catch (cause) {
    throw new AccordError(USAGE_CODE, (cause as Error).message, { cause, details: { usage } });
  }
  if (parsed.positionals.length > maxPositionals && parsed.values.help !== true) {
    const extra = parsed.positionals.slice(maxPositionals).join(' ');
    throw usageError(maxPositionals === 0 ? `unexpected argument: ${extra}` : `too many arguments: ${extra}`, usage);
  }
  return parsed;
}
