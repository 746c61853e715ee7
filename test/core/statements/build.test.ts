import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { utf8 } from '../../../src/core/bytes.ts';
import { canonicalBytes } from '../../../src/core/json/canonical.ts';
import { accordUrn, parseAccordFile, principleNumbers } from '../../../src/core/statements/accord-file.ts';
import {
  buildAccordText,
  buildAttestation,
  buildNotice,
  buildPledge,
  buildWithdrawal,
  nowTimestamp,
  secureStatement,
} from '../../../src/core/statements/build.ts';
import { didWebFromDomain, domainOfDidWeb, isDidKey, isDidWeb } from '../../../src/core/statements/did.ts';
import { timestampMillis } from '../../../src/core/statements/formats.ts';
import { checkProof } from '../../../src/core/statements/proof.ts';
import { typedStatement, type Statement } from '../../../src/core/statements/types.ts';
import { checkPrinciplesCover, parseStatementBytes, validateStatement } from '../../../src/core/statements/validate.ts';
import {
  ACCORD_DIGEST,
  ALPHA,
  ALPHA_DID,
  ALPHA_METHOD,
  OTHER,
  REGISTRY,
  REGISTRY_DID,
  REGISTRY_METHOD,
  T0,
  accordFileText,
  DELETE,
  codeOf,
  mutate,
  signedAccordText,
  signedAttestation,
  signedNotice,
  signedPledge,
  signedWithdrawal,
} from './fixtures.ts';

const pledgeInput = {
  did: ALPHA_DID,
  name: 'Alpha Corp',
  accord: ACCORD_DIGEST,
  principles: [1, 2, 3, 4, 5, 6],
  previous: null,
  validFrom: T0,
};

/** A signed statement round-trips through the admission parser unchanged and verifies. */
function expectAdmissible(s: Statement, publicKey: Uint8Array): void {
  const parsed = parseStatementBytes(utf8(JSON.stringify(s)));
  expect(parsed.statement).toStrictEqual(s);
  expect(parsed.canonical).toStrictEqual(canonicalBytes(s));
  expect(checkProof(s, publicKey)).toBe(true);
}

describe('the tech-sector accord file (data/accords/tech-sector-1.json)', () => {
  const accord = parseAccordFile(accordFileText());

  it('parses as version 1 of urn:accord:tech-sector with six principles numbered 1 to 6', () => {
    expect(accord.id).toBe(accordUrn('tech-sector', 1));
    expect(accord.version).toBe(1);
    expect(accord.title).toBe('Tech Sector Accord');
    expect(principleNumbers(accord)).toStrictEqual([1, 2, 3, 4, 5, 6]);
  });

  it('carries the six principles of DESIGN section 1, each with a paragraph', () => {
    const titles = accord.principles.map((p) => p.title.toLowerCase());
    const expected = [
      'offensive cyber operations',
      'collaborative and proactive defense',
      'remediation after attacks',
      'security patches available to all users',
      'coordinated vulnerability disclosure',
      'intergovernmental defensive efforts',
    ];
    expected.forEach((words, i) => expect(titles[i]).toContain(words));
    for (const p of accord.principles) expect(p.text.length).toBeGreaterThan(150);
    expect(accord.preamble.length).toBeGreaterThan(300);
  });

  it('parses the same from bytes, from text and from a parsed value', () => {
    expect(parseAccordFile(utf8(accordFileText()))).toStrictEqual(accord);
    expect(parseAccordFile(JSON.parse(accordFileText()))).toStrictEqual(accord);
  });

  it('builds an AccordText the registry can sign, whose canonical entry verifies and fits the 16 KiB cap', () => {
    const doc = buildAccordText(accordFileText(), { issuerDid: REGISTRY_DID, validFrom: T0 });
    expect(Object.keys(doc.credentialSubject)).toStrictEqual(['id', 'title', 'version', 'principles', 'preamble']);
    const s = secureStatement(doc, REGISTRY, REGISTRY_METHOD, T0);
    expectAdmissible(s, REGISTRY.publicKey);
    expect(s.credentialSubject).toStrictEqual(accord);
  });

  describe('when the file is broken', () => {
    it.each([
      ['a version not matching the id', mutate(accord, ['version'], 2), 'STATEMENT_BAD_ACCORD_TEXT'],
      ['a principle missing', mutate(accord, ['principles', 2], DELETE), 'STATEMENT_BAD_ACCORD_TEXT'],
      ['an unknown member', mutate(accord, ['author'], 'us'), 'STATEMENT_UNKNOWN_MEMBER'],
      ['an array', [accord], 'STATEMENT_BAD_ACCORD_TEXT'],
      ['a noncharacter', mutate(accord, ['preamble'], '\uFFFF'), 'STATEMENT_NONCHARACTER'],
      ['not JSON', '{"id":', 'JSON_SYNTAX'],
    ])('refuses %s', (_what, value, code) => {
      expect(codeOf(() => parseAccordFile(value))).toBe(code);
    });

    it('refuses any other JSON value (a string is read as file text) with a coded error, never a TypeError (fast-check)', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => /^(STATEMENT|JSON)_/.test(codeOf(() => parseAccordFile(value)))),
        { numRuns: 300 },
      );
    });
  });
});

describe('buildPledge', () => {
  it('writes the members in the order of DESIGN section 2 and signs a valid, verifiable pledge', () => {
    const doc = buildPledge({ ...pledgeInput, country: 'CH', links: { securityTxt: 'https://alpha.example/.well-known/security.txt', website: 'https://alpha.example/' } });
    expect(Object.keys(doc)).toStrictEqual(['@context', 'type', 'issuer', 'validFrom', 'credentialSubject']);
    expect(Object.keys(doc.credentialSubject)).toStrictEqual(['id', 'name', 'accord', 'principles', 'previous', 'country', 'links']);
    expect(Object.keys(doc.credentialSubject.links ?? {})).toStrictEqual(['website', 'securityTxt']);
    const s = secureStatement(doc, ALPHA, ALPHA_METHOD, T0);
    expect(Object.keys(s)).toStrictEqual(['@context', 'type', 'issuer', 'validFrom', 'credentialSubject', 'proof']);
    expectAdmissible(s, ALPHA.publicKey);
  });

  it('normalizes the name to NFC', () => {
    expect(buildPledge({ ...pledgeInput, name: 'Cafe\u0301 Corp' }).credentialSubject.name).toBe('Caf\u00e9 Corp');
  });

  it('leaves out country and links when not given, and empty links', () => {
    expect(Object.keys(buildPledge(pledgeInput).credentialSubject)).toStrictEqual(['id', 'name', 'accord', 'principles', 'previous']);
    const s = buildPledge({ ...pledgeInput, links: { website: '', patchPolicy: 'https://alpha.example/patches' } });
    expect(s.credentialSubject.links).toStrictEqual({ patchPolicy: 'https://alpha.example/patches' });
    expect(buildPledge({ ...pledgeInput, links: { website: '' } }).credentialSubject).not.toHaveProperty('links');
  });

  it('refuses a bad field at build time with the code the registry would answer', () => {
    expect(codeOf(() => buildPledge({ ...pledgeInput, country: 'Switzerland' }))).toBe('STATEMENT_BAD_COUNTRY');
    expect(codeOf(() => buildPledge({ ...pledgeInput, name: '' }))).toBe('STATEMENT_BAD_NAME');
    expect(codeOf(() => buildPledge({ ...pledgeInput, links: { website: 'http://alpha.example/' } }))).toBe('STATEMENT_BAD_LINK');
    expect(codeOf(() => buildPledge({ ...pledgeInput, did: 'did:web:alpha.example%3A443' }))).toBe('STATEMENT_BAD_DID');
    expect(codeOf(() => buildPledge({ ...pledgeInput, validFrom: '2026-11-22' }))).toBe('STATEMENT_BAD_TIMESTAMP');
  });

  it('does not share the caller principles array', () => {
    const principles = [1, 2, 3];
    const doc = buildPledge({ ...pledgeInput, principles });
    principles.push(4);
    expect(doc.credentialSubject.principles).toStrictEqual([1, 2, 3]);
  });
});

describe('buildWithdrawal', () => {
  it('writes id, accord, previous, reason and signs a valid withdrawal', () => {
    const s = signedWithdrawal();
    expect(Object.keys(s.credentialSubject)).toStrictEqual(['id', 'accord', 'previous', 'reason']);
    expectAdmissible(s, ALPHA.publicKey);
  });

  it('leaves out an empty reason', () => {
    const doc = buildWithdrawal({ did: ALPHA_DID, accord: ACCORD_DIGEST, previous: ACCORD_DIGEST, reason: '', validFrom: T0 });
    expect(Object.keys(doc.credentialSubject)).toStrictEqual(['id', 'accord', 'previous']);
  });

  it('refuses a reason over 1,000 code points', () => {
    expect(codeOf(() => buildWithdrawal({ did: ALPHA_DID, accord: ACCORD_DIGEST, previous: null, reason: 'x'.repeat(1001), validFrom: T0 }))).toBe('STATEMENT_REASON_TOO_LONG');
  });
});

describe('buildAttestation and buildNotice', () => {
  it('build registry statements in DESIGN member order that verify under the registry key', () => {
    const a = signedAttestation();
    expect(Object.keys(a.credentialSubject)).toStrictEqual(['id', 'url', 'observedAt', 'documentDigest', 'verificationMethods']);
    expectAdmissible(a, REGISTRY.publicKey);
    const n = signedNotice();
    expect(Object.keys(n.credentialSubject)).toStrictEqual(['id', 'action', 'reason']);
    expectAdmissible(n, REGISTRY.publicKey);
  });

  it('accepts an operator-mapped http URL in an attestation', () => {
    const doc = buildAttestation({
      registryDid: REGISTRY_DID,
      did: ALPHA_DID,
      url: 'http://127.0.0.1:4100/.well-known/did.json',
      observedAt: T0,
      documentDigest: ACCORD_DIGEST,
      verificationMethods: [{ id: ALPHA_METHOD, publicKeyMultibase: 'z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2' }],
      validFrom: T0,
    });
    expect(doc.credentialSubject.url).toBe('http://127.0.0.1:4100/.well-known/did.json');
  });

  it('refuses a registry statement issued by a did:web', () => {
    expect(codeOf(() => buildNotice({ registryDid: ALPHA_DID, did: ALPHA_DID, action: 'relist', reason: 'fixed', validFrom: T0 }))).toBe('STATEMENT_BAD_ISSUER');
  });
});

describe('secureStatement', () => {
  it('accepts a key pair or a bare secret key and gives the same signature', () => {
    const doc = buildPledge(pledgeInput);
    expect(secureStatement(doc, ALPHA, ALPHA_METHOD, T0)).toStrictEqual(secureStatement(doc, ALPHA.secretKey, ALPHA_METHOD, T0));
  });

  it('refuses a verification method that is not the issuer one with STATEMENT_METHOD_NOT_ISSUER', () => {
    expect(codeOf(() => secureStatement(buildPledge(pledgeInput), ALPHA, 'did:web:beta.example#key-1', T0))).toBe('STATEMENT_METHOD_NOT_ISSUER');
    expect(codeOf(() => secureStatement(buildNotice({ registryDid: REGISTRY_DID, did: ALPHA_DID, action: 'delist', reason: 'r', validFrom: T0 }), REGISTRY, ALPHA_METHOD, T0))).toBe(
      'STATEMENT_METHOD_NOT_ISSUER',
    );
  });

  it('signs with the key given: another key does not verify', () => {
    const s = secureStatement(buildPledge(pledgeInput), OTHER, ALPHA_METHOD, T0);
    expect(checkProof(s, ALPHA.publicKey)).toBe(false);
  });

  it('produces the fixtures that the other statement tests rely on', () => {
    for (const s of [signedAccordText(), signedPledge(), signedWithdrawal(), signedAttestation(), signedNotice()]) {
      expect(validateStatement(s)).toBe(s);
    }
    const pledge = typedStatement(signedPledge());
    expect(pledge.kind).toBe('AccordPledge');
    if (pledge.kind !== 'AccordPledge') return;
    const accord = parseAccordFile(accordFileText());
    expect(codeOf(() => checkPrinciplesCover(pledge.subject.principles, principleNumbers(accord)))).toBe('NO ERROR');
  });
});

describe('nowTimestamp', () => {
  it('truncates to whole seconds in UTC', () => {
    expect(nowTimestamp(new Date('2026-11-22T10:00:00.999Z'))).toBe('2026-11-22T10:00:00Z');
    expect(nowTimestamp(new Date('2026-11-22T11:00:00+01:00'))).toBe('2026-11-22T10:00:00Z');
  });

  it('gives a valid statement timestamp for the current time', () => {
    const t = nowTimestamp();
    expect(timestampMillis(t)).not.toBeNull();
    expect(Math.abs((timestampMillis(t) as number) - Date.now())).toBeLessThan(60_000);
  });

  it('refuses an invalid date with BAD_DATE', () => {
    expect(codeOf(() => nowTimestamp(new Date('nonsense')))).toBe('BAD_DATE');
    expect(codeOf(() => nowTimestamp(new Date(Date.UTC(10000, 0, 1))))).toBe('BAD_DATE');
  });
});

describe('timestampMillis', () => {
  it('reads the instant, including years before 100', () => {
    expect(timestampMillis(T0)).toBe(Date.parse(T0));
    expect(timestampMillis('0099-12-31T23:59:59Z')).toBe(Date.parse('0099-12-31T23:59:59Z'));
    expect(timestampMillis('2000-02-29T00:00:00Z')).toBe(Date.parse('2000-02-29T00:00:00Z'));
    expect(timestampMillis('1900-02-29T00:00:00Z')).toBeNull();
  });
});

describe('did helpers', () => {
  it('map between a signatory domain and its did:web', () => {
    expect(didWebFromDomain('alpha.example')).toBe(ALPHA_DID);
    expect(domainOfDidWeb(ALPHA_DID)).toBe('alpha.example');
    expect(didWebFromDomain('alpha.example:8443')).toBeNull();
    expect(didWebFromDomain('ALPHA.example')).toBeNull();
    expect(domainOfDidWeb('did:web:alpha.example:path')).toBeNull();
    expect(isDidWeb('did:web:xn--bcher-kva.example')).toBe(true);
  });

  it('recognise a canonical Ed25519 did:key only', () => {
    expect(isDidKey(REGISTRY_DID)).toBe(true);
    expect(isDidKey(REGISTRY_METHOD)).toBe(false);
    expect(isDidKey('did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ')).toBe(false);
    expect(isDidKey(42)).toBe(false);
  });
});
