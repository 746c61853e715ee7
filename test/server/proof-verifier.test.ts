/**
 * Admission step 9 off the main thread (src/server/proof-verifier.ts): a worker thread gives the
 * verdicts the main thread gives, refusals keep their PROOF_* codes, and a verifier that has no
 * worker to ask (closed) still answers on the calling thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { isAccordError } from '../../src/core/errors.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { verifyProof } from '../../src/core/statements/proof.ts';
import type { Statement } from '../../src/core/statements/types.ts';
import { createProofVerifier, inlineProofVerifier, type ProofVerifier } from '../../src/server/proof-verifier.ts';
import { Company } from '../helpers/company.ts';
import { expectRefusal, startHarness, type Harness } from './harness.ts';

const ACCORD = `sha256:${'ab'.repeat(32)}`;

/** The refusal code of a check, or 'ok'. */
async function verdict(v: ProofVerifier, statement: Statement, publicKey: Uint8Array): Promise<string> {
  try {
    await v.verify(canonicalBytes(statement), publicKey);
    return 'ok';
  } catch (e) {
    if (isAccordError(e)) return e.code;
    throw e;
  }
}

/** A worker takes checks once it has loaded its code (until then they run inline, correctly too). */
async function untilWorkerReady(v: ProofVerifier): Promise<void> {
  for (let i = 0; i < 600 && v.readyThreads < v.threads; i++) await new Promise((r) => setTimeout(r, 50));
  expect(v.readyThreads).toBe(v.threads);
}

describe('createProofVerifier', () => {
  describe('with one worker thread', () => {
    let threaded: ProofVerifier;
    const inline = inlineProofVerifier();

    beforeAll(async () => {
      threaded = createProofVerifier(1);
      await untilWorkerReady(threaded);
    }, 40_000);

    afterAll(async () => {
      await threaded.close();
    });

    it('gives the main thread\'s verdict on valid, altered and wrongly keyed statements', async () => {
      const c = new Company('verdicts.test');
      const other = generateKeyPair();
      const good = c.pledge({ accord: ACCORD, previous: null });
      const renamed = { ...good, credentialSubject: { ...good.credentialSubject, name: 'Someone Else' } } as Statement;
      const badValue = { ...good, proof: { ...good.proof, proofValue: 'z1111' } } as Statement;
      const wrongSuite = { ...good, proof: { ...good.proof, cryptosuite: 'ecdsa-jcs-2019' } } as unknown as Statement;
      const cases: [Statement, Uint8Array][] = [
        [good, c.key.publicKey],
        [good, other.publicKey],
        [renamed, c.key.publicKey],
        [badValue, c.key.publicKey],
        [wrongSuite, c.key.publicKey],
      ];
      const fromWorker = await Promise.all(cases.map(([s, k]) => verdict(threaded, s, k)));
      const fromMain = await Promise.all(cases.map(([s, k]) => verdict(inline, s, k)));
      expect(fromWorker).toEqual(fromMain);
      expect(fromWorker).toEqual(['ok', 'PROOF_INVALID', 'PROOF_INVALID', 'PROOF_BAD_VALUE', 'PROOF_WRONG_CRYPTOSUITE']);
      expect(threaded.threads).toBe(1);
    });

    it('refuses with the code and message of core verifyProof, on either thread', async () => {
      const c = new Company('messages.test');
      const good = c.pledge({ accord: ACCORD, previous: null });
      const renamed = { ...good, credentialSubject: { ...good.credentialSubject, name: 'Someone Else' } } as Statement;
      const cases: [Statement, Uint8Array][] = [
        [good, generateKeyPair().publicKey],
        [renamed, c.key.publicKey],
        [good, c.key.publicKey.subarray(0, 31)],
      ];
      const refusal = async (v: ProofVerifier, s: Statement, k: Uint8Array) => {
        try {
          await v.verify(canonicalBytes(s), k);
          return null;
        } catch (e) {
          return isAccordError(e) ? { code: e.code, message: e.message } : e;
        }
      };
      const reference = cases.map(([s, k]) => {
        try {
          verifyProof(s, k);
          return null;
        } catch (e) {
          return isAccordError(e) ? { code: e.code, message: e.message } : e;
        }
      });
      expect(reference.map((r) => (r as { code: string }).code)).toEqual(['PROOF_INVALID', 'PROOF_INVALID', 'PROOF_BAD_KEY']);
      expect(await Promise.all(cases.map(([s, k]) => refusal(inline, s, k)))).toEqual(reference);
      expect(await Promise.all(cases.map(([s, k]) => refusal(threaded, s, k)))).toEqual(reference);
    });

    it('answers many checks at once, each with its own verdict', async () => {
      const c = new Company('many.test');
      const statements = Array.from({ length: 40 }, (_, i) => c.pledge({ accord: ACCORD, previous: null, name: `Many ${i}` }));
      const keys = statements.map((_, i) => (i % 3 === 0 ? generateKeyPair().publicKey : c.key.publicKey));
      const got = await Promise.all(statements.map((s, i) => verdict(threaded, s, keys[i]!)));
      expect(got).toEqual(keys.map((_, i) => (i % 3 === 0 ? 'PROOF_INVALID' : 'ok')));
    });
  });

  describe('when its worker stops with checks under way', () => {
    it('finishes them on the calling thread, with the same verdicts', async () => {
      const v = createProofVerifier(1);
      await untilWorkerReady(v);
      const c = new Company('stopped.test');
      const s = c.pledge({ accord: ACCORD, previous: null });
      const other = generateKeyPair().publicKey;
      const under = [verdict(v, s, c.key.publicKey), verdict(v, s, other), verdict(v, s, c.key.publicKey)];
      await v.close();
      expect(await Promise.all(under)).toEqual(['ok', 'PROOF_INVALID', 'ok']);
    }, 40_000);
  });

  describe('once closed', () => {
    it('still checks, on the calling thread', async () => {
      const v = createProofVerifier(1);
      await v.close();
      expect(v.readyThreads).toBe(0);
      const c = new Company('closed.test');
      const s = c.pledge({ accord: ACCORD, previous: null });
      expect(await verdict(v, s, c.key.publicKey)).toBe('ok');
      expect(await verdict(v, s, generateKeyPair().publicKey)).toBe('PROOF_INVALID');
    });
  });

  it('refuses a negative thread count with BAD_ARGUMENT', () => {
    expect(() => createProofVerifier(-1)).toThrowError(expect.objectContaining({ code: 'BAD_ARGUMENT' }));
  });
});

describe('POST /api/v1/statements with proofs checked in a worker thread', () => {
  let h: Harness;

  let verifier: ProofVerifier;

  beforeAll(async () => {
    verifier = createProofVerifier(1);
    h = await startHarness({ domains: ['worker.test'], proofVerifier: verifier });
    await untilWorkerReady(verifier);
  }, 40_000);

  afterAll(async () => {
    await verifier?.close();
  });

  afterAll(async () => {
    await h?.close();
  });

  it('admits a signed pledge and refuses an altered one with PROOF_INVALID, writing nothing', async () => {
    const c = new Company('worker.test', h.host);
    const good = c.pledge({ accord: h.accord, previous: null });
    const altered = { ...good, credentialSubject: { ...good.credentialSubject, name: 'Altered' } };
    await expectRefusal(h, altered, 400, 'PROOF_INVALID');
    const res = await h.submit(good);
    expect(res.status).toBe(201);
  });
});
