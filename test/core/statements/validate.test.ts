import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodePublicMultikey } from '../../../src/core/crypto/multikey.ts';
import { isAccordError } from '../../../src/core/errors.ts';
import { canonicalBytes, canonicalize } from '../../../src/core/json/canonical.ts';
import { encodeProofValue } from '../../../src/core/statements/proof.ts';
import { statementDigest } from '../../../src/core/statements/digest.ts';
import { MAX_ENTRY_BYTES, VC_CONTEXT, typedStatement, type AccordTextSubject } from '../../../src/core/statements/types.ts';
import {
  STATEMENT_ERROR_CODES,
  checkPrinciplesCover,
  isRegistryType,
  parseStatementBytes,
  validateStatement,
  validateUnsecuredStatement,
} from '../../../src/core/statements/validate.ts';
import {
  ALPHA,
  ALPHA_DID,
  DELETE,
  OTHER,
  REGISTRY_DID,
  codeOf,
  mutate,
  signedAccordText,
  signedAttestation,
  signedNotice,
  signedPledge,
  signedWithdrawal,
} from './fixtures.ts';

const pledge = signedPledge();
const withdrawal = signedWithdrawal();
const accordText = signedAccordText();
const attestation = signedAttestation();
const notice = signedNotice();
const accordSubject = accordText.credentialSubject as AccordTextSubject;

type Case = [what: string, doc: unknown];
const seen = new Set<string>();

/** One describe per code: every example must fail with exactly that code. */
function rejects(code: string, cases: Case[]): void {
  seen.add(code);
  describe(`when ${code.slice('STATEMENT_'.length).toLowerCase().replaceAll('_', ' ')}`, () => {
    it.each(cases)(`fails with ${code}: %s`, (_what, doc) => {
      expect(codeOf(() => validateStatement(doc))).toBe(code);
    });
  });
}

const at = (doc: unknown, path: (string | number)[], value: unknown): unknown => mutate(doc, path, value);
const subj = (doc: unknown, member: string, value: unknown): unknown => mutate(doc, ['credentialSubject', member], value);

describe('validateStatement', () => {
  describe('with a valid statement of each type', () => {
    it.each([
      ['AccordPledge', pledge],
      ['AccordWithdrawal', withdrawal],
      ['AccordText', accordText],
      ['DomainAttestation', attestation],
      ['RegistryNotice', notice],
    ])('accepts a %s and types it', (type, doc) => {
      const s = validateStatement(JSON.parse(JSON.stringify(doc)));
      expect(s.type[1]).toBe(type);
      expect(typedStatement(s).kind).toBe(type);
      expect(typedStatement(s).subject).toStrictEqual(doc.credentialSubject);
    });

    it('accepts the optional members absent', () => {
      const bare = mutate(mutate(pledge, ['credentialSubject', 'country'], DELETE), ['credentialSubject', 'links'], DELETE);
      expect(codeOf(() => validateStatement(bare))).toBe('NO ERROR');
      expect(codeOf(() => validateStatement(subj(withdrawal, 'reason', DELETE)))).toBe('NO ERROR');
    });

    it('accepts names and reasons at their limits counted in code points, not UTF-16 units', () => {
      expect(codeOf(() => validateStatement(subj(pledge, 'name', '\u{1F6E1}'.repeat(200))))).toBe('NO ERROR');
      expect(codeOf(() => validateStatement(subj(withdrawal, 'reason', '\u{1F6E1}'.repeat(1000))))).toBe('NO ERROR');
      expect(codeOf(() => validateStatement(subj(pledge, 'name', 'x'.repeat(200))))).toBe('NO ERROR');
    });

    it('accepts a leap day and a link of exactly 2,048 code points', () => {
      expect(codeOf(() => validateStatement(at(pledge, ['validFrom'], '2028-02-29T23:59:59Z')))).toBe('NO ERROR');
      const long = `https://alpha.example/${'a'.repeat(2048 - 'https://alpha.example/'.length)}`;
      expect(codeOf(() => validateStatement(subj(pledge, 'links', { website: long })))).toBe('NO ERROR');
    });

    it('accepts any principle numbers in ascending order (whether they cover the accord is checked later)', () => {
      expect(codeOf(() => validateStatement(subj(pledge, 'principles', [1, 3, 7])))).toBe('NO ERROR');
    });
  });

  rejects('STATEMENT_NOT_OBJECT', [
    ['null', null],
    ['an array', [pledge]],
    ['a string', JSON.stringify(pledge)],
    ['a number', 42],
    ['credentialSubject an array', at(pledge, ['credentialSubject'], [pledge.credentialSubject])],
    ['credentialSubject a string', at(pledge, ['credentialSubject'], ALPHA_DID)],
  ]);

  rejects('STATEMENT_UNKNOWN_MEMBER', [
    ['an id at the top level (as in the W3C vector)', at(pledge, ['id'], 'urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33')],
    ['validUntil', at(pledge, ['validUntil'], '2027-01-01T00:00:00Z')],
    ['a subject member of another type', subj(pledge, 'reason', 'x')],
    ['a misspelt subject member', subj(attestation, 'observed', '2026-11-22T10:00:00Z')],
    ['__proto__ as a member name', JSON.parse(JSON.stringify(pledge).replace('"@context"', '"__proto__":{},"@context"'))],
  ]);

  rejects('STATEMENT_MISSING_MEMBER', [
    ['validFrom', at(pledge, ['validFrom'], DELETE)],
    ['proof', at(pledge, ['proof'], DELETE)],
    ['credentialSubject', at(pledge, ['credentialSubject'], DELETE)],
    ['credentialSubject.previous', subj(pledge, 'previous', DELETE)],
    ['credentialSubject.principles', subj(pledge, 'principles', DELETE)],
    ['credentialSubject.reason of a notice', subj(notice, 'reason', DELETE)],
    ['credentialSubject.preamble of an accord', subj(accordText, 'preamble', DELETE)],
  ]);

  rejects('STATEMENT_BAD_CONTEXT', [
    ['the VC 1.1 context', at(pledge, ['@context'], ['https://www.w3.org/2018/credentials/v1'])],
    ['an extra context', at(pledge, ['@context'], [VC_CONTEXT, 'https://www.w3.org/ns/credentials/examples/v2'])],
    ['a string', at(pledge, ['@context'], VC_CONTEXT)],
    ['empty', at(pledge, ['@context'], [])],
  ]);

  rejects('STATEMENT_UNKNOWN_TYPE', [
    ['an unknown second type', at(pledge, ['type', 1], 'AccordFoo')],
    ['one element', at(pledge, ['type'], ['AccordPledge'])],
    ['three elements', at(pledge, ['type'], ['VerifiableCredential', 'AccordPledge', 'Extra'])],
    ['a string', at(pledge, ['type'], 'AccordPledge')],
    ['swapped', at(pledge, ['type'], ['AccordPledge', 'VerifiableCredential'])],
    ['an inherited property name', at(pledge, ['type', 1], 'toString')],
  ]);

  rejects('STATEMENT_BAD_ISSUER', [
    ['an object', at(pledge, ['issuer'], { id: ALPHA_DID })],
    ['a number', at(pledge, ['issuer'], 7)],
    ['a registry statement issued by a did:web', at(notice, ['issuer'], ALPHA_DID)],
    ['a registry statement issued by a did:key with a fragment', at(notice, ['issuer'], `${REGISTRY_DID}#${REGISTRY_DID.slice(8)}`)],
    ['a registry statement issued by a non-Ed25519 did:key', at(notice, ['issuer'], 'did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme')],
  ]);

  rejects('STATEMENT_BAD_TIMESTAMP', [
    ['milliseconds', at(pledge, ['validFrom'], '2026-11-22T10:00:00.000Z')],
    ['an offset', at(pledge, ['validFrom'], '2026-11-22T10:00:00+00:00')],
    ['lowercase z', at(pledge, ['validFrom'], '2026-11-22T10:00:00z')],
    ['a space', at(pledge, ['validFrom'], '2026-11-22 10:00:00Z')],
    ['February 30', at(pledge, ['validFrom'], '2026-02-30T10:00:00Z')],
    ['February 29 of a common year', at(pledge, ['validFrom'], '2100-02-29T10:00:00Z')],
    ['hour 24', at(pledge, ['validFrom'], '2026-11-22T24:00:00Z')],
    ['a leap second', at(pledge, ['validFrom'], '2016-12-31T23:59:60Z')],
    ['month 13', at(pledge, ['validFrom'], '2026-13-01T10:00:00Z')],
    ['a number', at(pledge, ['validFrom'], 1795341600)],
    ['non-ASCII digits', at(pledge, ['validFrom'], '２026-11-22T10:00:00Z')],
    ['proof.created', at(pledge, ['proof', 'created'], '2026-11-22')],
    ['observedAt', subj(attestation, 'observedAt', 'yesterday')],
  ]);

  rejects('STATEMENT_BAD_DID', [
    ['a port', at(at(pledge, ['issuer'], 'did:web:alpha.example%3A8443'), ['credentialSubject', 'id'], 'did:web:alpha.example%3A8443')],
    ['a path', at(at(pledge, ['issuer'], 'did:web:alpha.example:users:bob'), ['credentialSubject', 'id'], 'did:web:alpha.example:users:bob')],
    ['uppercase', at(pledge, ['issuer'], 'did:web:Alpha.example')],
    ['an IP address', at(pledge, ['issuer'], 'did:web:192.168.1.10')],
    ['a single label', at(pledge, ['issuer'], 'did:web:localhost')],
    ['an empty domain', at(pledge, ['issuer'], 'did:web:')],
    ['a label starting with a hyphen', at(pledge, ['issuer'], 'did:web:-alpha.example')],
    ['an underscore', at(pledge, ['issuer'], 'did:web:al_pha.example')],
    ['a trailing dot', at(pledge, ['issuer'], 'did:web:alpha.example.')],
    ['a Unicode domain', at(pledge, ['issuer'], 'did:web:bücher.example')],
    ['a did:key signatory', at(pledge, ['issuer'], REGISTRY_DID)],
    ['a 64-character label', at(pledge, ['issuer'], `did:web:${'a'.repeat(64)}.example`)],
    ['the subject of a notice', subj(notice, 'id', 'https://alpha.example')],
    ['the subject of an attestation', subj(attestation, 'id', 'did:web:alpha.example:x')],
  ]);

  rejects('STATEMENT_ISSUER_NOT_SUBJECT', [
    ['a pledge for another domain', subj(pledge, 'id', 'did:web:beta.example')],
    ['a withdrawal issued by another domain', mutate(at(withdrawal, ['issuer'], 'did:web:beta.example'), ['proof', 'verificationMethod'], 'did:web:beta.example#key-1')],
  ]);

  rejects('STATEMENT_METHOD_NOT_ISSUER', [
    ['a method of another DID', at(pledge, ['proof', 'verificationMethod'], 'did:web:beta.example#key-1')],
    ['a method of a subdomain', at(pledge, ['proof', 'verificationMethod'], 'did:web:alpha.example.evil.example#key-1')],
    ['no fragment', at(pledge, ['proof', 'verificationMethod'], ALPHA_DID)],
    ['an empty fragment', at(pledge, ['proof', 'verificationMethod'], `${ALPHA_DID}#`)],
    ['a space in the fragment', at(pledge, ['proof', 'verificationMethod'], `${ALPHA_DID}#key 1`)],
    ['a number', at(pledge, ['proof', 'verificationMethod'], 1)],
    ['a registry method of another key', at(notice, ['proof', 'verificationMethod'], `${REGISTRY_DID}#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2`)],
    ['a registry method without fragment', at(notice, ['proof', 'verificationMethod'], REGISTRY_DID)],
    ['a registry method named like a did:web one', at(notice, ['proof', 'verificationMethod'], `${REGISTRY_DID}#key-1`)],
  ]);

  rejects('STATEMENT_BAD_PRINCIPLES', [
    ['descending', subj(pledge, 'principles', [2, 1])],
    ['a number twice', subj(pledge, 'principles', [1, 1, 2])],
    ['zero', subj(pledge, 'principles', [0, 1])],
    ['negative', subj(pledge, 'principles', [-1, 1])],
    ['a fraction', subj(pledge, 'principles', [1, 1.5])],
    ['a string', subj(pledge, 'principles', ['1'])],
    ['empty', subj(pledge, 'principles', [])],
    ['not an array', subj(pledge, 'principles', 'all')],
    ['beyond safe integers', subj(pledge, 'principles', [1, 2 ** 53])],
  ]);

  rejects('STATEMENT_BAD_NAME', [
    ['empty', subj(pledge, 'name', '')],
    ['201 code points', subj(pledge, 'name', 'x'.repeat(201))],
    ['a megabyte', subj(pledge, 'name', 'x'.repeat(1 << 20))],
    ['a control character', subj(pledge, 'name', 'Alpha\u0007Corp')],
    ['a newline', subj(pledge, 'name', 'Alpha\nCorp')],
    ['DEL (Cc)', subj(pledge, 'name', 'Alpha\u007f')],
    ['a C1 control', subj(pledge, 'name', 'Alpha\u0085')],
    ['a right-to-left override', subj(pledge, 'name', 'Alpha\u202ECorp')],
    ['an Arabic letter mark', subj(pledge, 'name', 'Alpha\u061C')],
    ['a left-to-right mark', subj(pledge, 'name', 'Alpha\u200E')],
    ['a first strong isolate', subj(pledge, 'name', 'Alpha\u2068')],
    ['decomposed (NFD)', subj(pledge, 'name', 'Cafe\u0301 Corp')],
    ['a number', subj(pledge, 'name', 42)],
    ['null', subj(pledge, 'name', null)],
  ]);

  rejects('STATEMENT_BAD_COUNTRY', [
    ['lowercase', subj(pledge, 'country', 'ch')],
    ['alpha-3', subj(pledge, 'country', 'CHE')],
    ['a digit', subj(pledge, 'country', 'C1')],
    ['a number', subj(pledge, 'country', 41)],
    ['null', subj(pledge, 'country', null)],
  ]);

  rejects('STATEMENT_BAD_LINK', [
    ['empty links', subj(pledge, 'links', {})],
    ['an unknown key', subj(pledge, 'links', { twitter: 'https://twitter.example/alpha' })],
    ['http', subj(pledge, 'links', { website: 'http://alpha.example/' })],
    ['javascript:', subj(pledge, 'links', { website: 'javascript:alert(1)' })],
    ['not a URL', subj(pledge, 'links', { website: 'alpha.example' })],
    ['an empty host', subj(pledge, 'links', { website: 'https://' })],
    ['2,049 code points', subj(pledge, 'links', { website: `https://alpha.example/${'a'.repeat(2049 - 22)}` })],
    ['a number', subj(pledge, 'links', { website: 42 })],
    ['links an array', subj(pledge, 'links', ['https://alpha.example/'])],
    ['links a string', subj(pledge, 'links', 'https://alpha.example/')],
  ]);

  rejects('STATEMENT_NONCHARACTER', [
    ['U+FDD0 in a name', subj(pledge, 'name', 'Alpha\uFDD0')],
    ['U+FFFE in a name', subj(pledge, 'name', 'Alpha\uFFFE')],
    ['U+10FFFF in a reason', subj(withdrawal, 'reason', 'bye \u{10FFFF}')],
    ['U+1FFFF in an accord principle', mutate(accordText, ['credentialSubject', 'principles', 0, 'text'], 'x\u{1FFFF}')],
    ['U+FFFF in a link (WHATWG URL would percent-encode it)', subj(pledge, 'links', { website: 'https://alpha.example/\uFFFF' })],
  ]);

  rejects('STATEMENT_LONE_SURROGATE', [
    ['a high surrogate in a name', subj(pledge, 'name', 'Alpha\uD800')],
    ['a low surrogate in a reason', subj(withdrawal, 'reason', '\uDC00 bye')],
  ]);

  rejects('STATEMENT_BAD_REASON', [
    ['a number', subj(withdrawal, 'reason', 42)],
    ['null', subj(withdrawal, 'reason', null)],
  ]);

  rejects('STATEMENT_REASON_TOO_LONG', [
    ['1,001 code points in a withdrawal', subj(withdrawal, 'reason', 'x'.repeat(1001))],
    ['1,001 astral code points in a withdrawal', subj(withdrawal, 'reason', '\u{1F6E1}'.repeat(1001))],
    ['1,001 code points in a notice', subj(notice, 'reason', 'x'.repeat(1001))],
  ]);

  rejects('STATEMENT_BAD_DIGEST', [
    ['uppercase hex', subj(pledge, 'accord', `sha256:${'AB'.repeat(32)}`)],
    ['another algorithm', subj(pledge, 'accord', `sha512:${'ab'.repeat(32)}`)],
    ['63 hex digits', subj(pledge, 'accord', `sha256:${'a'.repeat(63)}`)],
    ['bare hex', subj(pledge, 'accord', 'ab'.repeat(32))],
    ['previous empty', subj(pledge, 'previous', '')],
    ['previous zero', subj(pledge, 'previous', 0)],
    ['previous false', subj(pledge, 'previous', false)],
    ['a withdrawal accord', subj(withdrawal, 'accord', null)],
    ['documentDigest', subj(attestation, 'documentDigest', 'sha256:xyz')],
  ]);

  rejects('STATEMENT_BAD_PROOF_SHAPE', [
    ['a string proof', at(pledge, ['proof'], pledge.proof.proofValue)],
    ['a proof set', at(pledge, ['proof'], [pledge.proof])],
    ['null', at(pledge, ['proof'], null)],
    ['an extra member', at(pledge, ['proof', 'nonce'], 'abc')],
    ['an id', at(pledge, ['proof', 'id'], 'urn:uuid:1')],
    ['no proofPurpose', at(pledge, ['proof', 'proofPurpose'], DELETE)],
    ['no @context', at(pledge, ['proof', '@context'], DELETE)],
    ['no proofValue', at(pledge, ['proof', 'proofValue'], DELETE)],
  ]);

  rejects('STATEMENT_BAD_PROOF_TYPE', [['Ed25519Signature2020', at(pledge, ['proof', 'type'], 'Ed25519Signature2020')]]);

  rejects('STATEMENT_WRONG_CRYPTOSUITE', [
    ['eddsa-rdfc-2022', at(pledge, ['proof', 'cryptosuite'], 'eddsa-rdfc-2022')],
    ['ecdsa-jcs-2019', at(pledge, ['proof', 'cryptosuite'], 'ecdsa-jcs-2019')],
  ]);

  rejects('STATEMENT_BAD_PROOF_PURPOSE', [['authentication', at(pledge, ['proof', 'proofPurpose'], 'authentication')]]);

  rejects('STATEMENT_PROOF_CONTEXT_MISMATCH', [
    ['an extra context', at(pledge, ['proof', '@context'], [VC_CONTEXT, 'https://w3id.org/security/data-integrity/v2'])],
    ['a string', at(pledge, ['proof', '@context'], VC_CONTEXT)],
  ]);

  rejects('STATEMENT_BAD_PROOF_VALUE', [
    ['base64', at(pledge, ['proof', 'proofValue'], `m${'A'.repeat(86)}`)],
    ['32 bytes', at(pledge, ['proof', 'proofValue'], encodeProofValue(new Uint8Array(32).fill(7)))],
    ['invalid base58', at(pledge, ['proof', 'proofValue'], 'z0000')],
    ['huge', at(pledge, ['proof', 'proofValue'], `z${'3'.repeat(1 << 20)}`)],
  ]);

  const method = { id: `${ALPHA_DID}#key-1`, publicKeyMultibase: encodePublicMultikey(ALPHA.publicKey) };
  rejects('STATEMENT_BAD_ATTESTATION', [
    ['no methods', subj(attestation, 'verificationMethods', [])],
    ['methods an object', subj(attestation, 'verificationMethods', method)],
    ['a method with a type member', subj(attestation, 'verificationMethods', [{ ...method, type: 'Multikey' }])],
    ['a method without a key', subj(attestation, 'verificationMethods', [{ id: method.id }])],
    ['a method as a string', subj(attestation, 'verificationMethods', [method.id])],
    ['a relative method id', subj(attestation, 'verificationMethods', [{ ...method, id: '#key-1' }])],
    ['a method of another DID', subj(attestation, 'verificationMethods', [{ ...method, id: 'did:web:beta.example#key-1' }])],
    ['a method listed twice', subj(attestation, 'verificationMethods', [method, method])],
    ['a non-Ed25519 key', subj(attestation, 'verificationMethods', [{ ...method, publicKeyMultibase: 'zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme' }])],
    ['a key that is a number', subj(attestation, 'verificationMethods', [{ ...method, publicKeyMultibase: 5 }])],
    ['an ftp url', subj(attestation, 'url', 'ftp://alpha.example/.well-known/did.json')],
    ['a url that does not parse', subj(attestation, 'url', 'alpha.example/did.json')],
    ['a url that is a number', subj(attestation, 'url', 1)],
  ]);

  rejects('STATEMENT_BAD_NOTICE', [
    ['an unknown action', subj(notice, 'action', 'ban')],
    ['an action in capitals', subj(notice, 'action', 'DELIST')],
    ['an empty reason', subj(notice, 'reason', '')],
    ['a reason that is a number', subj(notice, 'reason', 3)],
  ]);

  const principle = (i: number, member: string, value: unknown): unknown => mutate(accordText, ['credentialSubject', 'principles', i, member], value);
  rejects('STATEMENT_BAD_ACCORD_TEXT', [
    ['an id that is not our URN', subj(accordText, 'id', 'urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33')],
    ['an uppercase slug', subj(accordText, 'id', 'urn:accord:Tech-Sector:1')],
    ['a version not matching the URN', subj(accordText, 'id', 'urn:accord:tech-sector:2')],
    ['a leading zero in the URN version', subj(accordText, 'id', 'urn:accord:tech-sector:01')],
    ['version 0', mutate(subj(accordText, 'id', 'urn:accord:tech-sector:0'), ['credentialSubject', 'version'], 0)],
    ['a string version', subj(accordText, 'version', '1')],
    ['a fractional version', subj(accordText, 'version', 1.5)],
    ['an empty title', subj(accordText, 'title', '')],
    ['a preamble that is a number', subj(accordText, 'preamble', 5)],
    ['no principles', subj(accordText, 'principles', [])],
    ['principles out of order', subj(accordText, 'principles', [...accordSubject.principles].reverse())],
    ['a principle numbered 0', principle(0, 'number', 0)],
    ['a principle with an empty text', principle(2, 'text', '')],
    ['a principle with an extra member', principle(1, 'summary', 'x')],
    ['a principle without a title', principle(1, 'title', DELETE)],
    ['a principle that is a string', subj(accordText, 'principles', ['No offense'])],
  ]);

  it('fails with STATEMENT_UNKNOWN_MEMBER naming the member and where it is', () => {
    try {
      validateStatement(subj(pledge, 'website', 'https://alpha.example/'));
      expect.unreachable();
    } catch (e) {
      expect(isAccordError(e, 'STATEMENT_UNKNOWN_MEMBER')).toBe(true);
      expect((e as Error).message).toContain('"website"');
      expect((e as Error).message).toContain('credentialSubject');
    }
  });

  it('fails with STATEMENT_MISSING_MEMBER naming the member and where it is', () => {
    try {
      validateStatement(subj(pledge, 'accord', DELETE));
      expect.unreachable();
    } catch (e) {
      expect(isAccordError(e, 'STATEMENT_MISSING_MEMBER')).toBe(true);
      expect((e as Error).message).toContain('"accord"');
      expect((e as Error).message).toContain('credentialSubject');
    }
  });

  describe('with any value at any member (fast-check)', () => {
    const docs = [pledge, withdrawal, accordText, attestation, notice];
    const paths = docs.flatMap((doc) => allPaths(doc).map((path) => [doc, path] as const));

    it('returns or throws a STATEMENT_* AccordError, never a TypeError', () => {
      fc.assert(
        fc.property(fc.constantFrom(...paths), fc.jsonValue(), ([doc, path], value) => {
          const code = codeOf(() => validateStatement(mutate(doc, path, value)));
          return code === 'NO ERROR' || code.startsWith('STATEMENT_');
        }),
        { numRuns: 1000 },
      );
    });

    it('throws a STATEMENT_* AccordError for any JSON value that is not a statement', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => codeOf(() => validateStatement(value)).startsWith('STATEMENT_')),
        { numRuns: 300 },
      );
    });
  });

  it('exercises every STATEMENT_* code in these tests', () => {
    seen.add('STATEMENT_PRINCIPLES_INCOMPLETE').add('STATEMENT_TOO_LARGE'); // tested below
    expect([...seen].sort()).toStrictEqual([...STATEMENT_ERROR_CODES].sort());
  });
});

function allPaths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = prefix.length > 0 ? [prefix] : [];
  if (Array.isArray(v)) return [...here, ...v.flatMap((x, i) => allPaths(x, [...prefix, i]))];
  if (typeof v === 'object' && v !== null) return [...here, ...Object.entries(v).flatMap(([k, x]) => allPaths(x, [...prefix, k]))];
  return here;
}

describe('validateUnsecuredStatement', () => {
  it('accepts a statement without its proof', () => {
    expect(codeOf(() => validateUnsecuredStatement(mutate(pledge, ['proof'], DELETE)))).toBe('NO ERROR');
  });

  it('fails with STATEMENT_UNKNOWN_MEMBER when a proof is present', () => {
    expect(codeOf(() => validateUnsecuredStatement(pledge))).toBe('STATEMENT_UNKNOWN_MEMBER');
  });
});

describe('checkPrinciplesCover', () => {
  it('accepts exactly the accord principles', () => {
    expect(codeOf(() => checkPrinciplesCover([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]))).toBe('NO ERROR');
  });

  it.each([
    ['one missing', [1, 2, 3, 4, 5], [1, 2, 3, 4, 5, 6]],
    ['one not in the accord', [1, 2, 3, 4, 5, 6, 7], [1, 2, 3, 4, 5, 6]],
    ['a number twice', [1, 2, 2, 3], [1, 2, 3]],
  ])('fails with STATEMENT_PRINCIPLES_INCOMPLETE when %s', (_what, principles, accord) => {
    expect(codeOf(() => checkPrinciplesCover(principles, accord))).toBe('STATEMENT_PRINCIPLES_INCOMPLETE');
  });
});

describe('isRegistryType', () => {
  it('names the three registry types and no others', () => {
    expect(['AccordText', 'DomainAttestation', 'RegistryNotice'].every(isRegistryType)).toBe(true);
    expect(['AccordPledge', 'AccordWithdrawal', 'VerifiableCredential', 'toString', 1].some(isRegistryType)).toBe(false);
  });
});

describe('parseStatementBytes', () => {
  const enc = new TextEncoder();

  it('returns the statement, its canonical bytes and their digest, whatever the input layout', () => {
    const pretty = enc.encode(JSON.stringify(pledge, null, 2));
    const r = parseStatementBytes(pretty);
    expect(new TextDecoder().decode(r.canonical)).toBe(canonicalize(pledge));
    expect(r.digest).toBe(statementDigest(canonicalBytes(pledge)));
    expect(r.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(r.statement).toStrictEqual(pledge);
  });

  it('passes strict-JSON refusals through with their JSON_* codes', () => {
    expect(codeOf(() => parseStatementBytes(enc.encode('{"a":1,')))).toMatch(/^JSON_/);
    expect(codeOf(() => parseStatementBytes(enc.encode('{"a":1,"a":2}')))).toBe('JSON_DUPLICATE_KEY');
    expect(codeOf(() => parseStatementBytes(enc.encode(JSON.stringify(pledge)), { maxBytes: 100 }))).toBe('JSON_TOO_LARGE');
  });

  it('refuses a well-formed statement that is not a valid one with its STATEMENT_* code', () => {
    expect(codeOf(() => parseStatementBytes(enc.encode(JSON.stringify(subj(pledge, 'country', 'ch')))))).toBe('STATEMENT_BAD_COUNTRY');
  });

  describe('when the canonical form is over 16 KiB', () => {
    it('fails with STATEMENT_TOO_LARGE', () => {
      const methods = Array.from({ length: 200 }, (_, i) => ({ id: `${ALPHA_DID}#key-${i}`, publicKeyMultibase: encodePublicMultikey(OTHER.publicKey) }));
      const big = subj(attestation, 'verificationMethods', methods);
      expect(codeOf(() => validateStatement(big))).toBe('NO ERROR');
      expect(canonicalBytes(big).length).toBeGreaterThan(MAX_ENTRY_BYTES);
      expect(codeOf(() => parseStatementBytes(enc.encode(JSON.stringify(big))))).toBe('STATEMENT_TOO_LARGE');
    });
  });

  it('accepts a statement of exactly 16 KiB canonical form', () => {
    // Pad the accord preamble so the canonical entry is exactly MAX_ENTRY_BYTES long.
    const base = canonicalBytes(accordText).length;
    const padded = mutate(accordText, ['credentialSubject', 'preamble'], accordSubject.preamble + ' '.repeat(MAX_ENTRY_BYTES - base));
    expect(canonicalBytes(padded).length).toBe(MAX_ENTRY_BYTES);
    expect(codeOf(() => parseStatementBytes(canonicalBytes(padded)))).toBe('NO ERROR');
  });
});
