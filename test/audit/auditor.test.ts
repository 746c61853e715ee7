/**
 * The auditor engine and its Node runner in-process (src/audit/run-audit.ts over a mirror
 * directory, workers: 0), on the vector mirrors and on logs built in the test. The command line
 * around it is tested as a child process in test/cli/verify.test.ts.
 */
import { cp, mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditor, type AuditResult } from '../../src/core/audit/auditor.ts';
import { auditProofBundle } from '../../src/core/audit/bundle-audit.ts';
import { runAudit, type RunAuditResult } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { utf8 } from '../../src/core/bytes.ts';
import { AccordError } from '../../src/core/errors.ts';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { makeVerifierKey } from '../../src/core/log/note.ts';
import { signCheckpoint } from '../../src/core/log/checkpoint.ts';
import { encodeEntryBundle } from '../../src/core/log/tiles.ts';
import { verifyFast } from '../../src/node/ed25519-fast.ts';
import { entryText, readMirror, writeFileAt, writeMirror } from '../helpers/mirror.ts';
import { LogBuilder, proofBundle } from './log-builder.ts';

const VECTORS = new URL('../../../shared/vectors/registry-mirrors/', import.meta.url).pathname;
const HOLDOUT_KEY = 'holdout.accord.example/log+d8761c85+AWrxEOMrpToy6O3mGuYU48K0I0ldpSNZrJ9WNF/7IC6Q';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'accord-auditor-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let counter = 0;
function dirFor(name: string): string {
  return join(tmp, `${name}-${counter++}`);
}

async function audit(dir: string, opts: { logKey?: string | null; state?: string | null } = {}) {
  return runAudit(await openSource(dir), { logKey: opts.logKey ?? null, stateCheckpoint: opts.state ?? null, workers: 0 });
}

function codes(r: AuditResult): string[] {
  return r.findings.map((f) => `${f.index}:${f.code}`);
}

describe('runAudit over a mirror directory', () => {
  describe.each(['genesis', 'variants', 'large'])('the vector mirror %s', (name) => {
    it('verifies with the pinned key and offers its checkpoint as the new state', async () => {
      const r = await audit(join(VECTORS, name), { logKey: HOLDOUT_KEY });
      expect(r.findings).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.keyPinned).toBe(true);
      expect(r.stats.entries).toBe(r.size);
      expect(r.stats.signaturesChecked).toBe(r.size);
      expect(r.newState).toBe(await readFile(join(VECTORS, name, 'log', 'checkpoint'), 'utf8'));
    });
  });

  it('checks the level-1 tile of the large mirror, and names a damaged one', async () => {
    const dir = dirFor('large-l1');
    await cp(join(VECTORS, 'large'), dir, { recursive: true });
    const ok = await audit(dir, { logKey: HOLDOUT_KEY });
    expect(ok.stats.tileHashesChecked).toBe(2);
    const tile = join(dir, 'log', 'tile', '1', '000.p', '2');
    const bytes = await readFile(tile);
    bytes[40] = (bytes[40] as number) ^ 1;
    await writeFile(tile, bytes);
    const r = await audit(dir, { logKey: HOLDOUT_KEY });
    expect(codes(r)).toEqual(['-1:TILE_HASH_MISMATCH']);
  });

  describe('with a saved checkpoint', () => {
    it('proves variants (19) consistent with genesis (15)', async () => {
      const genesis = await readFile(join(VECTORS, 'genesis', 'log', 'checkpoint'), 'utf8');
      const r = await audit(join(VECTORS, 'variants'), { logKey: HOLDOUT_KEY, state: genesis });
      expect(r.ok).toBe(true);
      expect(r.consistency).toBe('proved');
      expect(r.newState).not.toBeNull();
    });

    it('finds a ROLLBACK when genesis (15) follows variants (19)', async () => {
      const variants = await readFile(join(VECTORS, 'variants', 'log', 'checkpoint'), 'utf8');
      const r = await audit(join(VECTORS, 'genesis'), { logKey: HOLDOUT_KEY, state: variants });
      expect(codes(r)).toEqual(['-1:ROLLBACK']);
      expect(r.newState).toBeNull();
    });

    it('finds a FORK when the first entries differ from the saved tree', async () => {
      const { log } = LogBuilder.basic();
      const first = await writeMirror(dirFor('fork-a'), log.bytes.slice(0, 4), log.mirrorKeys);
      // Same key, same size 4 prefix position, but entry 3 is a different statement.
      const other = log.bytes.slice(0, 3);
      const c = log.company('fork.test');
      other.push(log.attest(c).bytes);
      const dir = dirFor('fork-b');
      await writeMirror(dir, [...other, ...log.bytes.slice(4, 6)], log.mirrorKeys);
      const r = await audit(dir, { state: first.checkpoint });
      expect(codes(r)).toContain('-1:FORK');
    });

    it('finds STATE_INVALID for a saved checkpoint another key signed', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('state-key');
      await writeMirror(dir, log.bytes, log.mirrorKeys);
      const stranger = new LogBuilder(log.origin);
      const foreign = await writeMirror(dirFor('foreign'), log.bytes, stranger.mirrorKeys);
      expect(codes(await audit(dir, { state: foreign.checkpoint }))).toEqual(['-1:STATE_INVALID']);
    });
  });

  describe('on logs built in the test', () => {
    it('accepts a valid log with an unpinned key and says so', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('ok');
      await writeMirror(dir, log.bytes, log.mirrorKeys);
      const r = await audit(dir);
      expect(r.ok).toBe(true);
      expect(r.keyPinned).toBe(false);
      expect(r.keySource).toContain('unpinned');
      expect(r.stats).toMatchObject({ entries: 6, signatories: 2, accords: 1 });
    });

    it('names a pledge signed by a key other than the attested one (SIGNATURE_INVALID)', async () => {
      const { log, accord, a } = LogBuilder.basic();
      log.pledge(a, accord, { signWith: generateKeyPair() });
      const dir = dirFor('sig');
      await writeMirror(dir, log.bytes, log.mirrorKeys);
      expect(codes(await audit(dir))).toEqual(['6:SIGNATURE_INVALID']);
    });

    it('names a statement dated more than 10 minutes before an earlier one (BACKDATED)', async () => {
      const { log, accord, a, b } = LogBuilder.basic();
      const latest = Date.parse(log.entries[5]?.statement.validFrom as string);
      const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
      log.pledge(a, accord, { validFrom: iso(latest - 9 * 60_000) }); // within tolerance
      log.pledge(b, accord, { validFrom: iso(latest - 11 * 60_000) });
      const dir = dirFor('backdated');
      await writeMirror(dir, log.bytes, log.mirrorKeys);
      expect(codes(await audit(dir))).toEqual(['7:BACKDATED']);
    });

    it('names an entry whose bytes appear a second time (DUPLICATE_ENTRY)', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('dup');
      await writeMirror(dir, [...log.bytes, log.bytes[3] as Uint8Array], log.mirrorKeys);
      expect(codes(await audit(dir))).toEqual(['6:DUPLICATE_ENTRY']);
    });

    it('names an entry that is not a statement (ENTRY_INVALID with the validation code)', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('invalid');
      await writeMirror(dir, [...log.bytes, utf8('{"hello":"world"}')], log.mirrorKeys);
      const r = await audit(dir);
      expect(codes(r)).toEqual(['6:ENTRY_INVALID']);
      expect(r.findings[0]?.message).toMatch(/STATEMENT_/);
    });

    it('names a missing entry bundle by the first index it covers (TILE_MISSING)', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('missing');
      await writeMirror(dir, log.bytes, log.mirrorKeys);
      await rm(join(dir, 'log', 'tile', 'entries'), { recursive: true });
      expect(codes(await audit(dir))).toEqual(['0:TILE_MISSING']);
    });

    it('names a partial entry bundle with an entry too many as a tile finding (TILE_INVALID, -1)', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('extra');
      await writeMirror(dir, log.bytes, log.mirrorKeys);
      const extra = log.notice(log.companies.get('beta.test')!.did, 'delist', { append: false });
      await writeFileAt(dir, 'log/tile/entries/000.p/6', encodeEntryBundle([...log.bytes, extra.bytes]));
      const r = await audit(dir);
      expect(codes(r)).toEqual(['-1:TILE_INVALID']);
      expect(r.stats.entries).toBe(6);
    });

    it('reports a missing well-known file and a wrong pinned key', async () => {
      const { log } = LogBuilder.basic();
      const dir = dirFor('wk');
      const m = await writeMirror(dir, log.bytes, log.mirrorKeys);
      await rm(join(dir, '.well-known'), { recursive: true });
      const r = await audit(dir, { logKey: m.logKey });
      expect(codes(r)).toEqual(['-1:WELL_KNOWN_MISSING']);
      expect(r.stats.signaturesChecked).toBe(6);
      const wrong = makeVerifierKey(log.origin, generateKeyPair().publicKey);
      await writeFileAt(dir, '.well-known/accord-registry.json', JSON.stringify({ origin: log.origin, logKey: m.logKey, attestationKey: log.attestationDid }));
      expect(codes(await audit(dir, { logKey: wrong }))).toEqual(['-1:LOG_KEY_MISMATCH', '-1:CHECKPOINT_INVALID']);
    });
  });
});

describe('runAudit with checking threads', () => {
  it('reports exactly what the single-threaded audit reports, on a log of three tiles with findings in each', async () => {
    const { log, accord, a, b } = LogBuilder.basic();
    while (log.entries.length < 300) log.pledge(log.entries.length % 2 === 0 ? a : b, accord);
    log.pledge(a, accord, { signWith: generateKeyPair() }); // 300: SIGNATURE_INVALID
    while (log.entries.length < 520) log.pledge(log.entries.length % 2 === 0 ? a : b, accord);
    const bytes = log.bytes;
    bytes[400] = utf8(entryText(bytes[400] as Uint8Array).replace('{', '{ ')); // ENTRY_NOT_CANONICAL
    bytes.splice(450, 0, utf8('{"hello":"world"}')); // ENTRY_INVALID
    bytes.push(bytes[5] as Uint8Array); // DUPLICATE_ENTRY
    const dir = dirFor('threads');
    const m = await writeMirror(dir, bytes, log.mirrorKeys);
    // LEAF_HASH_MISMATCH: one hash of the second level-0 tile changed.
    const tile = new Uint8Array(await readFile(join(dir, 'log', 'tile', '0', '001')));
    tile[7 * 32] = (tile[7 * 32] as number) ^ 1;
    await writeFileAt(dir, 'log/tile/0/001', tile);
    const runs = await Promise.all([0, 1, 2].map(async (workers) => runAudit(await openSource(dir), { logKey: m.logKey, stateCheckpoint: null, workers })));
    const [inline, one, two] = runs as [RunAuditResult, RunAuditResult, RunAuditResult];
    expect(codes(inline)).toEqual(['263:LEAF_HASH_MISMATCH', '300:SIGNATURE_INVALID', '400:ENTRY_NOT_CANONICAL', '450:ENTRY_INVALID', '521:DUPLICATE_ENTRY']);
    for (const r of [one, two]) {
      expect(r.findings).toEqual(inline.findings);
      expect(r.stats).toEqual(inline.stats);
      expect(r.root).toBe(inline.root);
    }
    expect([inline.workers, one.workers, two.workers]).toEqual([0, 1, 2]);
    expect(two.stats.signaturesChecked).toBe(520);
  });

  it('reports a source it cannot read from the audit thread as the caller would (SOURCE_UNAVAILABLE)', async () => {
    const { log } = LogBuilder.basic();
    const dir = dirFor('unreadable');
    const m = await writeMirror(dir, log.bytes, log.mirrorKeys);
    // An entry bundle larger than any tile can be: not a finding, the source is unusable.
    await truncate(join(dir, 'log', 'tile', 'entries', '000.p', '6'), 17 * 1024 * 1024);
    const attempt = async (workers: number): Promise<unknown> => runAudit(await openSource(dir), { logKey: m.logKey, stateCheckpoint: null, workers }).catch((e: unknown) => e);
    const [inThread, here] = await Promise.all([attempt(2), attempt(0)]);
    expect(here).toMatchObject({ code: 'SOURCE_UNAVAILABLE' });
    expect(inThread).toBeInstanceOf(AccordError);
    expect(inThread).toMatchObject({ code: 'SOURCE_UNAVAILABLE', message: (here as AccordError).message });
  });
});

describe('createAuditor', () => {
  it('reports the same findings with signatures deferred as inline', async () => {
    const { log, accord, a } = LogBuilder.basic();
    log.pledge(a, accord, { signWith: generateKeyPair() });
    const dir = dirFor('defer');
    const m = await writeMirror(dir, log.bytes, log.mirrorKeys);
    const { entries } = await readMirror(dir);
    const run = (defer: boolean): AuditResult => {
      const au = createAuditor({ logKey: m.logKey, attestationDid: log.attestationDid, deferSignatures: defer, verifyFn: verifyFast });
      au.checkCheckpoint(m.checkpoint);
      const tasks = entries.map((e, i) => au.pushEntry(i, e, null)).filter((t) => t !== null);
      for (const t of tasks) au.signatureResult(t.index, verifyFast(t.signature, t.message, t.publicKey));
      return au.finish();
    };
    expect(codes(run(true))).toEqual(['6:SIGNATURE_INVALID']);
    expect(codes(run(false))).toEqual(['6:SIGNATURE_INVALID']);
  });
});

describe('auditProofBundle', () => {
  const opts = { logKey: null, verifyFn: verifyFast };

  it("verifies a signatory's bundle: accord, attestation and pledges", () => {
    const { log, a } = LogBuilder.basic();
    expect(a.head).toBe(log.entries[5]?.digest);
    const r = auditProofBundle(proofBundle(log, [0, 1, 2, 5]), opts);
    expect(r.findings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.stats.entries).toBe(4);
  });

  it('names an entry whose bytes the proof does not cover (INCLUSION_PROOF_INVALID)', () => {
    const { log } = LogBuilder.basic();
    const bundle = proofBundle(log, [0, 1, 2, 5], (b) => {
      const entries = b.entries as { entry: string }[];
      (entries[2] as { entry: string }).entry = (entries[1] as { entry: string }).entry;
    });
    expect(codes(auditProofBundle(bundle, opts))).toContain('2:INCLUSION_PROOF_INVALID');
  });

  it('names a pledge whose attestation is not in the bundle (KEY_NOT_ATTESTED)', () => {
    const { log } = LogBuilder.basic();
    expect(codes(auditProofBundle(proofBundle(log, [0, 2, 5]), opts))).toEqual(['2:KEY_NOT_ATTESTED', '5:KEY_NOT_ATTESTED']);
  });

  it('names a gap in the pledge chain (PREVIOUS_MISMATCH)', () => {
    const { log } = LogBuilder.basic();
    expect(codes(auditProofBundle(proofBundle(log, [0, 1, 5]), opts))).toEqual(['5:PREVIOUS_MISMATCH']);
  });

  it('names a bundle whose key is not the pinned one (LOG_KEY_MISMATCH)', () => {
    const { log } = LogBuilder.basic();
    const pinned = makeVerifierKey(log.origin, generateKeyPair().publicKey);
    const r = auditProofBundle(proofBundle(log, [0, 1, 2, 5]), { ...opts, logKey: pinned });
    expect(codes(r)[0]).toBe('-1:LOG_KEY_MISMATCH');
    expect(r.ok).toBe(false);
  });

  describe('with a saved checkpoint (--state)', () => {
    const stateOf = (log: LogBuilder): string => (JSON.parse(proofBundle(log, [0])) as { checkpoint: string }).checkpoint;

    it('accepts a bundle older than the saved checkpoint, proving nothing about it (no ROLLBACK: a bundle is a snapshot)', () => {
      const { log, b, accord } = LogBuilder.basic();
      const bundle = proofBundle(log, [0, 1, 2, 5]);
      log.withdraw(b, { accord });
      const r = auditProofBundle(bundle, { ...opts, stateCheckpoint: stateOf(log) });
      expect(r.findings).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.consistency).toBe('unproved');
      expect(r.newState).toBeNull();
    });

    it('proves a bundle of the saved checkpoint itself, and finds a FORK at that size with another root', () => {
      const { log } = LogBuilder.basic();
      const bundle = proofBundle(log, [0, 1, 2, 5]);
      expect(auditProofBundle(bundle, { ...opts, stateCheckpoint: stateOf(log) }).consistency).toBe('proved');
      const forked = signCheckpoint({ origin: log.origin, size: log.bytes.length, root: new Uint8Array(32).fill(7) }, log.logKey.secretKey);
      const r = auditProofBundle(bundle, { ...opts, stateCheckpoint: forked });
      expect(codes(r)).toEqual(['-1:FORK']);
      expect(r.ok).toBe(false);
    });
  });

  it('refuses a bundle that is not JSON (BUNDLE_INVALID)', () => {
    expect(codes(auditProofBundle(utf8('{"version":1,'), opts))).toEqual(['-1:BUNDLE_INVALID']);
  });
});
