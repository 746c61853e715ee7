import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { fromBase64, utf8 } from '../../src/core/bytes.ts';
import { verifyProofBundle } from '../../src/core/browser-verify.ts';
import { verifyCheckpoint } from '../../src/core/log/checkpoint.ts';
import { readLog, rootFromTiles } from '../../src/core/log/tile-reader.ts';
import { decodeEntryBundle } from '../../src/core/log/tiles.ts';
import { parseTlogProof } from '../../src/core/log/tlog-proof.ts';
import { parseStatementBytes } from '../../src/core/statements/validate.ts';
import { Company } from '../helpers/company.ts';
import { appFetcher, auditApp, startHarness, type Harness } from './harness.ts';

const BULK = Array.from({ length: 130 }, (_, i) => `bulk-${i}.test`);

function binary(app: Harness['app'], path: string) {
  return request(app)
    .get(path)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks)));
    });
}

describe('the log for machines', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ domains: ['tiles.test', 'bundle.test', 'other.test', ...BULK] });
  });

  afterAll(async () => {
    await h.close();
  });

  describe('GET /.well-known/accord-registry.json', () => {
    it('publishes the origin, the log key and the attestation key that issued entry 0', async () => {
      const res = await request(h.app).get('/.well-known/accord-registry.json').expect(200);
      expect(res.body).toEqual({ origin: 'test.example/log', logKey: h.registry.keys.logVerifierKey, attestationKey: h.registry.keys.attestationDid });
      expect(res.body.logKey).toMatch(/^test\.example\/log\+[0-9a-f]{8}\+/);
      const entry0 = parseStatementBytes(utf8((await request(h.app).get('/api/v1/entries/0')).text)).statement;
      expect(entry0.issuer).toBe(res.body.attestationKey);
    });
  });

  describe('GET /log/checkpoint', () => {
    it('serves the signed checkpoint as text, revalidated on every use', async () => {
      const res = await request(h.app).get('/log/checkpoint').expect(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['access-control-allow-origin']).toBe('*');
      const cp = verifyCheckpoint(res.text, h.logKey);
      expect(cp).toMatchObject({ origin: 'test.example/log', size: (await h.snapshot()).size });
    });
  });

  describe('tiles of a small log', () => {
    it('serves the partial level-0 tile and entry bundle, short-lived, matching the API', async () => {
      const c = new Company('tiles.test', h.host);
      expect((await h.submit(c.pledge({ accord: h.accord, previous: null }))).status).toBe(201);
      const { size } = await h.snapshot();
      const tile = await binary(h.app, `/log/tile/0/000.p/${size}`).expect(200);
      expect(tile.headers['content-type']).toBe('application/octet-stream');
      expect(tile.headers['cache-control']).toBe('public, max-age=10');
      expect((tile.body as Buffer).length).toBe(32 * size);
      const bundle = await binary(h.app, `/log/tile/entries/000.p/${size}`).expect(200);
      const entries = decodeEntryBundle(new Uint8Array(bundle.body as Buffer));
      expect(entries).toHaveLength(size);
      for (let i = 0; i < size; i++) {
        expect(entries[i]).toEqual(utf8((await request(h.app).get(`/api/v1/entries/${i}`)).text));
      }
      // A narrower partial tile is a prefix of the wider one (tlog-tiles "Partial Tiles").
      const narrow = await binary(h.app, '/log/tile/0/000.p/1').expect(200);
      expect(narrow.body).toEqual((tile.body as Buffer).subarray(0, 32));
    });

    it.each(['/log/tile/0/000', '/log/tile/0/000.p/255', '/log/tile/1/000.p/1', '/log/tile/entries/001', '/log/tile/0/x000/000.p/1', '/log/tile/0/000.p/0', '/log/tile/64/000', '/log/tile/nonsense'])(
      'answers 404 for %s',
      async (path) => {
        await request(h.app).get(path).expect(404);
      },
    );
  });

  describe('GET /signatories/:domain/proof.json', () => {
    it('bundles the statements, the attestations they rely on and the accord, proven against one checkpoint', async () => {
      const c = new Company('bundle.test', h.host);
      const p1 = await h.submit(c.pledge({ accord: h.accord, previous: null }));
      c.rotate();
      const p2 = await h.submit(c.pledge({ accord: h.accord, previous: p1.body.digest, name: 'Bundle Two' }));
      const w = await h.submit(c.withdrawal({ accord: h.accord, previous: p2.body.digest }));
      expect([p1.status, p2.status, w.status]).toEqual([201, 201, 201]);
      // Another signatory after it: not in the bundle.
      expect((await h.submit(new Company('other.test', h.host).pledge({ accord: h.accord, previous: null }))).status).toBe(201);

      const res = await request(h.app).get('/signatories/bundle.test/proof.json').expect(200);
      const bundle = res.body;
      expect(bundle).toMatchObject({ version: 1, origin: 'test.example/log', logKey: h.logKey, attestationKey: h.registry.keys.attestationDid });
      const types = bundle.entries.map((e: { entry: string }) => parseStatementBytes(fromBase64(e.entry)).statement.type[1]);
      expect(types).toEqual(['AccordText', 'DomainAttestation', 'AccordPledge', 'DomainAttestation', 'AccordPledge', 'AccordWithdrawal']);
      const cp = verifyCheckpoint(bundle.checkpoint, h.logKey);
      for (const e of bundle.entries) {
        const proof = parseTlogProof(e.proof);
        expect(proof.index).toBe(e.index);
        expect(proof.checkpoint).toBe(bundle.checkpoint);
      }
      expect(cp.size).toBe((await h.snapshot()).size);
      // The browser's verifier and the command line's auditor both accept it.
      const verdict = verifyProofBundle(bundle, { logKey: h.logKey });
      expect(verdict.error).toBeNull();
      expect(verdict.ok).toBe(true);
      const audit = await runAudit({ kind: 'bundle', label: 'bundle', bytes: utf8(res.text) }, { logKey: h.logKey, stateCheckpoint: null, workers: 0 });
      expect(audit.findings).toEqual([]);
      expect(audit.ok).toBe(true);
    });

    it('answers 404 for a domain with no statement and 400 INVALID_DOMAIN for a bad one', async () => {
      const none = await request(h.app).get('/signatories/nobody.test/proof.json').expect(404);
      expect(none.body.error.code).toBe('NOT_FOUND');
      const bad = await request(h.app).get('/signatories/localhost/proof.json').expect(400);
      expect(bad.body.error.code).toBe('INVALID_DOMAIN');
    });
  });

  describe('a log past one full tile', () => {
    beforeAll(async () => {
      // 130 signatories: an attestation and a pledge each, 260 entries more.
      for (let i = 0; i < BULK.length; i += 26) {
        const batch = BULK.slice(i, i + 26).map((d) => h.submit(new Company(d, h.host).pledge({ accord: h.accord, previous: null })));
        for (const res of await Promise.all(batch)) expect(res.status).toBe(201);
      }
    });

    it('serves full tiles as immutable and the upper partial tile', async () => {
      const { size } = await h.snapshot();
      expect(size).toBeGreaterThan(256);
      const full = await binary(h.app, '/log/tile/0/000').expect(200);
      expect(full.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect((full.body as Buffer).length).toBe(256 * 32);
      const entries = await binary(h.app, '/log/tile/entries/000').expect(200);
      expect(entries.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(decodeEntryBundle(new Uint8Array(entries.body as Buffer))).toHaveLength(256);
      await binary(h.app, `/log/tile/0/001.p/${size - 256}`).expect(200);
      await binary(h.app, '/log/tile/1/000.p/1').expect(200);
    });

    it('is read by the core tile reader to the signed root, and passes the full audit', async () => {
      const fetchFile = appFetcher(h.app);
      const cp = verifyCheckpoint((await request(h.app).get('/log/checkpoint')).text, h.logKey);
      const tileFetcher = (path: string) => fetchFile(`log/${path}`);
      expect(Buffer.from(await rootFromTiles(tileFetcher, cp.size))).toEqual(Buffer.from(cp.root));
      let n = 0;
      for await (const record of readLog(tileFetcher, cp.size)) {
        expect(record.index).toBe(n++);
        expect(record.matchesTile).toBe(true);
      }
      expect(n).toBe(cp.size);
      const audit = await auditApp(h.app, h.logKey);
      expect(audit.findings).toEqual([]);
      expect(audit.ok).toBe(true);
      expect(audit.stats.currentSignatories).toBe(BULK.length + 2);
    });
  });
});
