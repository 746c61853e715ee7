/**
 * Answers kept until the log grows (src/server/answer-cache.ts), and the pages (and proof
 * bundles) built on them: a page is computed once per log size, shows a new statement on the first request after the log
 * grew, also when another writer on the same database appended it (the operator's command line),
 * and a client holding the page's ETag gets 304.
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendRegistryStatement } from '../../src/cli/admin.ts';
import { buildNotice, nowTimestamp, secureStatement } from '../../src/core/statements/build.ts';
import { openRegistry } from '../../src/registry.ts';
import { AnswerCache } from '../../src/server/answer-cache.ts';
import { Company } from '../helpers/company.ts';
import { startHarness, type Harness } from './harness.ts';

const text = (a: { body: Buffer }): string => a.body.toString('utf8');

describe('AnswerCache', () => {
  it('computes an answer once per log size and again after the log grew', async () => {
    const cache = new AnswerCache();
    let runs = 0;
    const compute = async () => `answer ${++runs}`;
    expect(text(await cache.get('k', 5, compute))).toBe('answer 1');
    expect(text(await cache.get('k', 5, compute))).toBe('answer 1');
    expect(text(await cache.get('k', 6, compute))).toBe('answer 2');
    // A request that read the older size a moment before is given the newer answer.
    expect(text(await cache.get('k', 5, compute))).toBe('answer 2');
    expect(runs).toBe(2);
  });

  it('lets concurrent requests share one computation', async () => {
    const cache = new AnswerCache();
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const compute = async () => {
      runs++;
      await gate;
      return 'shared';
    };
    const all = Promise.all(Array.from({ length: 10 }, () => cache.get('k', 1, compute)));
    release();
    expect((await all).map(text)).toEqual(Array(10).fill('shared'));
    expect(runs).toBe(1);
  });

  it('does not keep a failure: the next request computes again', async () => {
    const cache = new AnswerCache();
    await expect(cache.get('k', 1, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(text(await cache.get('k', 1, async () => 'fine'))).toBe('fine');
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const cache = new AnswerCache({ maxEntries: 2 });
    let runs = 0;
    const compute = (k: string) => async () => `${k} ${++runs}`;
    await cache.get('a', 1, compute('a'));
    await cache.get('b', 1, compute('b'));
    await cache.get('a', 1, compute('a')); // a is now the most recently used
    await cache.get('c', 1, compute('c')); // drops b
    expect(cache.size).toBe(2);
    expect(text(await cache.get('a', 1, compute('a')))).toBe('a 1');
    expect(text(await cache.get('b', 1, compute('b')))).toBe('b 4');
  });

  it('keeps at most maxBytes of answers', async () => {
    const cache = new AnswerCache({ maxBytes: 1000 });
    for (let i = 0; i < 10; i++) await cache.get(`k${i}`, 1, async () => 'x'.repeat(400));
    // Bytes are counted once an answer is computed; the bound holds after each one.
    expect(cache.size).toBeLessThanOrEqual(2);
  });

  it('gives the same strong ETag for the same bytes and another for other bytes', async () => {
    const cache = new AnswerCache();
    const a = await cache.get('a', 1, async () => 'same');
    const b = await cache.get('b', 1, async () => 'same');
    const c = await cache.get('c', 1, async () => 'other');
    expect(a.etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    expect(a.etag).toBe(b.etag);
    expect(c.etag).not.toBe(a.etag);
  });
});

describe('pages kept until the log grows', () => {
  let h: Harness;
  let c: Company;
  let head: string;

  beforeAll(async () => {
    h = await startHarness({ domains: ['fresh.test'] });
    c = new Company('fresh.test', h.host);
    const res = await h.submit(c.pledge({ accord: h.accord, previous: null, name: 'Fresh First' }));
    expect(res.status).toBe(201);
    head = res.body.digest as string;
  });

  afterAll(async () => {
    await h?.close();
  });

  /** The operator's notice about c, appended through a second handle on the same SQLite file, as `accord-admin` opens it from another process. */
  async function noticeFromAnotherHandle(action: 'delist' | 'relist', reason: string): Promise<void> {
    const admin = await openRegistry({ dataDir: h.dir, origin: h.config.origin });
    try {
      const at = nowTimestamp();
      const notice = buildNotice({ registryDid: admin.keys.attestationDid, did: c.did, action, reason, validFrom: at });
      await appendRegistryStatement(admin, secureStatement(notice, admin.keys.attestationKey, admin.keys.attestationMethod, at));
    } finally {
      await admin.close();
    }
  }

  it('shows a statement on the first request after it was appended', async () => {
    const before = await request(h.app).get('/signatories/fresh.test').expect(200);
    expect(before.text).toContain('Fresh First');
    expect(before.text).not.toContain('Fresh Second');
    const bundleBefore = await request(h.app).get('/signatories/fresh.test/proof.json').expect(200);
    const res = await h.submit(c.pledge({ accord: h.accord, previous: head, name: 'Fresh Second' }));
    expect(res.status).toBe(201);
    head = res.body.digest as string;
    const after = await request(h.app).get('/signatories/fresh.test').expect(200);
    expect(after.text).toContain('Fresh Second');
    const bundleAfter = await request(h.app).get('/signatories/fresh.test/proof.json').expect(200);
    const indexes = (b: request.Response) => (b.body.entries as { index: number }[]).map((e) => e.index);
    expect(indexes(bundleAfter)).toEqual([...indexes(bundleBefore), res.body.index]);
    expect(bundleAfter.body.checkpoint).not.toBe(bundleBefore.body.checkpoint);
    const feed = await request(h.app).get('/feed.atom').expect(200);
    expect(feed.text).toContain(`log entry ${res.body.index}`);
  });

  it('shows what another writer on the same database appended (the operator delisting)', async () => {
    const home = await request(h.app).get('/signatories?status=delisted').expect(200);
    expect(home.text).not.toContain('fresh.test');
    await noticeFromAnotherHandle('delist', 'Cache test.');
    const delisted = await request(h.app).get('/signatories?status=delisted').expect(200);
    expect(delisted.text).toContain('fresh.test');
    const page = await request(h.app).get('/signatories/fresh.test').expect(200);
    expect(page.text).toContain('Cache test.');
    const csv = await request(h.app).get('/signatories.csv').expect(200);
    expect(csv.text).toMatch(/fresh\.test,[^\r\n]*,delisted,/);
  });

  it('answers 304 to a client that holds the page\'s ETag, and 200 once the page changed', async () => {
    // The home page shows commands with the site's own URL: one Host, one page (supertest's
    // own Host header names a new port for every request).
    const home = () => request(h.app).get('/').set('Host', 'registry.example');
    const first = await home().expect(200);
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"/);
    await home().set('If-None-Match', etag).expect(304);
    const res = await h.submit(c.pledge({ accord: h.accord, previous: head, name: 'Fresh Third' }));
    // Delisted: refused, the log does not grow, the page is unchanged.
    expect(res.status).toBe(403);
    await home().set('If-None-Match', etag).expect(304);
    await noticeFromAnotherHandle('relist', 'Back.');
    const changed = await home().set('If-None-Match', etag).expect(200);
    expect(changed.headers.etag).not.toBe(etag);
  });
});
