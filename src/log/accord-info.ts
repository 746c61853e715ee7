/**
 * AccordInfo (src/core/audit/registry-state.ts) of a logged AccordText entry: what admission needs
 * to know about an accord (its principle numbers) without the pages' full text.
 */
import type { AccordInfo } from '../core/audit/registry-state.ts';
import { AccordError } from '../core/errors.ts';
import { MAX_ENTRY_BYTES } from '../core/log/tiles.ts';
import { typedStatement } from '../core/statements/types.ts';
import { parseStatementBytes } from '../core/statements/validate.ts';

export function accordInfoFromEntry(entry: { index: number; digest: string; bytes: Uint8Array }): AccordInfo {
  const t = typedStatement(parseStatementBytes(entry.bytes, { maxBytes: MAX_ENTRY_BYTES }).statement);
  if (t.kind !== 'AccordText') {
    throw new AccordError('LOG_NOT_AN_ACCORD', `entry ${entry.index} is a ${t.kind}, not an AccordText`);
  }
  return {
    digest: entry.digest,
    index: entry.index,
    id: t.subject.id,
    version: t.subject.version,
    title: t.subject.title,
    principleNumbers: t.subject.principles.map((p) => p.number),
  };
}
