import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { digestOf, fromBase64, utf8 } from '../../src/core/bytes.ts';
import { verifyCheckpoint } from '../../src/core/log/checkpoint.ts';
import { leafHash, verifyConsistency, verifyInclusion } from '../../src/core/log/merkle.ts';
import { verifyTlogProof } from '../../src/core/log/tlog-proof.ts';
import { Company } from '../helpers/company.ts';
import { startHarness, type Harness } from './harness.ts';

describe('the JSON API', () => {
  let h: Harness;
  /** The checkpoint note right after entry 0, for consistency proofs. */
  let firstNote: string;
  const heads: Record<string, string> = {};

  beforeAll(async () => {
    h = await startHarness({ domains: ['alpha.test', 'beta.test', 'gamma.test'] });
    firstNote = (await h.snapshot()).note;
    for (const [domain, name] of [
      ['alpha.test', 'Alpha Security AG'],
      ['beta.test', 'Beta Networks'],
      ['gamma.test', 'Gamma Cloud'],
    ] as const) {
      const c = new Company(domain, h.host);
      const res = await h.submit(c.pledge({ accord: h.accord, previous: null, name, country: 'CH' }));
      expect(res.status).toBe(201);
      heads[domain] = res.body.digest;
      if (domain === 'gamma.test') {
        const w = await h.submit(c.withdrawal({ accord: h.accord, previous: res.body.digest, reason: 'Closing down.' }));
        expect(w.status).toBe(201);
        heads[domain] = w.body.digest;
      }
    }
  });

  afterAll(async () => {
    await h.close();
  });

  const get = (path: string) => request(h.app).get(path);

  async function expectApiError(path: string, status: number, code: string): Promise<void> {
    const res = await get(path);
    expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
    expect(res.headers['content-type']).toMatch(/^application\/json/);
  }

  describe('GET /api/v1/signatories', () => {
    it('lists every DID that ever pledged, by domain, with its status and head', async () => {
      const res = await get('/api/v1/signatories').expect(200);
      expect(res.body).toMatchObject({ total: 3, page: 1, pageSize: 50 });
      expect(res.body.signatories.map((s: { domain: string; status: string; head: string }) => [s.domain, s.status, s.head])).toEqual([
        ['alpha.test', 'signatory', heads['alpha.test']],
        ['beta.test', 'signatory', heads['beta.test']],
        ['gamma.test', 'withdrawn', heads['gamma.test']],
      ]);
    });

    it('filters by status and searches name and domain case-insensitively', async () => {
      expect((await get('/api/v1/signatories?status=withdrawn').expect(200)).body.signatories.map((s: { domain: string }) => s.domain)).toEqual(['gamma.test']);
      expect((await get('/api/v1/signatories?q=NETWORKS').expect(200)).body.signatories.map((s: { domain: string }) => s.domain)).toEqual(['beta.test']);
      expect((await get('/api/v1/signatories?q=alpha.t').expect(200)).body.total).toBe(1);
      expect((await get('/api/v1/signatories?q=%25').expect(200)).body.total).toBe(0);
      expect((await get('/api/v1/signatories?status=all&page=2').expect(200)).body).toMatchObject({ total: 3, page: 2, signatories: [] });
    });

    it.each([
      ['?page=0', 'INVALID_PAGE'],
      ['?page=01', 'INVALID_PAGE'],
      ['?page=1e2', 'INVALID_PAGE'],
      ['?page=-1', 'INVALID_PAGE'],
      ['?page=1&page=2', 'INVALID_PAGE'],
      ['?page=99999999999999999999', 'INVALID_PAGE'],
      ['?status=gone', 'INVALID_STATUS'],
      [`?q=${'x'.repeat(201)}`, 'INVALID_QUERY'],
      ['?q=a&q=b', 'INVALID_QUERY'],
    ])('refuses %s with 400 %s', async (query, code) => {
      await expectApiError(`/api/v1/signatories${query}`, 400, code);
    });
  });

  describe('GET /api/v1/signatories/:domain', () => {
    it('answers did, name, status, head, accord, since, keys, attestation and statements', async () => {
      const res = await get('/api/v1/signatories/alpha.test').expect(200);
      expect(res.body).toMatchObject({
        did: 'did:web:alpha.test',
        domain: 'alpha.test',
        name: 'Alpha Security AG',
        status: 'signatory',
        head: heads['alpha.test'],
        accord: h.accord,
        country: 'CH',
        keys: [{ id: 'did:web:alpha.test#key-1' }],
        attestation: { url: h.host.documentUrl('alpha.test') },
        notice: null,
      });
      expect(res.body.since).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(res.body.statements).toEqual([
        { index: res.body.attestation.index, digest: res.body.attestation.digest, type: 'DomainAttestation', validFrom: expect.any(String) },
        { index: res.body.attestation.index + 1, digest: heads['alpha.test'], type: 'AccordPledge', validFrom: res.body.since },
      ]);
      expect(res.body.statementsPage).toEqual({ page: 1, pages: 1, pageSize: 50, total: 2 });
    });

    it.each(['0', '01', '-1', '1&page=2'])('refuses ?page=%s with 400 INVALID_PAGE', async (raw) => {
      await expectApiError(`/api/v1/signatories/alpha.test?page=${raw}`, 400, 'INVALID_PAGE');
    });

    it('shows a withdrawn signatory as withdrawn, its head the withdrawal', async () => {
      const res = await get('/api/v1/signatories/gamma.test').expect(200);
      expect(res.body).toMatchObject({ status: 'withdrawn', head: heads['gamma.test'] });
    });

    it('answers 404 NOT_FOUND for a domain that never pledged', async () => {
      await expectApiError('/api/v1/signatories/nobody.test', 404, 'NOT_FOUND');
    });

    it.each(['localhost', 'Alpha.test', 'a..b', '127.0.0.1'])('refuses %s with 400 INVALID_DOMAIN', async (domain) => {
      await expectApiError(`/api/v1/signatories/${encodeURIComponent(domain)}`, 400, 'INVALID_DOMAIN');
    });
  });

  describe('GET /api/v1/entries/:index', () => {
    it('answers the logged bytes unchanged, as application/json', async () => {
      const res = await get('/api/v1/entries/0').expect(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      const accords = await get('/api/v1/accords').expect(200);
      const bytes = utf8(res.text);
      // The digest the API names is SHA-256 of exactly these bytes.
      expect(digestOf(bytes)).toBe(accords.body.accords[0].digest);
    });

    it.each(['01', '-1', '1e1', '0x1', ' 1', '1.0', '99999999999999999'])('refuses index %j with 400 INVALID_INDEX', async (raw) => {
      await expectApiError(`/api/v1/entries/${encodeURIComponent(raw)}`, 400, 'INVALID_INDEX');
    });

    it('answers 404 NOT_FOUND beyond the log', async () => {
      await expectApiError('/api/v1/entries/1000', 404, 'NOT_FOUND');
      await expectApiError('/api/v1/entries/1000/proof', 404, 'NOT_FOUND');
    });
  });

  describe('GET /api/v1/entries/:index/proof', () => {
    it('answers a C2SP tlog-proof that verifies against the entry and the log key', async () => {
      const { size } = await h.snapshot();
      for (let i = 0; i < size; i++) {
        const proof = await get(`/api/v1/entries/${i}/proof`).expect(200);
        expect(proof.headers['content-type']).toMatch(/^text\/plain/);
        const entry = utf8((await get(`/api/v1/entries/${i}`).expect(200)).text);
        expect(verifyTlogProof(proof.text, entry, h.logKey).size).toBe(size);
      }
    });
  });

  describe('GET /api/v1/proof/inclusion', () => {
    it('proves every entry in the latest tree, leaf first, and defaults size to the latest', async () => {
      const cp = verifyCheckpoint((await get('/log/checkpoint').expect(200)).text, h.logKey);
      for (let i = 0; i < cp.size; i++) {
        const res = await get(`/api/v1/proof/inclusion?index=${i}`).expect(200);
        expect(res.body.size).toBe(cp.size);
        const entry = utf8((await get(`/api/v1/entries/${i}`)).text);
        expect(res.body.leafHash).toBe(Buffer.from(leafHash(entry)).toString('base64'));
        verifyInclusion(leafHash(entry), i, cp.size, res.body.proof.map(fromBase64), cp.root);
      }
    });

    it('proves against an older size', async () => {
      const old = verifyCheckpoint(firstNote, h.logKey);
      const res = await get(`/api/v1/proof/inclusion?index=0&size=${old.size}`).expect(200);
      verifyInclusion(fromBase64(res.body.leafHash), 0, old.size, res.body.proof.map(fromBase64), old.root);
    });

    it.each([
      ['', 'INVALID_INDEX'],
      ['?index=x', 'INVALID_INDEX'],
      ['?index=0&size=1.5', 'INVALID_SIZE'],
      ['?index=0&size=100000', 'INVALID_SIZE'],
      ['?index=3&size=3', 'INVALID_INDEX'],
      ['?index=0&index=1', 'INVALID_INDEX'],
    ])('refuses %j with 400 %s', async (query, code) => {
      await expectApiError(`/api/v1/proof/inclusion${query}`, 400, code);
    });
  });

  describe('GET /api/v1/proof/consistency', () => {
    it('proves the latest tree consistent with the first checkpoint', async () => {
      const old = verifyCheckpoint(firstNote, h.logKey);
      const latest = verifyCheckpoint((await get('/log/checkpoint')).text, h.logKey);
      const res = await get(`/api/v1/proof/consistency?old=${old.size}&new=${latest.size}`).expect(200);
      expect(res.body).toMatchObject({ old: old.size, new: latest.size });
      verifyConsistency(old.size, latest.size, res.body.proof.map(fromBase64), old.root, latest.root);
      const dflt = await get(`/api/v1/proof/consistency?old=${old.size}`).expect(200);
      expect(dflt.body).toEqual(res.body);
    });

    it.each([
      ['', 'INVALID_SIZE'],
      ['?old=0', 'INVALID_SIZE'],
      ['?old=3&new=2', 'INVALID_SIZE'],
      ['?old=1&new=100000', 'INVALID_SIZE'],
      ['?old=+1', 'INVALID_SIZE'],
    ])('refuses %j with 400 %s', async (query, code) => {
      await expectApiError(`/api/v1/proof/consistency${query}`, 400, code);
    });
  });

  describe('GET /api/v1/accords and /api/v1/checkpoint', () => {
    it('lists the accords with their digests and principles', async () => {
      const res = await get('/api/v1/accords').expect(200);
      expect(res.body.accords).toEqual([
        expect.objectContaining({ index: 0, digest: h.accord, id: 'urn:accord:tech-sector:1', version: 1, title: expect.any(String) }),
      ]);
      expect(res.body.accords[0].principles.map((p: { number: number }) => p.number)).toEqual([1, 2, 3, 4, 5, 6]);
    });

    it('answers the latest checkpoint, signed', async () => {
      const res = await get('/api/v1/checkpoint').expect(200);
      const cp = verifyCheckpoint(res.body.checkpoint, h.logKey);
      expect(res.body).toMatchObject({ origin: 'test.example/log', size: cp.size, root: Buffer.from(cp.root).toString('base64') });
    });
  });

  it('answers unknown API paths with a JSON 404', async () => {
    await expectApiError('/api/v1/nothing-here', 404, 'NOT_FOUND');
    await expectApiError('/api/v2/signatories', 404, 'NOT_FOUND');
  });
});

describe('GET /api/v1/signatories/:domain with a long history', () => {
  it('answers the latest 50 statements, oldest first, and the earlier ones page by page', async () => {
    const h = await startHarness({ domains: ['busy.test'] });
    try {
      const c = new Company('busy.test', h.host);
      const pledges: { index: number; digest: string }[] = [];
      let previous: string | null = null;
      // 1 attestation + 52 pledges: 53 statements, two pages.
      for (let i = 0; i < 52; i++) {
        const res = await h.submit(c.pledge({ accord: h.accord, previous, name: `Busy ${i}` }));
        expect(res.status).toBe(201);
        previous = res.body.digest as string;
        pledges.push({ index: res.body.index as number, digest: previous });
      }
      const page = async (query: string) => (await request(h.app).get(`/api/v1/signatories/busy.test${query}`).expect(200)).body;
      const first = await page('');
      expect(first.head).toBe(previous);
      expect(first.statements.map((s: { index: number; digest: string }) => ({ index: s.index, digest: s.digest }))).toEqual(pledges.slice(2));
      expect(first.statementsPage).toEqual({ page: 1, pages: 2, pageSize: 50, total: 53 });
      expect(await page('?page=1')).toEqual(first);
      const second = await page('?page=2');
      expect(second.statements.map((s: { index: number; type: string }) => [s.index, s.type])).toEqual([
        [pledges[0]!.index - 1, 'DomainAttestation'],
        [pledges[0]!.index, 'AccordPledge'],
        [pledges[1]!.index, 'AccordPledge'],
      ]);
      expect(second.statementsPage).toEqual({ page: 2, pages: 2, pageSize: 50, total: 53 });
      // Past the last page: no statements, and the page numbers say why.
      const third = await page('?page=3');
      expect(third.statements).toEqual([]);
      expect(third.statementsPage).toEqual({ page: 3, pages: 2, pageSize: 50, total: 53 });
    } finally {
      await h.close();
    }
  });
});
