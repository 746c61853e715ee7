/**
 * The worker threads of accord-verify give exactly what the same code gives inline: prepared
 * entries (parse, schema, canonical form, hashes) and signature verdicts.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifyPool, type VerifyPool } from '../../src/audit/verify-pool.ts';
import type { SignatureTask } from '../../src/core/audit/auditor.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { encodeEntryBundle } from '../../src/core/log/tiles.ts';
import { LogBuilder } from './log-builder.ts';

const LARGE_BUNDLE = new URL('../../../shared/vectors/registry-mirrors/large/log/tile/entries/000', import.meta.url);

let pool: VerifyPool;
const inline = createVerifyPool(0);
beforeAll(() => {
  pool = createVerifyPool(2);
});
afterAll(async () => {
  await pool.close();
});

describe('createVerifyPool', () => {
  it('prepares a full entry bundle in workers exactly as inline', async () => {
    const bundle = new Uint8Array(await readFile(LARGE_BUNDLE));
    const [threaded, direct] = await Promise.all([pool.prepareBundle(0, bundle.slice()), inline.prepareBundle(0, bundle)]);
    expect(threaded.ok && threaded.entries.length).toBe(256);
    expect(threaded).toEqual(direct);
  });

  it('reports a malformed bundle with its code instead of throwing', async () => {
    const r = await pool.prepareBundle(0, new Uint8Array([0, 9, 1]));
    expect(r).toMatchObject({ ok: false, code: 'TILE_BAD_BUNDLE' });
  });

  it('prepares an entry that is not a statement as invalid, with the code', async () => {
    const r = await pool.prepareBundle(7, encodeEntryBundle([utf8('[1,2]'), utf8('{"a":1,"a":2}')]));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.entries.map((e) => [e.index, e.statement, e.invalid?.code])).toEqual([
      [7, null, 'STATEMENT_NOT_OBJECT'],
      [8, null, 'JSON_DUPLICATE_KEY'],
    ]);
  });

  it('verifies signatures with the same verdicts as inline, spread over the workers', async () => {
    const { log } = LogBuilder.basic();
    const prepared = await inline.prepareBundle(0, encodeEntryBundle(log.bytes));
    if (!prepared.ok) throw new Error('the bundle should decode');
    // Entries 0, 1, 3 are the registry's; 2 and 5 alpha's; 4 beta's (LogBuilder.basic).
    const alpha = log.companies.get('alpha.test')!.keys[0]!.publicKey;
    const beta = log.companies.get('beta.test')!.keys[0]!.publicKey;
    const signers = [log.attestationKey.publicKey, log.attestationKey.publicKey, alpha, log.attestationKey.publicKey, beta, alpha];
    const tasks: SignatureTask[] = prepared.entries.map((e, i) => ({ index: i, signature: e.signature!, message: e.hashData!, publicKey: signers[i]! }));
    const wrong = tasks.map((t, i) => (i % 2 === 0 ? { ...t, message: t.message.map((b, j) => (j === 0 ? b ^ 1 : b)) } : t));
    const batches = await Promise.all([pool.verify(tasks), pool.verify(wrong), pool.verify([])]);
    expect(batches[0]).toEqual([true, true, true, true, true, true]);
    expect(batches[1]).toEqual([false, true, false, true, false, true]);
    expect(batches[1]).toEqual(await inline.verify(wrong));
    expect(batches[2]).toEqual([]);
  });
});
