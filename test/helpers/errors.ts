import { isAccordError } from '../../src/core/errors.ts';

/**
 * The AccordError code `f` throws; undefined when it does not throw; a telling string when it
 * throws anything else, so a stray TypeError fails the assertion with a readable message.
 */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isAccordError(e) ? e.code : `not an AccordError: ${String(e)}`;
  }
  return undefined;
}
