/**
 * The order-free part of the audit (core/audit/entry-check.ts): whichever path prepares an entry
 * (the native-JSON fast path for canonical statements, or the strict one), the result is exactly
 * what the core's reference functions say: strict parse and schema (parseStatementBytes), digest,
 * leaf hash, proof hash data (proofHashData) and signature bytes (decodeProofValue), with either
 * SHA-256 (portable or node:crypto).
 */
import { base58 } from '@scure/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeSha256 } from '../../src/node/sha256.ts';
import { portableSha256, prepareEntry, type PreparedEntry } from '../../src/core/audit/entry-check.ts';
import { decodeBase58Signature } from '../../src/core/crypto/signature-base58.ts';
import { digestOf, fromUtf8, toHex, utf8 } from '../../src/core/bytes.ts';
import { isAccordError } from '../../src/core/errors.ts';
import { leafHash } from '../../src/core/log/merkle.ts';
import { decodeProofValue, proofHashData } from '../../src/core/statements/proof.ts';
import { parseStatementBytes } from '../../src/core/statements/validate.ts';
import { vectorMirrorEntries } from '../helpers/mirror.ts';
import { LogBuilder } from './log-builder.ts';

/** What the reference functions say about an entry, in PreparedEntry's shape. */
function reference(index: number, bytes: Uint8Array): unknown {
  const base = { index, leafHash: toHex(leafHash(bytes)), bytesDigest: digestOf(bytes) };
  try {
    const parsed = parseStatementBytes(bytes, { maxBytes: 0xffff });
    return {
      ...base,
      statement: JSON.stringify(parsed.statement),
      digest: parsed.digest,
      canonical: toHex(parsed.canonical) === toHex(bytes),
      invalid: null,
      hashData: toHex(proofHashData(parsed.statement)),
      signature: toHex(decodeProofValue(parsed.statement.proof.proofValue) as Uint8Array),
    };
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return { ...base, statement: null, digest: null, canonical: false, invalid: { code: e.code, message: e.message }, hashData: null, signature: null };
  }
}

function shape(p: PreparedEntry): unknown {
  return {
    index: p.index,
    leafHash: toHex(p.leafHash),
    bytesDigest: `sha256:${toHex(p.bytesHash)}`,
    statement: p.statement === null ? null : JSON.stringify(p.statement),
    digest: p.digest,
    canonical: p.canonical,
    invalid: p.invalid,
    hashData: p.hashData === null ? null : toHex(p.hashData),
    signature: p.signature === null ? null : toHex(p.signature),
  };
}

function expectLikeReference(bytes: Uint8Array, index = 0): void {
  const want = reference(index, bytes);
  expect(shape(prepareEntry(index, bytes))).toEqual(want);
  expect(shape(prepareEntry(index, bytes, { sha256: nodeSha256 }))).toEqual(want);
}

/** Variants of a canonical statement's text: each is non-canonical, invalid, or both. */
function variants(text: string): string[] {
  const o = JSON.parse(text) as Record<string, unknown>;
  const reversed: Record<string, unknown> = {};
  for (const k of Object.keys(o).reverse()) reversed[k] = o[k];
  return [
    text.replace('{', '{ '),
    `${text}\n`,
    `\uFEFF${text}`,
    JSON.stringify(o, null, 1),
    JSON.stringify(reversed),
    text.replace('"issuer"', '"issuer":"did:web:x.test","issuer"'),
    text.replace(/"proofPurpose":"/, '"proofPurpose":"\\u0061'),
    text.replace(/"type":\["VerifiableCredential"/, '"type":["Verifiable\\u0043redential"'),
    text.replace(/"validFrom":"/, '"validFrom":"\\ud800'),
    text.replace(/"validFrom":"/, '"validFrom":"\uFDD0'),
    text.replace(/\[1,2,3,4,5,6\]/, '[1,2,3,4,5,6.0]'),
    text.replace(/\[1,2,3,4,5,6\]/, '[1,2,3,4,5,6e0]'),
    text.replace(/\[1,2,3,4,5,6\]/, '[1,2,3,4,5,1e400]'),
    text.slice(0, -1),
    text.replace(/"proofValue":"z/, '"proofValue":"z1'),
    text.replace(/"proofValue":"z./, '"proofValue":"z0'),
    text.replace(/"name":"[^"]*"/, `"name":"${'n'.repeat(17000)}"`),
  ];
}

describe('prepareEntry', () => {
  it('prepares every entry of the vector mirrors as the reference functions do', async () => {
    const entries = await vectorMirrorEntries();
    expect(entries.length).toBeGreaterThan(700);
    entries.forEach((e, i) => expectLikeReference(e, i));
  });

  it('prepares each kind of statement and each non-canonical or invalid variant as the reference does', () => {
    const { log, accord, a } = LogBuilder.basic();
    log.withdraw(a);
    log.notice(a.did, 'delist');
    log.pledge(a, accord, { name: 'Zürich \u00e9t\u00e9 "quoted" \\ back' });
    let canonical = 0;
    for (const bytes of log.bytes) {
      const text = fromUtf8(bytes);
      expectLikeReference(bytes);
      if (prepareEntry(0, bytes).canonical) canonical++;
      for (const v of variants(text)) expectLikeReference(utf8(v));
    }
    expect(canonical).toBe(log.bytes.length);
  });

  it('agrees with the reference on names of any Unicode text (property)', () => {
    const { log, accord, a } = LogBuilder.basic();
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }), (name) => {
        const e = log.pledge(a, accord, { name, append: false });
        expectLikeReference(e.bytes);
      }),
      { numRuns: 60 },
    );
  });

  it('hashes the same with the portable and the node:crypto SHA-256', () => {
    for (const parts of [[utf8('abc')], [Uint8Array.of(0), utf8('x'.repeat(1000))], ['h\u00e9llo', utf8('!')], [new Uint8Array(0)]]) {
      expect(toHex(nodeSha256(...parts))).toBe(toHex(portableSha256(...parts)));
    }
  });
});

describe('decodeBase58Signature', () => {
  it('decodes what @scure/base encodes, leading zero bytes included, and only 64-byte values', () => {
    const rand = fc.sample(fc.uint8Array({ minLength: 64, maxLength: 64 }), 300);
    rand.forEach((b, i) => b.fill(0, 0, i % 66));
    for (const b of rand) expect(decodeBase58Signature(`z${base58.encode(b)}`, 1)).toEqual(b);
    for (const n of [0, 1, 32, 63, 65, 66, 100]) {
      const s = base58.encode(new Uint8Array(n).fill(7));
      expect(decodeBase58Signature(s)).toBeNull();
    }
    expect(decodeBase58Signature('z0OIl', 1)).toBeNull();
    expect(decodeBase58Signature(`${'1'.repeat(64)}`)).toEqual(base58.decode('1'.repeat(64)));
  });

  it('gives the same bytes when the same value is decoded twice, in arrays of its own', () => {
    const b = fc.sample(fc.uint8Array({ minLength: 64, maxLength: 64 }), 1)[0] as Uint8Array;
    const s = `z${base58.encode(b)}`;
    const first = decodeBase58Signature(s, 1) as Uint8Array;
    first.fill(0); // what a caller does with its copy must not reach the next one
    expect(decodeBase58Signature(s, 1)).toEqual(b);
    expect(decodeBase58Signature(s, 0)).toBeNull(); // the "z" read as a digit: more than 64 bytes
    expect(decodeBase58Signature('z0OIl', 1)).toBeNull();
    expect(decodeBase58Signature('z0OIl', 1)).toBeNull();
    expect(decodeBase58Signature(s, 1)).toEqual(b);
  });
});
