import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { parseStrictJson } from '../../src/core/json/strict-parse.ts';
import type { Statement } from '../../src/core/statements/types.ts';
import { Company } from '../helpers/company.ts';
import { startHarness, verifyReceipt, type Harness, type ReceiptJson } from '../server/harness.ts';
import { listen, type Listening } from './fixtures.ts';
import { REPO_ROOT, runTool } from './run-tool.ts';

let h: Harness;
let web: Listening;
let dir: string;
let acme: Company;

function admin(args: string[], dataDir = h.dir) {
  return runTool('admin', args, { env: { DATA_DIR: dataDir, REGISTRY_ORIGIN: h.config.origin, DATABASE_URL: '' } });
}

async function entry(index: number): Promise<{ bytes: Uint8Array; statement: Statement }> {
  const res = await request(h.app).get(`/api/v1/entries/${index}`).buffer(true).parse((r, cb) => {
    const chunks: Buffer[] = [];
    r.on('data', (c: Buffer) => chunks.push(c));
    r.on('end', () => cb(null, Buffer.concat(chunks)));
  });
  const bytes = new Uint8Array(res.body as Buffer);
  return { bytes, statement: parseStrictJson(bytes) as Statement };
}

/** The receipt JSON that accord-admin prints after its summary line. */
function printedReceipt(stdout: string): ReceiptJson {
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as ReceiptJson;
}

beforeAll(async () => {
  h = await startHarness({ domains: ['acme.test'] });
  web = await listen(h.app);
  dir = await mkdtemp(join(tmpdir(), 'accord-admin-'));
  acme = new Company('acme.test', h.host);
  const res = await h.submit(acme.pledge({ accord: h.accord, previous: null, name: 'Acme' }));
  expect(res.status).toBe(201);
});
afterAll(async () => {
  await web?.close();
  await h?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('accord-admin accord FILE', () => {
  describe('with a new accord version', () => {
    it('appends an AccordText signed by the attestation key and prints its receipt', async () => {
      const v1 = JSON.parse(await readFile(join(REPO_ROOT, 'data/accords/tech-sector-1.json'), 'utf8')) as Record<string, unknown>;
      const file = join(dir, 'tech-sector-2.json');
      await writeFile(file, JSON.stringify({ ...v1, id: 'urn:accord:tech-sector:2', version: 2 }));
      const r = await admin(['accord', file]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const receipt = printedReceipt(r.stdout);
      const { bytes, statement } = await entry(receipt.index);
      verifyReceipt(receipt, bytes, h.logKey);
      expect(statement.type[1]).toBe('AccordText');
      expect(statement.issuer).toBe(h.registry.keys.attestationDid);
      expect(statement.credentialSubject).toMatchObject({ id: 'urn:accord:tech-sector:2', version: 2 });
      const accords = await request(h.app).get('/api/v1/accords');
      expect(accords.body.accords.map((a: { id: string }) => a.id)).toEqual(['urn:accord:tech-sector:1', 'urn:accord:tech-sector:2']);
    });
  });

  describe('with an accord id already in the log', () => {
    it('exits 1 with ACCORD_DUPLICATE and appends nothing', async () => {
      const before = await h.snapshot();
      const r = await admin(['accord', join(REPO_ROOT, 'data/accords/tech-sector-1.json')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/ACCORD_DUPLICATE/);
      expect(await h.snapshot()).toEqual(before);
    });
  });

  describe('with a file that is not an accord', () => {
    it('exits 2 and appends nothing', async () => {
      const file = join(dir, 'broken.json');
      await writeFile(file, JSON.stringify({ id: 'urn:accord:tech-sector:3', title: 'x', version: 3 }));
      const before = await h.snapshot();
      const r = await admin(['accord', file]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/STATEMENT_/);
      expect(await h.snapshot()).toEqual(before);
    });
  });
});

describe('accord-admin notice', () => {
  describe('relist of a signatory that is not delisted', () => {
    it('exits 1 with NOT_DELISTED', async () => {
      const r = await admin(['notice', 'relist', 'acme.test', '--reason', 'Reviewed']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/NOT_DELISTED/);
    });
  });

  describe('delist, then relist', () => {
    it('delists (the signatory cannot submit), then relists', async () => {
      const d = await admin(['notice', 'delist', 'acme.test', '--reason', 'Under review after a complaint']);
      expect(d.code).toBe(0);
      const notice = await entry(printedReceipt(d.stdout).index);
      expect(notice.statement.credentialSubject).toEqual({ id: acme.did, action: 'delist', reason: 'Under review after a complaint' });
      expect((await request(h.app).get('/api/v1/signatories/acme.test')).body.status).toBe('delisted');
      const head = (await request(h.app).get('/api/v1/signatories/acme.test')).body.head as string;
      const refused = await h.submit(acme.pledge({ accord: h.accord, previous: head, name: 'Acme again' }));
      expect(refused.body.error.code).toBe('SIGNATORY_DELISTED');

      const r = await admin(['notice', 'relist', 'did:web:acme.test', '--reason', 'Complaint unfounded']);
      expect(r.code).toBe(0);
      expect((await request(h.app).get('/api/v1/signatories/acme.test')).body.status).toBe('signatory');
    });
  });

  describe('for a domain that never pledged', () => {
    it('exits 1 with UNKNOWN_SIGNATORY', async () => {
      const r = await admin(['notice', 'delist', 'nobody.test', '--reason', 'x']);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/UNKNOWN_SIGNATORY/);
    });
  });

  describe('without --reason', () => {
    it('exits 2 with the usage', async () => {
      const r = await admin(['notice', 'delist', 'acme.test']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/usage: accord-admin/);
    });
  });
});

describe('accord-admin on a DATA_DIR that holds no registry', () => {
  it('exits 2 with REGISTRY_NOT_FOUND and creates nothing', async () => {
    const empty = join(dir, 'empty');
    const r = await admin(['notice', 'delist', 'acme.test', '--reason', 'x'], empty);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/REGISTRY_NOT_FOUND/);
    await expect(stat(empty)).rejects.toThrow(/ENOENT/);
  });
});

describe('the log after the operator statements', () => {
  it('passes the full audit', async () => {
    const result = await runAudit(await openSource(web.url), { logKey: h.logKey, stateCheckpoint: null, workers: 0 });
    expect(result.findings).toEqual([]);
    expect(result.stats.byType.RegistryNotice).toBe(2);
    expect(result.stats.accords).toBe(2);
  });
});
