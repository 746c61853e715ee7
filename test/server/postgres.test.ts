import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import request from 'supertest';
import { usePostgres } from '../helpers/postgres.ts';
import { Company } from '../helpers/company.ts';
import { auditApp, canonical, expectRefusal, startHarness, verifyReceipt, type Harness } from './harness.ts';

describe('the registry server on PostgreSQL', () => {
  const pg = usePostgres();
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ domains: ['pg.test'], databaseUrl: await pg.createDatabase() });
  });

  afterAll(async () => {
    await h?.close();
  });

  it('admits a pledge and an update, refuses a stale previous, and leaves a log that audits clean', async () => {
    expect(h.registry.handle.engine).toBe('postgres');
    const c = new Company('pg.test', h.host);
    const pledge = c.pledge({ accord: h.accord, previous: null });
    const first = await h.submit(pledge);
    expect(first.status).toBe(201);
    verifyReceipt(first.body, canonical(pledge), h.logKey);
    expect((await h.submit(pledge)).status).toBe(200);
    const update = c.pledge({ accord: h.accord, previous: first.body.digest, name: 'PG Two' });
    const second = await h.submit(update);
    expect(second.status).toBe(201);
    verifyReceipt(second.body, canonical(update), h.logKey);
    const err = await expectRefusal(h, c.pledge({ accord: h.accord, previous: first.body.digest }), 409, 'PREVIOUS_MISMATCH');
    expect(err.head).toBe(second.body.digest);
    const s = await request(h.app).get('/api/v1/signatories/pg.test').expect(200);
    expect(s.body).toMatchObject({ status: 'signatory', name: 'PG Two', head: second.body.digest });
    const audit = await auditApp(h.app, h.logKey);
    expect(audit.findings).toEqual([]);
    expect(audit.ok).toBe(true);
  });
});
