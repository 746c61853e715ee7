/**
 * Exit codes shared by every command-line tool (DESIGN section 8): 0 success, 1 a finding or a
 * refusal by the registry, 2 could not run (usage, network, unreadable file). The code is derived
 * from the error in this one place, never chosen at the throw site.
 */
import { realpathSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AccordError, isAccordError } from '../core/errors.ts';

export const EXIT_OK = 0;
export const EXIT_FINDING = 1;
export const EXIT_CANNOT_RUN = 2;
export type ExitCode = typeof EXIT_OK | typeof EXIT_FINDING | typeof EXIT_CANNOT_RUN;

/** Code of an AccordError that carries its usage text; printed with that text, exit 2. */
export const USAGE_CODE = 'USAGE';

/**
 * The exit code for an error that ended a tool. An AccordError thrown with
 * `details: { exitCode: 1 }` (see `refusal`) is a finding or a refusal by the registry; everything
 * else that escapes a tool means it could not do its job: exit 2.
 */
export function exitCodeFor(error: unknown): ExitCode {
  if (isAccordError(error) && error.details?.exitCode === EXIT_FINDING) return EXIT_FINDING;
  return EXIT_CANNOT_RUN;
}

/** An AccordError that ends a tool with exit 1: e.g. the registry answered 4xx, or a receipt did not verify. */
export function refusal(code: string, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }): AccordError {
  return new AccordError(code, message, { cause: options?.cause, details: { ...options?.details, exitCode: EXIT_FINDING } });
}

/**
 * Whether `moduleUrl` is the program that was started: `tsx src/cli/<name>.ts` (npm run), or the
 * package bin `bin/accord-<name>.js` that imports it. A test importing the module runs nothing.
 */
export function isMainModule(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (argv1 === undefined) return false;
  const modulePath = fileURLToPath(moduleUrl);
  let started = argv1;
  try {
    started = realpathSync(argv1);
  } catch {
    // keep argv1 as given
  }
  if (started === modulePath) return true;
  const name = basename(modulePath).replace(/\.[cm]?[jt]s$/, '');
  return basename(started).replace(/\.[cm]?js$/, '') === `accord-${name}`;
}

function programName(moduleUrl: string): string {
  return `accord-${basename(fileURLToPath(moduleUrl)).replace(/\.[cm]?[jt]s$/, '')}`;
}

/**
 * Runs a tool's main function when its module is the started program, and sets the exit code:
 * the function's result, or exitCodeFor(error) with a one-line message on stderr (and the usage
 * text for a usage error). Uses process.exitCode, not process.exit, so stdout is flushed.
 */
export async function runCli(moduleUrl: string, main: (argv: string[]) => Promise<number>): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  const name = programName(moduleUrl);
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    process.exitCode = exitCodeFor(error);
    if (isAccordError(error, USAGE_CODE)) {
      process.stderr.write(`${name}: ${error.message}\n`);
      const usage = error.details?.usage;
      if (typeof usage === 'string') process.stderr.write(`\n${usage}\n`);
    } else if (isAccordError(error)) {
      process.stderr.write(`${name}: ${error.message} (${error.code})\n`);
    } else {
      process.stderr.write(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
  }
}
