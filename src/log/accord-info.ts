/**
 * AccordInfo (src/core/audit/registry-state.ts) of a logged AccordText entry: what admission needs
 * to know about an accord (its principle numbers) without the pages' full text.
 */
import type { AccordInfo } from '../core/audit/registry-state.ts';
import { AccordError } from '../core/errors.ts';
import { MAX_ENTRY_BYTES } from '../core/log/tiles.ts';
import { typedStatement } from '../core/statements/types.ts';
import { parseStatementBytes } from '../core/statements/validate.ts';

/** Parsed accords kept (there is one AccordText per accord version: few). */
const MAX_KEPT = 256;
const kept = new Map<string, AccordInfo>();

export function accordInfoFromEntry(entry: { index: number; digest: string; bytes: Uint8Array }): AccordInfo {
  // A logged entry never changes, and the digest names its bytes: parsing the same entry again
  // (the accord of every pledge, in every batch) would give the same answer.
  const key = `${entry.index} ${entry.digest}`;
  const hit = kept.get(key);
  if (hit !== undefined) return hit;
  const t = typedStatement(parseStatementBytes(entry.bytes, { maxBytes: MAX_ENTRY_BYTES }).statement);
  if (t.kind !== 'AccordText') {
    throw new AccordError('LOG_NOT_AN_ACCORD', `entry ${entry.index} is a ${t.kind}, not an AccordText`);
  }
  const info: AccordInfo = Object.freeze({
    digest: entry.digest,
    index: entry.index,
    id: t.subject.id,
    version: t.subject.version,
    title: t.subject.title,
    principleNumbers: Object.freeze(t.subject.principles.map((p) => p.number)) as number[],
  });
  if (kept.size >= MAX_KEPT) kept.clear();
  kept.set(key, info);
  return info;
}
