/**
 * Accord files (data/accords/<slug>-<version>.json): the AccordText credentialSubject on its own,
 * the single source of an accord's text for the log, the pages and the command line. The same rules
 * as a logged AccordText apply (validate.ts), so a file that parses here builds a valid statement.
 */
import { parseStrictJson } from '../json/strict-parse.ts';
import type { AccordTextSubject } from './types.ts';
import { validateAccordTextSubject } from './validate.ts';

/** `urn:accord:<slug>:<version>`, the AccordText id (DESIGN 2). */
export function accordUrn(slug: string, version: number): string {
  return `urn:accord:${slug}:${version}`;
}

/**
 * Parses and checks an accord file. Accepts the file's bytes or text (parsed as strict JSON) or an
 * already parsed value. Throws JSON_* or STATEMENT_BAD_ACCORD_TEXT (and the other STATEMENT_*
 * codes for members and strings).
 */
export function parseAccordFile(json: unknown): AccordTextSubject {
  const value = typeof json === 'string' || json instanceof Uint8Array ? parseStrictJson(json) : json;
  return validateAccordTextSubject(value, 'the accord file');
}

/** The principle numbers of an accord, for checkPrinciplesCover. */
export function principleNumbers(accord: AccordTextSubject): number[] {
  return accord.principles.map((p) => p.number);
}
