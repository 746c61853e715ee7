/**
 * The checking threads of accord-verify give exactly what the same code gives inline: prepared
 * entries (parse, schema, canonical form, hashes) and signature verdicts, whichever thread runs
 * the job: a worker, a helper answering over a MessagePort, or the calling thread itself.
 */
import { readFile } from 'node:fs/promises';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerJob } from '../../src/audit/check-jobs.ts';
import { createVerifyPool, type PrepareResult, type VerifyPool } from '../../src/audit/verify-pool.ts';
import type { PoolRequest } from '../../src/audit/verify-protocol.ts';
import type { SignatureTask } from '../../src/core/audit/auditor.ts';
import { prepareEntry } from '../../src/core/audit/entry-check.ts';
import { toHex, utf8 } from '../../src/core/bytes.ts';
import { encodeEntryBundle, encodeHashTile } from '../../src/core/log/tiles.ts';
import { nodeSha256 } from '../../src/node/sha256.ts';
import { LogBuilder } from './log-builder.ts';

const LARGE = new URL('../../../shared/vectors/registry-mirrors/large/log/tile/', import.meta.url);

/** Verdicts by task index, as the pool reports them. */
class Verdicts {
  readonly seen = new Map<number, boolean>();
  readonly onVerdict = (index: number, valid: boolean): void => {
    this.seen.set(index, valid);
  };
}

async function prepare(pool: VerifyPool, start: number, hashes: Uint8Array, bundle: Uint8Array): Promise<PrepareResult> {
  const space = pool.tile();
  space.hashes(hashes.length).set(hashes);
  space.bundle(bundle.length).set(bundle);
  const r = pool.prepare(start, space);
  // A pool that lends this thread needs it to run the job.
  while (pool.helpInline());
  return r;
}

function entriesOf(r: PrepareResult): unknown[] {
  return r.ok ? Array.from({ length: r.count }, (_, i) => ({ ...r.entry(i), tileHash: r.tileHash(i) })) : [];
}

/** Waits until every queued signature has its verdict, helping when the pool lends this thread. */
async function drain(pool: VerifyPool): Promise<void> {
  pool.flushSignatures();
  while (pool.pendingSignatures > 0) {
    if (!pool.helpInline()) await Promise.race([pool.signaturesBelow(0), pool.whenWork()]);
  }
}

const threadedVerdicts = new Verdicts();
const inlineVerdicts = new Verdicts();
let pool: VerifyPool;
const inline = createVerifyPool({ workers: 0, lendThisThread: false, onVerdict: inlineVerdicts.onVerdict });
beforeAll(() => {
  pool = createVerifyPool({ workers: 2, lendThisThread: false, onVerdict: threadedVerdicts.onVerdict });
});
afterAll(async () => {
  await pool.close();
});

describe('createVerifyPool', () => {
  it('prepares a full entry bundle in workers exactly as inline, with its level-0 hashes', async () => {
    const bundle = new Uint8Array(await readFile(new URL('entries/000', LARGE)));
    const hashes = new Uint8Array(await readFile(new URL('0/000', LARGE)));
    const [threaded, direct] = await Promise.all([prepare(pool, 0, hashes, bundle), prepare(inline, 0, hashes, bundle)]);
    if (!threaded.ok || !direct.ok) throw new Error('the bundle should decode');
    expect(threaded.count).toBe(256);
    expect(entriesOf(threaded)).toEqual(entriesOf(direct));
    expect(threaded.tileHash(255)).toEqual(hashes.subarray(255 * 32));
    expect(threaded.tileHash(256)).toBeNull();
    threaded.release();
    direct.release();
  });

  it('reports a malformed bundle with its code instead of throwing', async () => {
    const r = await prepare(pool, 0, new Uint8Array(32), new Uint8Array([0, 9, 1]));
    expect(r).toMatchObject({ ok: false, code: 'TILE_BAD_BUNDLE' });
  });

  it('prepares an entry that is not a statement as invalid, with the code', async () => {
    const r = await prepare(pool, 7, new Uint8Array(64), encodeEntryBundle([utf8('[1,2]'), utf8('{"a":1,"a":2}')]));
    if (!r.ok) throw new Error('the bundle should decode');
    expect(entriesOf(r).map((e) => { const p = e as { index: number; statement: unknown; invalid: { code: string } | null }; return [p.index, p.statement, p.invalid?.code]; })).toEqual([
      [7, null, 'STATEMENT_NOT_OBJECT'],
      [8, null, 'JSON_DUPLICATE_KEY'],
    ]);
  });

  it('prepares a bundle larger than its reusable buffers, and tiles one after another in reused ones', async () => {
    const { log } = LogBuilder.basic();
    // Padding with spaces keeps each entry a valid (non-canonical) statement of 3 KB.
    const big = log.bytes.map((b) => utf8(`${new TextDecoder().decode(b)}${' '.repeat(3000)}`));
    const many = Array.from({ length: 256 }, (_, i) => big[i % big.length] as Uint8Array);
    const hashes = encodeHashTile(Array.from({ length: 256 }, () => new Uint8Array(32)));
    const r = await prepare(pool, 0, hashes, encodeEntryBundle(many));
    if (!r.ok) throw new Error('the bundle should decode');
    expect(r.count).toBe(256);
    expect(r.entry(255)).toMatchObject({ index: 255, canonical: false, invalid: null });
    r.release();
    for (let round = 0; round < 3; round++) {
      const small = await prepare(pool, 0, hashes.subarray(0, 6 * 32), encodeEntryBundle(log.bytes));
      if (!small.ok) throw new Error('the bundle should decode');
      expect(entriesOf(small).map((e) => (e as { canonical: boolean }).canonical)).toEqual([true, true, true, true, true, true]);
      small.release();
    }
  });

  it('verifies signatures with the same verdicts as inline, spread over the threads', async () => {
    const { log } = LogBuilder.basic();
    const prepared = await prepare(inline, 0, new Uint8Array(6 * 32), encodeEntryBundle(log.bytes));
    if (!prepared.ok) throw new Error('the bundle should decode');
    // Entries 0, 1, 3 are the registry's; 2 and 5 alpha's; 4 beta's (LogBuilder.basic).
    const alpha = log.companies.get('alpha.test')!.keys[0]!.publicKey;
    const beta = log.companies.get('beta.test')!.keys[0]!.publicKey;
    const signers = [log.attestationKey.publicKey, log.attestationKey.publicKey, alpha, log.attestationKey.publicKey, beta, alpha];
    const tasks: SignatureTask[] = Array.from({ length: 6 }, (_, i) => {
      const e = prepared.entry(i);
      return { index: i, signature: e.signature!, message: e.hashData!, publicKey: signers[i]! };
    });
    // 40 copies, every other one with its message changed: more than one chunk per thread.
    const all: SignatureTask[] = [];
    for (let n = 0; n < 40; n++) {
      for (const t of tasks) all.push(n % 2 === 0 ? { ...t, index: all.length } : { ...t, index: all.length, message: t.message.map((b, j) => (j === 0 ? b ^ 1 : b)) });
    }
    for (const t of all) {
      pool.queueSignature(t);
      inline.queueSignature(t);
    }
    await drain(pool);
    expect(threadedVerdicts.seen.size).toBe(all.length);
    expect([...threadedVerdicts.seen.entries()].sort((a, b) => a[0] - b[0])).toEqual([...inlineVerdicts.seen.entries()].sort((a, b) => a[0] - b[0]));
    expect(all.filter((t) => threadedVerdicts.seen.get(t.index) === true).length).toBe(all.length / 2);
  });

  it('gives a helper bundles to prepare, not only signatures (the lent thread takes both kinds of job)', async () => {
    const { log } = LogBuilder.basic();
    const { port1, port2 } = new MessageChannel();
    const kinds: string[] = [];
    port1.on('message', (req: PoolRequest) => {
      kinds.push(req.kind);
      const { reply, transfer } = answerJob(req);
      port1.postMessage(reply, transfer);
    });
    const verdicts = new Verdicts();
    // Nobody else may prepare: no workers and the calling thread not lent.
    const pool = createVerifyPool({ workers: 0, helpers: [port2], lendThisThread: false, onVerdict: verdicts.onVerdict });
    try {
      const bundle = encodeEntryBundle(log.bytes);
      const r = await prepare(pool, 0, new Uint8Array(log.bytes.length * 32), bundle);
      if (!r.ok) throw new Error('the bundle should decode');
      expect(kinds).toEqual(['prepare']);
      for (let i = 0; i < r.count; i++) {
        const here = prepareEntry(i, log.bytes[i] as Uint8Array, { sha256: nodeSha256 });
        const there = r.entry(i);
        expect([there.digest, toHex(there.leafHash), toHex(there.hashData!), there.canonical]).toEqual([here.digest, toHex(here.leafHash), toHex(here.hashData!), here.canonical]);
      }
      r.release();
    } finally {
      port1.close();
      await pool.close();
    }
  });

  it('runs every job on the calling thread and on a helper when it has no workers', async () => {
    const { log } = LogBuilder.basic();
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (req: PoolRequest) => {
      const { reply, transfer } = answerJob(req);
      port1.postMessage(reply, transfer);
    });
    const verdicts = new Verdicts();
    const lent = createVerifyPool({ workers: 0, helpers: [port2], lendThisThread: true, onVerdict: verdicts.onVerdict });
    try {
      const r = await prepare(lent, 0, new Uint8Array(6 * 32), encodeEntryBundle(log.bytes));
      if (!r.ok) throw new Error('the bundle should decode');
      const attested = log.attestationKey.publicKey;
      for (let n = 0; n < 100; n++) {
        const e = r.entry(0);
        lent.queueSignature({ index: n, signature: e.signature!, message: e.hashData!, publicKey: n % 3 === 0 ? attested : new Uint8Array(32).fill(n) });
      }
      await drain(lent);
      expect(verdicts.seen.size).toBe(100);
      for (const [n, ok] of verdicts.seen) expect(ok).toBe(n % 3 === 0);
    } finally {
      port1.close();
      await lent.close();
    }
  });
});
