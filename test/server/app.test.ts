import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import request from 'supertest';
import { httpStatusFor } from '../../src/server/http-errors.ts';
import type { LookupFn } from '../../src/server/did-web.ts';
import { Company } from '../helpers/company.ts';
import { expectRefusal, startHarness, type Harness } from './harness.ts';

const CSP = "default-src 'self';script-src 'self';style-src 'self';img-src 'self' data:;object-src 'none';base-uri 'none';frame-ancestors 'none';form-action 'self'";

describe('createApp', () => {
  describe('security headers', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness();
    });
    afterAll(async () => {
      await h.close();
    });

    it.each(['/', '/api/v1/accords', '/log/checkpoint', '/no/such/page', '/api/v1/nope'])('sends the strict CSP and friends on %s', async (path) => {
      const res = await request(h.app).get(path);
      expect(res.headers['content-security-policy']).toBe(CSP);
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['x-powered-by']).toBeUndefined();
    });

    it('answers an unknown page with an HTML 404 and an unknown API path with a JSON 404', async () => {
      const page = await request(h.app).get('/no/such/page').expect(404);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('NOT_FOUND');
      const api = await request(h.app).get('/api/v1/nope').expect(404);
      expect(api.body).toEqual({ error: { code: 'NOT_FOUND', message: expect.any(String) } });
    });

    it('escapes what the request said in the HTML error page', async () => {
      const res = await request(h.app).get('/%3Cscript%3Ealert(1)%3C%2Fscript%3E').expect(404);
      expect(res.text).not.toContain('<script>alert(1)');
    });
  });

  describe('when something unexpected fails', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({
        domains: ['boom.test'],
        didWebFetch: async () => {
          throw new Error('secret detail: connection string postgres://admin:hunter2@db');
        },
      });
    });
    afterAll(async () => {
      await h.close();
    });

    it('answers 500 INTERNAL without the message or a stack trace, logs it, and writes nothing', async () => {
      const c = new Company('boom.test', h.host);
      const err = await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 500, 'INTERNAL');
      const text = JSON.stringify(err);
      expect(text).not.toContain('hunter2');
      expect(text).not.toMatch(/\bat .*\.ts:\d+/);
      expect(h.logLines.join('')).toContain('hunter2');
    });

    it('answers pages with an HTML 500 without internals once the database is gone', async () => {
      await h.registry.handle.close();
      const page = await request(h.app).get('/log/checkpoint').expect(500);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.text).toContain('INTERNAL');
      expect(page.text).not.toMatch(/\bat .*\.ts:\d+/);
      const api = await request(h.app).get('/api/v1/checkpoint').expect(500);
      expect(api.body.error.code).toBe('INTERNAL');
      expect(JSON.stringify(api.body)).not.toMatch(/\bat .*\.ts:\d+/);
    });
  });

  describe('the submission rate limit', () => {
    let h: Harness;
    beforeAll(async () => {
      h = await startHarness({ domains: ['rate.test'], rateLimit: 2 });
    });
    afterAll(async () => {
      await h.close();
    });

    it('answers 429 RATE_LIMITED past SUBMIT_RATE_LIMIT per minute, and writes nothing', async () => {
      const c = new Company('rate.test', h.host);
      expect((await h.submit(c.pledge({ accord: h.accord, previous: null }))).status).toBe(201);
      expect((await h.submit('{')).status).toBe(400);
      const res = await h.submit(c.pledge({ accord: h.accord, previous: null, name: 'Third' }));
      const before = await h.snapshot();
      expect(res.status).toBe(429);
      expect(res.body.error.code).toBe('RATE_LIMITED');
      expect(res.headers['retry-after']).toBeDefined();
      await expectRefusal(h, '{}', 429, 'RATE_LIMITED');
      expect(await h.snapshot()).toEqual(before);
      // Reading is not limited.
      await request(h.app).get('/api/v1/signatories/rate.test').expect(200);
    });
  });

  describe('the submission rate limit behind a reverse proxy', () => {
    // supertest connects from 127.0.0.1: the "proxy" here is the test itself.
    const submitFrom = (h: Harness, client: string | null): request.Test => {
      const req = request(h.app).post('/api/v1/statements').set('content-type', 'application/json');
      return (client === null ? req : req.set('x-forwarded-for', client)).send('{');
    };

    it('counts each forwarded client address on its own with TRUST_PROXY=loopback', async () => {
      const h = await startHarness({ rateLimit: 1, trustProxy: 'loopback' });
      try {
        expect((await submitFrom(h, '198.51.100.7')).status).toBe(400);
        expect((await submitFrom(h, '203.0.113.9')).status).toBe(400);
        const again = await submitFrom(h, '198.51.100.7');
        expect(again.status).toBe(429);
        expect(again.body.error.code).toBe('RATE_LIMITED');
      } finally {
        await h.close();
      }
    });

    it('ignores X-Forwarded-For without TRUST_PROXY: every client of one socket address shares its limit', async () => {
      const h = await startHarness({ rateLimit: 1 });
      try {
        expect((await submitFrom(h, '198.51.100.7')).status).toBe(400);
        const other = await submitFrom(h, '203.0.113.9');
        expect(other.status).toBe(429);
        expect(other.body.error.code).toBe('RATE_LIMITED');
        // The operator is told once, in the registry's own log.
        expect(h.logLines.filter((l) => l.includes('TRUST_PROXY is unset'))).toHaveLength(1);
      } finally {
        await h.close();
      }
    });
  });

  describe('the did:web address guard through admission', () => {
    let h: Harness;
    const lookup: LookupFn = (hostname, _options, callback) => {
      const answers: Record<string, string[]> = { 'evil.test': ['127.0.0.1'], 'intranet.test': ['10.20.30.40', '93.184.215.14'] };
      const list = answers[hostname];
      if (list === undefined) {
        callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
        return;
      }
      callback(null, list.map((address): LookupAddress => ({ address, family: 4 })));
    };
    beforeAll(async () => {
      h = await startHarness({ lookup });
    });
    afterAll(async () => {
      await h.close();
    });

    it.each(['evil.test', 'intranet.test'])('refuses an unmapped %s resolving to a private address with 422 DID_WEB_FORBIDDEN_ADDRESS', async (domain) => {
      // The company's document is even served on 127.0.0.1, but the domain is not operator-mapped.
      const c = new Company(domain, h.host);
      const err = await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_FORBIDDEN_ADDRESS');
      expect(err.message).toContain(domain);
    });

    it('refuses a domain that does not resolve with 422 DID_WEB_FETCH_FAILED', async () => {
      const c = new Company('nowhere.test');
      await expectRefusal(h, c.pledge({ accord: h.accord, previous: null }), 422, 'DID_WEB_FETCH_FAILED');
    });
  });
});

describe('httpStatusFor', () => {
  it.each([
    ['JSON_SYNTAX', 400],
    ['STATEMENT_BAD_NAME', 400],
    ['PROOF_INVALID', 400],
    ['STATEMENT_TIME_WINDOW', 400],
    ['REGISTRY_STATEMENT_FORBIDDEN', 403],
    ['SIGNATORY_DELISTED', 403],
    ['NOT_FOUND', 404],
    ['PREVIOUS_MISMATCH', 409],
    ['NOT_A_SIGNATORY', 409],
    ['BODY_TOO_LARGE', 413],
    ['STATEMENT_TOO_LARGE', 413],
    ['UNSUPPORTED_MEDIA_TYPE', 415],
    ['DID_WEB_TIMEOUT', 422],
    ['KEY_NOT_IN_DID_DOCUMENT', 422],
    ['RATE_LIMITED', 429],
    ['DB_OPEN_FAILED', 500],
    ['LOG_STATE_INCONSISTENT', 500],
    ['INTERNAL', 500],
    ['SEQUENCER_CLOSED', 503],
  ])('maps %s to %i', (code, status) => {
    expect(httpStatusFor(code)).toBe(status);
  });
});
