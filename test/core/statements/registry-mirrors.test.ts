// The three registry mirrors in ../shared/vectors were written by an independent implementation
// of DESIGN.md: every entry must validate, be canonical, and carry a proof that verifies.
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bytesEqual } from '../../../src/core/bytes.ts';
import { decodePublicMultikey, publicKeyFromDidKey } from '../../../src/core/crypto/multikey.ts';
import { canonicalBytes } from '../../../src/core/json/canonical.ts';
import { parseStrictJson } from '../../../src/core/json/strict-parse.ts';
import { verifyProof } from '../../../src/core/statements/proof.ts';
import { typedStatement } from '../../../src/core/statements/types.ts';
import { parseStatementBytes, validateStatement } from '../../../src/core/statements/validate.ts';
import { VECTORS, codeOf, decodeBundle } from './fixtures.ts';

/** All entries of a mirror, in log order, from its entry bundles (full tiles, then the partial one). */
function mirrorEntries(name: string): Uint8Array[] {
  const dir = new URL(`registry-mirrors/${name}/log/tile/entries/`, VECTORS);
  const full = readdirSync(dir)
    .filter((f) => /^\d{3}$/.test(f))
    .sort();
  const partial = readdirSync(dir).filter((f) => f.endsWith('.p'));
  const files = [...full.map((f) => new URL(f, dir)), ...partial.flatMap((p) => readdirSync(new URL(`${p}/`, dir)).map((w) => new URL(`${p}/${w}`, dir)))];
  return files.flatMap((f) => decodeBundle(new Uint8Array(readFileSync(f))));
}

function attestationKey(name: string): string {
  const wk = JSON.parse(readFileSync(new URL(`registry-mirrors/${name}/.well-known/accord-registry.json`, VECTORS), 'utf8')) as { attestationKey: string };
  return wk.attestationKey;
}

// `large` checks the signature of every 8th entry (all of them take seconds with the pure-JS
// verifier; accord-verify's tests check them all); the small mirrors check every one.
describe.each([
  ['genesis', 15, 1],
  ['variants', 19, 1],
  ['large', 765, 8],
])('the %s registry mirror', (name, size, verifyEvery) => {
  const entries = mirrorEntries(name);
  const registryDid = attestationKey(name);

  it(`holds ${size} entries, entry 0 an AccordText`, () => {
    expect(entries.length).toBe(size);
    expect(parseStatementBytes(entries[0] as Uint8Array).statement.type[1]).toBe('AccordText');
  });

  it('has every entry valid and canonical (canonicalize(parse(bytes)) equals the bytes)', () => {
    for (const [i, bytes] of entries.entries()) {
      const { statement, canonical } = parseStatementBytes(bytes);
      expect(bytesEqual(canonical, bytes), `entry ${i} is canonical`).toBe(true);
      expect(bytesEqual(canonicalBytes(parseStrictJson(bytes)), bytes)).toBe(true);
      expect(validateStatement(statement)).toBe(statement);
    }
  });

  it("has its proofs verify: registry statements under the attestation key, signatory statements under the key of the latest preceding DomainAttestation listing the method", () => {
    const methods = new Map<string, Map<string, Uint8Array>>(); // did -> method id -> key
    let verified = 0;
    for (const [i, bytes] of entries.entries()) {
      const t = typedStatement(parseStatementBytes(bytes).statement);
      const method = t.doc.proof.verificationMethod;
      let key: Uint8Array;
      if (t.kind === 'AccordText' || t.kind === 'DomainAttestation' || t.kind === 'RegistryNotice') {
        expect(t.doc.issuer, `entry ${i} issuer`).toBe(registryDid);
        key = publicKeyFromDidKey(method);
      } else {
        const k = methods.get(t.doc.issuer)?.get(method);
        expect(k, `entry ${i}: ${method} is listed by an earlier attestation`).toBeDefined();
        key = k as Uint8Array;
      }
      if (i % verifyEvery === 0) {
        verifyProof(t.doc, key);
        verified++;
      }
      if (t.kind === 'DomainAttestation') {
        // The latest attestation replaces the DID's method set (a rotated-out key stops working).
        methods.set(t.subject.id, new Map(t.subject.verificationMethods.map((m) => [m.id, decodePublicMultikey(m.publicKeyMultibase)])));
      }
    }
    expect(verified).toBe(Math.ceil(size / verifyEvery));
  });
});

describe('a genesis entry with one character of its name changed', () => {
  it('still validates but fails its proof with PROOF_INVALID', () => {
    const entries = mirrorEntries('genesis');
    const pledge = new TextDecoder().decode(entries[2]).replace('"Alpha Corp"', '"Alpha Corq"');
    const { statement } = parseStatementBytes(new TextEncoder().encode(pledge));
    const attestation = typedStatement(parseStatementBytes(entries[1] as Uint8Array).statement);
    if (attestation.kind !== 'DomainAttestation') throw new Error('entry 1 of genesis is a DomainAttestation');
    const key = decodePublicMultikey(attestation.subject.verificationMethods[0]?.publicKeyMultibase);
    expect(codeOf(() => verifyProof(statement, key))).toBe('PROOF_INVALID');
    expect(codeOf(() => verifyProof(parseStatementBytes(entries[2] as Uint8Array).statement, key))).toBe('NO ERROR');
  });
});
