/**
 * POST /api/v1/statements is served before express (src/server/submit-endpoint.ts). These tests
 * hold it to what the express route did and what the rest of the app does: the same security
 * headers, the JSON error format, the body limits, and a connection that stays sound after a
 * refusal. Admission itself is tested in admission.test.ts, through the same endpoint.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import express from 'express';
import request from 'supertest';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaderList, securityMiddleware } from '../../src/server/security-headers.ts';
import { Company } from '../helpers/company.ts';
import { startHarness, type Harness } from './harness.ts';

/** Lower-cased names of the headers helmet sets. */
const HELMET_HEADERS = securityHeaderList().map(([name]) => name.toLowerCase());

function pick(headers: Record<string, unknown>, names: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((n) => [n, headers[n]]));
}

describe('the security headers of the submission endpoint', () => {
  it('are the ones helmet sets on an express answer, all of them', async () => {
    const app = express();
    app.use(securityMiddleware());
    app.get('/', (_req, res) => {
      res.send('ok');
    });
    const res = await request(app).get('/').expect(200);
    expect(HELMET_HEADERS.length).toBeGreaterThanOrEqual(10);
    expect(pick(res.headers, HELMET_HEADERS)).toEqual(Object.fromEntries(securityHeaderList().map(([n, v]) => [n.toLowerCase(), v])));
    // helmet removes X-Powered-By; nothing in the list may put it back.
    expect(HELMET_HEADERS).not.toContain('x-powered-by');
  });
});

describe('POST /api/v1/statements outside express', () => {
  let h: Harness;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    h = await startHarness({ domains: ['acme.test', 'limit.test'] });
    server = await new Promise<Server>((resolve, reject) => {
      const s = createServer(h.app).listen(0, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((r) => server.close(r));
    await h.close();
  });

  it('answers an admission and a refusal with the same security headers as a page', async () => {
    const page = await request(h.app).get('/').expect(200);
    const expected = pick(page.headers, HELMET_HEADERS);
    const acme = new Company('acme.test', h.host);
    const admitted = await h.submit(acme.pledge({ accord: h.accord, previous: null }));
    expect(admitted.status).toBe(201);
    expect(admitted.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(pick(admitted.headers, HELMET_HEADERS)).toEqual(expected);
    const refused = await h.submit('{');
    expect(refused.status).toBe(400);
    expect(pick(refused.headers, HELMET_HEADERS)).toEqual(expected);
    expect(refused.headers['x-powered-by']).toBeUndefined();
  });

  it('serves the path with a query string too, and leaves other methods to express (JSON 404)', async () => {
    const res = await request(h.app).post('/api/v1/statements?x=1').send(Buffer.from('{}'));
    expect(res.status).toBe(415);
    expect(res.body.error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const get = await request(h.app).get('/api/v1/statements').expect(404);
    expect(get.body.error.code).toBe('NOT_FOUND');
  });

  it('refuses a chunked body that grows past 64 KiB with 413, closes the connection and writes nothing', async () => {
    const before = await h.snapshot();
    const { port } = server.address() as AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write('POST /api/v1/statements HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
        // 80 KiB in chunks, without a declared length: the limit is counted while reading.
        const chunk = ' '.repeat(8192);
        for (let i = 0; i < 10; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
      });
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('latin1');
      });
      // The server ends the connection after its answer (Connection: close).
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 413 /);
    expect(reply.toLowerCase()).toContain('connection: close');
    expect(reply).toContain('"code":"BODY_TOO_LARGE"');
    expect(await h.snapshot()).toEqual(before);
  });

  it('keeps a keep-alive connection usable after a refusal that did not read the body', async () => {
    // One connection: the second request goes over the socket of the first.
    const client = new Client(base, { pipelining: 1, connections: 1 } as Client.Options);
    try {
      const refused = await client.request({ method: 'POST', path: '/api/v1/statements', headers: { 'content-type': 'text/plain' }, body: '{"a":1}' });
      expect(refused.statusCode).toBe(415);
      // The small body had arrived whole: no reason to give up the connection.
      expect(refused.headers.connection).toBe('keep-alive');
      expect(JSON.parse(await refused.body.text()).error.code).toBe('UNSUPPORTED_MEDIA_TYPE');
      const next = await client.request({ method: 'GET', path: '/api/v1/checkpoint' });
      expect(next.statusCode).toBe(200);
      expect(JSON.parse(await next.body.text()).origin).toBe('test.example/log');
    } finally {
      await client.close();
    }
  });
});

describe('the submission rate limit on the endpoint', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ domains: ['limit.test'], rateLimit: 3 });
  });

  afterAll(async () => {
    await h.close();
  });

  it('sends the RateLimit headers (IETF draft 8) and counts refused submissions too', async () => {
    const first = await h.submit('{');
    expect(first.status).toBe(400);
    expect(first.headers['ratelimit-policy']).toMatch(/^"3-in-1min"; q=3; w=60; pk=:[A-Za-z0-9+/=]+:$/);
    expect(first.headers.ratelimit).toMatch(/^"3-in-1min"; r=2; t=\d+$/);
    const c = new Company('limit.test', h.host);
    expect((await h.submit(c.pledge({ accord: h.accord, previous: null }))).headers.ratelimit).toMatch(/; r=1; /);
    expect((await h.submit('{')).headers.ratelimit).toMatch(/; r=0; /);
    const limited = await h.submit(c.pledge({ accord: h.accord, previous: null, name: 'Again' }));
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe('RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('60');
  });
});
