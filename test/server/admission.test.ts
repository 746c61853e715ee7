import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { digestOf, utf8 } from '../../src/core/bytes.ts';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { didKeyFromPublicKey, didKeyVerificationMethod, encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { createProof } from '../../src/core/statements/proof.ts';
import { buildAccordText, buildAttestation, buildNotice, buildPledge, nowTimestamp, secureStatement } from '../../src/core/statements/build.ts';
import { parseStatementBytes } from '../../src/core/statements/validate.ts';
import { appendRegistryStatement } from '../../src/cli/admin.ts';
import { readFileSync } from 'node:fs';
import { createDidWebFetcher, type DidWebFetch } from '../../src/server/did-web.ts';
import { inlineProofVerifier } from '../../src/server/proof-verifier.ts';
import { Company } from '../helpers/company.ts';
import { auditApp, canonical, expectRefusal, startHarness, verifyReceipt, type Harness, type ReceiptJson } from './harness.ts';

const DOMAINS = [
  'acme.test',
  'pretty.test',
  'again.test',
  'chain.test',
  'rotate.test',
  'leave.test',
  'window.test',
  'forged.test',
  'shape.test',
  'accord.test',
  'redirect.test',
  'html.test',
  'missing.test',
  'huge.test',
  'stall.test',
  'nokey.test',
  'delist.test',
  'version.test',
  'race.test',
  'canonical.test',
  'samekey.test',
];

const minutes = (n: number) => nowTimestamp(new Date(Date.now() + n * 60_000));

describe('POST /api/v1/statements', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ domains: DOMAINS, didWebTimeoutMs: 500 });
  });

  afterAll(async () => {
    await h.close();
  });

  async function entryBytes(index: number): Promise<Uint8Array> {
    const res = await request(h.app).get(`/api/v1/entries/${index}`).expect(200);
    return utf8(res.text);
  }

  /** Submits a statement that must be admitted now; returns the verified receipt. */
  async function admit(statement: unknown): Promise<ReceiptJson> {
    const res = await h.submit(statement);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const receipt = res.body as ReceiptJson;
    verifyReceipt(receipt, canonical(statement), h.logKey);
    expect(receipt.digest).toBe(digestOf(canonical(statement)));
    expect(res.headers.location).toBe(`/api/v1/entries/${receipt.index}`);
    return receipt;
  }

  describe('a first pledge', () => {
    it('is logged after a new DomainAttestation, with a receipt that verifies under the published log key', async () => {
      const acme = new Company('acme.test', h.host);
      const before = await h.snapshot();
      const pledge = acme.pledge({ accord: h.accord, previous: null, country: 'CH', links: { website: 'https://acme.test/' } });
      const receipt = await admit(pledge);
      // DESIGN 4: the attestation immediately before the statement, in the same batch.
      expect(receipt.index).toBe(before.size + 1);
      expect((await h.snapshot()).size).toBe(before.size + 2);
      const attestation = parseStatementBytes(await entryBytes(before.size)).statement;
      expect(attestation.type[1]).toBe('DomainAttestation');
      expect(attestation.credentialSubject).toMatchObject({
        id: acme.did,
        url: h.host.documentUrl('acme.test'),
        verificationMethods: [{ id: acme.method }],
      });
      // The logged bytes are the canonical form of what was sent.
      expect(await entryBytes(receipt.index)).toEqual(canonical(pledge));
      const s = await request(h.app).get('/api/v1/signatories/acme.test').expect(200);
      expect(s.body).toMatchObject({ did: acme.did, status: 'signatory', head: receipt.digest, accord: h.accord, name: 'acme.test Inc.', since: pledge.validFrom });
      expect(s.body.keys).toEqual([{ id: acme.method, publicKeyMultibase: expect.stringMatching(/^z6Mk/) }]);
    });
  });

  describe('a body that is not canonical', () => {
    it('is logged in its canonical form and the receipt names that digest', async () => {
      const c = new Company('pretty.test', h.host);
      const pledge = c.pledge({ accord: h.accord, previous: null });
      // Members in another order, pretty-printed: same statement, other bytes.
      const reordered = { proof: pledge.proof, credentialSubject: pledge.credentialSubject, validFrom: pledge.validFrom, issuer: pledge.issuer, type: pledge.type, '@context': pledge['@context'] };
      const res = await h.submit(JSON.stringify(reordered, null, 4));
      expect(res.status).toBe(201);
      expect(res.body.digest).toBe(digestOf(canonical(pledge)));
      verifyReceipt(res.body, canonical(pledge), h.logKey);
    });
  });

  describe('a body that is canonical already (what accord-sign sends)', () => {
    it('is logged byte for byte as sent', async () => {
      const c = new Company('canonical.test', h.host);
      const pledge = c.pledge({ accord: h.accord, previous: null, name: 'Zürich \u00e9t\u00e9 "quoted" \\ back \u2028' });
      const text = new TextDecoder().decode(canonical(pledge));
      const res = await h.submit(text);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      verifyReceipt(res.body, canonical(pledge), h.logKey);
      expect(await entryBytes(res.body.index)).toEqual(utf8(text));
    });

    it('with a noncharacter in it is refused as the strict parser refuses it (JSON_NONCHARACTER), not by the schema', async () => {
      const c = new Company('canonical.test', h.host);
      const pledge = c.pledge({ accord: h.accord, previous: null, name: 'Bad name' });
      // Still canonical (same member order, a literal character), but no longer I-JSON.
      const text = new TextDecoder().decode(canonical(pledge)).replace('"Bad name"', '"Bad \uFDD0 name"');
      expect(text).toContain('\uFDD0');
      await expectRefusal(h, text, 400, 'JSON_NONCHARACTER');
      await expectRefusal(h, '{"a":"\u{10FFFF}"}', 400, 'JSON_NONCHARACTER');
    });
  });

  describe('a statement already in the log, sent again', () => {
    it('gets 200 with the receipt of the existing entry and appends nothing', async () => {
      const c = new Company('again.test', h.host);
      const pledge = c.pledge({ accord: h.accord, previous: null });
      const first = await admit(pledge);
      const before = await h.snapshot();
      const again = await h.submit(pledge);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ index: first.index, digest: first.digest });
      verifyReceipt(again.body, canonical(pledge), h.logKey);
      // Even long after the time window: the digest check comes first (DESIGN 7).
      const pretty = await h.submit(JSON.stringify(pledge, null, 2));
      expect(pretty.status).toBe(200);
      expect(pretty.body.index).toBe(first.index);
      expect(await h.snapshot()).toEqual(before);
    });

    it('gets 200 for entry 0, the registry\'s own accord, too', async () => {
      const entry0 = await request(h.app).get('/api/v1/entries/0').expect(200);
      const res = await h.submit(entry0.text);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ index: 0, digest: h.accord });
    });
  });

  describe('an update of the profile', () => {
    it('is admitted with previous = head, without a new attestation while the document is unchanged', async () => {
      const c = new Company('chain.test', h.host);
      const first = await admit(c.pledge({ accord: h.accord, previous: null, name: 'Chain One' }));
      const before = await h.snapshot();
      const update = await admit(c.pledge({ accord: h.accord, previous: first.digest, name: 'Chain Two' }));
      expect(update.index).toBe(before.size);
      expect((await h.snapshot()).size).toBe(before.size + 1);
      const s = await request(h.app).get('/api/v1/signatories/chain.test').expect(200);
      expect(s.body).toMatchObject({ name: 'Chain Two', head: update.digest });
      expect(s.body.statements.map((x: { type: string }) => x.type)).toEqual(['DomainAttestation', 'AccordPledge', 'AccordPledge']);
    });

    it('is refused with 409 PREVIOUS_MISMATCH and error.head when previous is not the head', async () => {
      // A new Company object publishes a new key: the refusal must not log its attestation either.
      const c = new Company('chain.test', h.host);
      const s = await request(h.app).get('/api/v1/signatories/chain.test').expect(200);
      const err = await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 409, 'PREVIOUS_MISMATCH');
      expect(err.head).toBe(s.body.head);
      const stale = s.body.statements[1].digest as string;
      const err2 = await expectRefusal(h, c.pledge({ accord: h.accord, previous: stale }), 409, 'PREVIOUS_MISMATCH');
      expect(err2.head).toBe(s.body.head);
    });
  });

  describe('a key rotation', () => {
    it('logs a new DomainAttestation with the new key, and the old key is refused from then on', async () => {
      const c = new Company('rotate.test', h.host);
      const first = await admit(c.pledge({ accord: h.accord, previous: null }));
      const oldKey = c.key;
      const oldMethod = c.method;
      c.rotate();
      const before = await h.snapshot();
      const second = await admit(c.pledge({ accord: h.accord, previous: first.digest, name: 'Rotated' }));
      expect(second.index).toBe(before.size + 1);
      const att = parseStatementBytes(await entryBytes(before.size)).statement;
      expect(att.credentialSubject).toMatchObject({ id: c.did, verificationMethods: [{ id: `${c.did}#key-2` }] });
      const s = await request(h.app).get('/api/v1/signatories/rotate.test').expect(200);
      expect(s.body.keys.map((k: { id: string }) => k.id)).toEqual([`${c.did}#key-2`]);
      expect(s.body.attestation.index).toBe(before.size);
      // The rotated-out key: no longer in the document, refused at once (no cache, DESIGN 7).
      const old = c.pledge({ accord: h.accord, previous: second.digest, key: oldKey, method: oldMethod });
      const err = await expectRefusal(h, old, 422, 'KEY_NOT_IN_DID_DOCUMENT');
      expect(err.methods).toEqual([`${c.did}#key-2`]);
    });
  });

  describe('a method id that names another key', () => {
    it('is checked with the key the fetched document lists, not the one the method had before', async () => {
      const c = new Company('samekey.test', h.host);
      const first = await admit(c.pledge({ accord: h.accord, previous: null }));
      const key1 = c.key;
      // The document now lists another key under the same id, #key-1.
      c.keys.push({ id: c.method, keyPair: generateKeyPair() });
      c.publish();
      // The proof check starts with the key #key-1 had (it passes), but the fetched document
      // lists another one: refused.
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: first.digest, key: key1 }), 400, 'PROOF_INVALID');
      const second = await admit(c.pledge({ accord: h.accord, previous: first.digest, name: 'New key' }));
      // And back: the check started with the key of the last document fails, the listed key admits.
      c.keys.push({ id: c.method, keyPair: key1 });
      c.publish();
      await admit(c.pledge({ accord: h.accord, previous: second.digest, name: 'Old key again' }));
    });
  });

  describe('a withdrawal and a re-join', () => {
    it('withdraws a current signatory, refuses a second withdrawal, and a later pledge re-joins', async () => {
      const c = new Company('leave.test', h.host);
      const pledge = await admit(c.pledge({ accord: h.accord, previous: null, validFrom: minutes(-3) }));
      const w = await admit(c.withdrawal({ accord: h.accord, previous: pledge.digest, reason: 'Changed our mind.' }));
      let s = await request(h.app).get('/api/v1/signatories/leave.test').expect(200);
      expect(s.body).toMatchObject({ status: 'withdrawn', head: w.digest });
      await expectRefusal(h, c.withdrawal({ accord: h.accord, previous: w.digest }), 409, 'NOT_A_SIGNATORY');
      const rejoin = c.pledge({ accord: h.accord, previous: w.digest, validFrom: minutes(1) });
      const r = await admit(rejoin);
      s = await request(h.app).get('/api/v1/signatories/leave.test').expect(200);
      expect(s.body).toMatchObject({ status: 'signatory', head: r.digest, since: rejoin.validFrom });
    });

    it('refuses a withdrawal by a DID that never pledged with 409 NOT_A_SIGNATORY', async () => {
      const c = new Company('nokey.test', h.host);
      await expectRefusal(h, c.withdrawal({ accord: h.accord, previous: null }), 409, 'NOT_A_SIGNATORY');
    });
  });

  describe('the time window', () => {
    it.each([
      ['validFrom 10 minutes ago', { validFrom: minutes(-10) }],
      ['validFrom 10 minutes ahead', { validFrom: minutes(10) }],
      ['proof.created 6 minutes ago', { validFrom: minutes(0), created: minutes(-6) }],
    ])('refuses %s with STATEMENT_TIME_WINDOW', async (_what, times) => {
      const c = new Company('window.test', h.host);
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null, ...times }), 400, 'STATEMENT_TIME_WINDOW');
    });

    it('admits 4 minutes either way', async () => {
      const c = new Company('window.test', h.host);
      const r = await admit(c.pledge({ accord: h.accord, previous: null, validFrom: minutes(-4), created: minutes(4) }));
      expect(r.index).toBeGreaterThan(0);
    });
  });

  describe('a forged or altered statement', () => {
    it('is refused with PROOF_INVALID when a signed member was changed', async () => {
      const c = new Company('forged.test', h.host);
      const pledge = c.pledge({ accord: h.accord, previous: null });
      const altered = { ...pledge, credentialSubject: { ...pledge.credentialSubject, name: 'Someone Else' } };
      await expectRefusal(h, altered, 400, 'PROOF_INVALID');
    });

    it('is refused with KEY_NOT_IN_DID_DOCUMENT when signed by a key the document does not list', async () => {
      const c = new Company('forged.test', h.host);
      const stranger = generateKeyPair();
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null, key: stranger, method: `${c.did}#key-9` }), 422, 'KEY_NOT_IN_DID_DOCUMENT');
    });

    it('is refused with PROOF_INVALID when signed by another key under a listed method id', async () => {
      const c = new Company('forged.test', h.host);
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null, key: generateKeyPair() }), 400, 'PROOF_INVALID');
    });

    it('is refused with STATEMENT_METHOD_NOT_ISSUER when signed with another DID\'s method', async () => {
      const other = new Company('acme.test');
      const unsigned = buildPledge({ did: 'did:web:forged.test', name: 'Forged', accord: h.accord, principles: [1, 2, 3, 4, 5, 6], previous: null, validFrom: nowTimestamp() });
      const signed = createProof(unsigned, { secretKey: other.key.secretKey, verificationMethod: other.method, created: unsigned.validFrom });
      await expectRefusal(h, signed, 400, 'STATEMENT_METHOD_NOT_ISSUER');
    });

    it('is refused with STATEMENT_ISSUER_NOT_SUBJECT when the subject is another DID', async () => {
      const c = new Company('forged.test', h.host);
      const pledge = c.pledge({ accord: h.accord, previous: null });
      await expectRefusal(h, { ...pledge, credentialSubject: { ...pledge.credentialSubject, id: 'did:web:acme.test' } }, 400, 'STATEMENT_ISSUER_NOT_SUBJECT');
    });

    it('refuses a registry statement type with 403 REGISTRY_STATEMENT_FORBIDDEN', async () => {
      const k = generateKeyPair();
      const now = nowTimestamp();
      const att = secureStatement(
        buildAttestation({
          registryDid: didKeyFromPublicKey(k.publicKey),
          did: 'did:web:forged.test',
          url: 'https://forged.test/.well-known/did.json',
          observedAt: now,
          documentDigest: digestOf(utf8('{}')),
          verificationMethods: [{ id: 'did:web:forged.test#key-1', publicKeyMultibase: encodePublicMultikey(generateKeyPair().publicKey) }],
          validFrom: now,
        }),
        k,
        didKeyVerificationMethod(k.publicKey),
        now,
      );
      await expectRefusal(h, att, 403, 'REGISTRY_STATEMENT_FORBIDDEN');
    });
  });

  describe('malformed bodies', () => {
    it.each([
      ['not JSON', '{"@context": ', 'JSON_SYNTAX'],
      ['a duplicate member', '{"a":1,"a":2}', 'JSON_DUPLICATE_KEY'],
      ['a byte order mark', '\ufeff{}', 'JSON_SYNTAX'],
      ['an empty body', '', 'JSON_SYNTAX'],
      ['a JSON array', '[]', 'STATEMENT_NOT_OBJECT'],
      ['an unknown member', '{"@context":["https://www.w3.org/ns/credentials/v2"],"hello":1}', 'STATEMENT_UNKNOWN_MEMBER'],
      ['nesting too deep', `${'['.repeat(100)}${']'.repeat(100)}`, 'JSON_TOO_DEEP'],
    ])('refuses %s', async (_what, body, code) => {
      await expectRefusal(h, body, 400, code);
    });

    it('refuses bytes that are not UTF-8 with BAD_UTF8', async () => {
      const before = await h.snapshot();
      const req = request(h.app).post('/api/v1/statements').set('content-type', 'application/json');
      req.write(Buffer.from([0x7b, 0xff, 0x7d]));
      const res = await req;
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('BAD_UTF8');
      expect(await h.snapshot()).toEqual(before);
    });

    it('refuses a canonical form over 16 KiB with 413 STATEMENT_TOO_LARGE', async () => {
      await expectRefusal(h, { padding: 'x'.repeat(17_000) }, 413, 'STATEMENT_TOO_LARGE');
    });

    it('refuses a body over 64 KiB with 413 BODY_TOO_LARGE, even when mostly whitespace', async () => {
      await expectRefusal(h, `{${' '.repeat(70_000)}}`, 413, 'BODY_TOO_LARGE');
    });

    it.each([
      ['text/plain', 'text/plain'],
      ['application/x-www-form-urlencoded', 'application/x-www-form-urlencoded'],
      ['JSON in another charset', 'application/json; charset=iso-8859-1'],
      ['a JSON-like type', 'application/ld+json'],
    ])('refuses %s with 415 UNSUPPORTED_MEDIA_TYPE', async (_what, type) => {
      const c = new Company('shape.test', h.host);
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 415, 'UNSUPPORTED_MEDIA_TYPE', type);
    });

    it('refuses a body without a content type with 415', async () => {
      const before = await h.snapshot();
      const res = await request(h.app).post('/api/v1/statements').send(Buffer.from('{}'));
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(await h.snapshot()).toEqual(before);
    });

    it('accepts application/json with charset=utf-8', async () => {
      const c = new Company('shape.test', h.host);
      const res = await h.submit(c.pledge({ accord: h.accord, previous: null }), 'application/json; charset=UTF-8');
      expect(res.status).toBe(201);
    });

    it('refuses a compressed body with 415', async () => {
      const before = await h.snapshot();
      const res = await request(h.app).post('/api/v1/statements').set('content-type', 'application/json').set('content-encoding', 'gzip').send(Buffer.from('{}'));
      expect(res.status).toBe(415);
      expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('the accord and the registry\'s rules', () => {
    it('refuses an unknown accord with ACCORD_UNKNOWN', async () => {
      const c = new Company('accord.test', h.host);
      await expectRefusal(h, c.pledge({ accord: digestOf(utf8('no such accord')), previous: null }), 400, 'ACCORD_UNKNOWN');
    });

    it('refuses a pledge that leaves out a principle with STATEMENT_PRINCIPLES_INCOMPLETE', async () => {
      const c = new Company('accord.test', h.host);
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null, principles: [1, 2, 3, 4, 5] }), 400, 'STATEMENT_PRINCIPLES_INCOMPLETE');
    });

    it('refuses a delisted signatory with 403 SIGNATORY_DELISTED until relisted', async () => {
      const c = new Company('delist.test', h.host);
      const first = await admit(c.pledge({ accord: h.accord, previous: null }));
      const now = nowTimestamp();
      const sign = (action: 'delist' | 'relist') =>
        secureStatement(
          buildNotice({ registryDid: h.registry.keys.attestationDid, did: c.did, action, reason: `${action} for the test`, validFrom: now }),
          h.registry.keys.attestationKey,
          h.registry.keys.attestationMethod,
          now,
        );
      await appendRegistryStatement(h.registry, sign('delist'));
      expect((await request(h.app).get('/api/v1/signatories/delist.test')).body.status).toBe('delisted');
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: first.digest }), 403, 'SIGNATORY_DELISTED');
      await appendRegistryStatement(h.registry, sign('relist'));
      await admit(c.pledge({ accord: h.accord, previous: first.digest }));
    });

    it('refuses a withdrawal naming another accord than the latest pledge with 409 WITHDRAWAL_ACCORD_MISMATCH', async () => {
      const file = JSON.parse(readFileSync(new URL('../../data/accords/tech-sector-1.json', import.meta.url), 'utf8')) as Record<string, unknown>;
      const now = nowTimestamp();
      const v2 = secureStatement(
        buildAccordText({ ...file, id: 'urn:accord:tech-sector:2', version: 2 }, { issuerDid: h.registry.keys.attestationDid, validFrom: now }),
        h.registry.keys.attestationKey,
        h.registry.keys.attestationMethod,
        now,
      );
      const v2Receipt = await appendRegistryStatement(h.registry, v2);
      const c = new Company('version.test', h.host);
      const p = await admit(c.pledge({ accord: v2Receipt.digest, previous: null }));
      await expectRefusal(h, c.withdrawal({ accord: h.accord, previous: p.digest }), 409, 'WITHDRAWAL_ACCORD_MISMATCH');
      await admit(c.withdrawal({ accord: v2Receipt.digest, previous: p.digest }));
    });
  });

  describe('when the did:web document cannot be used', () => {
    it('refuses a redirect with 422 DID_WEB_REDIRECT', async () => {
      const c = new Company('redirect.test', h.host);
      h.host.set('redirect.test', { kind: 'document', status: 301, body: '', headers: { location: h.host.documentUrl('acme.test') } });
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_REDIRECT');
    });

    it('refuses a wrong content type with 422 DID_WEB_BAD_CONTENT_TYPE', async () => {
      const c = new Company('html.test', h.host);
      h.host.set('html.test', { kind: 'document', body: JSON.stringify(c.didDocument()), contentType: 'text/html; charset=utf-8' });
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_BAD_CONTENT_TYPE');
    });

    it('refuses a missing document with 422 DID_WEB_NOT_FOUND', async () => {
      const c = new Company('missing.test');
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_NOT_FOUND');
    });

    it('refuses an oversized document with 422 DID_WEB_TOO_LARGE', async () => {
      const c = new Company('huge.test', h.host);
      h.host.set('huge.test', { kind: 'endless', bytes: 100_000 });
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_TOO_LARGE');
    });

    it('refuses a stalling host with 422 DID_WEB_TIMEOUT', async () => {
      const c = new Company('stall.test', h.host);
      h.host.set('stall.test', { kind: 'stall' });
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_TIMEOUT');
    });

    it('refuses a document about another DID with 422 DID_WEB_BAD_DOCUMENT', async () => {
      const c = new Company('nokey.test', h.host);
      h.host.set('nokey.test', { kind: 'document', body: JSON.stringify(new Company('acme.test').didDocument()) });
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_BAD_DOCUMENT');
    });
  });

  describe('concurrent submissions', () => {
    it('admits exactly one of two pledges naming the same previous; the other gets PREVIOUS_MISMATCH', async () => {
      const c = new Company('race.test', h.host);
      const a = c.pledge({ accord: h.accord, previous: null, name: 'Race A' });
      const b = c.pledge({ accord: h.accord, previous: null, name: 'Race B' });
      const before = await h.snapshot();
      const [ra, rb] = await Promise.all([h.submit(a), h.submit(b)]);
      expect([ra.status, rb.status].sort()).toEqual([201, 409]);
      const loser = ra.status === 409 ? ra : rb;
      expect(loser.body.error.code).toBe('PREVIOUS_MISMATCH');
      // One attestation and one pledge: the loser's attestation was not logged either.
      expect((await h.snapshot()).size).toBe(before.size + 2);
    });

    it('logs one entry for the same statement sent twice at once, and both get its receipt', async () => {
      const c = new Company('race.test', h.host);
      const head = (await request(h.app).get('/api/v1/signatories/race.test')).body.head as string;
      const p = c.pledge({ accord: h.accord, previous: head, name: 'Race C' });
      const before = await h.snapshot();
      const [r1, r2] = await Promise.all([h.submit(p), h.submit(p)]);
      expect([r1.status, r2.status].sort()).toEqual([200, 201]);
      expect(r1.body.index).toBe(r2.body.index);
      // A new key was published by this Company object: one attestation plus the pledge.
      expect((await h.snapshot()).size).toBe(before.size + 2);
    });
  });

  it('never logs an unsigned document', async () => {
    const c = new Company('shape.test', h.host);
    const signed = c.pledge({ accord: h.accord, previous: null });
    const { proof: _proof, ...unsigned } = signed;
    await expectRefusal(h, unsigned, 400, 'STATEMENT_MISSING_MEMBER');
    // And a proof made over other content does not transfer.
    const other = createProof({ ...unsigned, validFrom: minutes(-1) }, { secretKey: c.key.secretKey, verificationMethod: c.method, created: signed.proof.created });
    await expectRefusal(h, { ...signed, proof: other.proof }, 400, 'PROOF_INVALID');
  });

  it('leaves a log that the auditor verifies entry by entry (run last)', async () => {
    const result = await auditApp(h.app, h.logKey);
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.size).toBe((await h.snapshot()).size);
    expect(result.stats.byType.DomainAttestation).toBeGreaterThan(5);
  });
});

describe('the proof check during the did:web fetch', () => {
  it('starts with the key the method had in the last document, before that document arrives again', async () => {
    const events: string[] = [];
    // The real fetch, made once the harness has mapped the host.
    const real: { fetch?: DidWebFetch } = {};
    const inline = inlineProofVerifier();
    const h = await startHarness({
      domains: ['early.test'],
      didWebFetch: async (did) => {
        events.push('fetch');
        const doc = await (real.fetch as DidWebFetch)(did);
        events.push('fetched');
        return doc;
      },
      proofVerifier: {
        threads: 0,
        readyThreads: 0,
        async verify(canonicalBytes, publicKey) {
          events.push(`verify ${encodePublicMultikey(publicKey)}`);
          return inline.verify(canonicalBytes, publicKey);
        },
        close: async () => {},
      },
    });
    const fetcher = createDidWebFetcher({ hosts: h.config.didWebHosts });
    real.fetch = fetcher.fetch;
    try {
      const c = new Company('early.test', h.host);
      const key = `verify ${encodePublicMultikey(c.key.publicKey)}`;
      const first = await h.submit(c.pledge({ accord: h.accord, previous: null }));
      expect(first.status).toBe(201);
      // Nothing known of the DID yet: the document first, then the proof.
      expect(events).toEqual(['fetch', 'fetched', key]);
      events.length = 0;
      expect((await h.submit(c.pledge({ accord: h.accord, previous: first.body.digest, name: 'Second' }))).status).toBe(201);
      // Now the check runs while the document is fetched, and only once (same key listed).
      expect(events).toEqual(['fetch', key, 'fetched']);
    } finally {
      await fetcher.close();
      await h.close();
    }
  });
});
