/**
 * The signatory page in a real browser (Debian's chromium driven by playwright-core): the proof
 * bundle is checked in the page by the core's own code (/assets/accord-core.js) under the app's
 * strict CSP, a tampered bundle is caught, and with JavaScript off the page still says everything.
 * Also the same verifier in Node, on tampered bundles. Screenshots at phone width go to /tmp.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { chromium } from 'playwright-core';
import type { Browser, ConsoleMessage, Page } from 'playwright-core';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { verifyProofBundle, type ProofBundle } from '../../src/core/browser-verify.ts';
import { startPagesFixture, type PagesFixture } from './pages-fixture.ts';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const PHONE = { width: 390, height: 844 };

let f: PagesFixture;
let server: Server;
let base: string;
let browser: Browser;

beforeAll(async () => {
  f = await startPagesFixture();
  server = await new Promise<Server>((resolve, reject) => {
    const s = createServer(f.app).listen(0, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, headless: true });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await f?.close();
});

interface Watched {
  page: Page;
  messages: string[];
  errors: string[];
}

async function open(path: string, opts: { javaScriptEnabled?: boolean } = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: PHONE, javaScriptEnabled: opts.javaScriptEnabled ?? true });
  const page = await context.newPage();
  const messages: string[] = [];
  const errors: string[] = [];
  page.on('console', (m: ConsoleMessage) => messages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => errors.push(e.message));
  const res = await page.goto(`${base}${path}`, { waitUntil: 'load' });
  expect(res?.status()).toBe(200);
  return { page, messages, errors };
}

async function verdictOf(page: Page): Promise<{ state: string; text: string }> {
  const box = page.locator('#browser-verify');
  await page.waitForFunction(() => {
    const v = document.getElementById('browser-verify')?.dataset.verdict;
    return v === 'ok' || v === 'fail' || v === 'error';
  });
  return { state: (await box.getAttribute('data-verdict')) ?? '', text: await box.innerText() };
}

function expectNoCspViolation(w: Watched): void {
  const csp = w.messages.filter((m) => /Content Security Policy|Refused to/i.test(m));
  expect(csp).toEqual([]);
  expect(w.errors).toEqual([]);
}

describe('the signatory page in a browser', () => {
  it.each([['acme.test'], ['quit.test'], ['gone.test']])('verifies the proof bundle of %s in the page, under the strict CSP', async (domain) => {
    const w = await open(`/signatories/${domain}`);
    const v = await verdictOf(w.page);
    expect(v.text).toContain('Verified in your browser');
    expect(v.state).toBe('ok');
    expect(v.text).toMatch(/Checkpoint of pages\.test\/log, size \d+, root \S+: signature valid/);
    expect(v.text).not.toContain('✗');
    expect(v.text).toContain('a convenience, not an independent check');
    expectNoCspViolation(w);
    await w.page.context().close();
  });

  it('reports a tampered bundle as failed', async () => {
    const good = (await request(f.app).get('/signatories/acme.test/proof.json')).body as ProofBundle;
    const bad = structuredClone(good);
    const last = bad.entries[bad.entries.length - 1]!;
    const bytes = fromBase64(last.entry);
    bytes[bytes.length - 3] = bytes[bytes.length - 3]! ^ 1;
    last.entry = toBase64(bytes);
    const context = await browser.newContext({ viewport: PHONE });
    const page = await context.newPage();
    await page.route('**/signatories/acme.test/proof.json', (route) => route.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(bad) }));
    await page.goto(`${base}/signatories/acme.test`);
    const v = await verdictOf(page);
    expect(v.state).toBe('fail');
    expect(v.text).toContain('Verification failed');
    expect(v.text).toContain(`✗ Entry ${last.index}`);
    await context.close();
  });

  it('shows status and statements with JavaScript off', async () => {
    const w = await open('/signatories/quit.test', { javaScriptEnabled: false });
    const main = await w.page.locator('main').innerText();
    expect(main).toContain('quit.test');
    expect(main).toMatch(/Withdrawn on \d{1,2} [A-Z][a-z]+ \d{4}/);
    expect(main).toContain('Pledged to version 1 of the accord, as “Quitter GmbH”.');
    expect(main).toContain('Withdrew from the accord. Reason given:');
    expect(await w.page.locator('table.history tbody tr').count()).toBe(3);
    expect(await w.page.locator('#browser-verify').getAttribute('data-verdict')).toBeNull();
    expect(await w.page.locator('a[download]').getAttribute('href')).toBe('/signatories/quit.test/proof.json');
    await w.page.context().close();
  });

  it('renders a markup name as text in the browser', async () => {
    const w = await open('/signatories/evil.test');
    expect(await w.page.locator('.org-name strong').innerText()).toBe('<script>alert(1)</script>');
    expect(await w.page.locator('main script').count()).toBe(0);
    await verdictOf(w.page);
    expectNoCspViolation(w);
    await w.page.context().close();
  });

  it('is readable at phone width: no sideways scrolling of the page (screenshots in /tmp)', async () => {
    for (const [path, file] of [
      ['/', '/tmp/accord-home-phone.png'],
      ['/signatories/acme.test', '/tmp/accord-signatory-phone.png'],
      ['/log/entries/2', '/tmp/accord-entry-phone.png'],
      ['/signatories', '/tmp/accord-signatories-phone.png'],
    ] as const) {
      const w = await open(path);
      if (path.startsWith('/signatories/')) await verdictOf(w.page);
      const overflow = await w.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, path).toBeLessThanOrEqual(0);
      await w.page.screenshot({ path: file, fullPage: true });
      expectNoCspViolation(w);
      await w.page.context().close();
    }
  });
});

describe('verifyProofBundle (the same code in Node)', () => {
  let bundle: ProofBundle;
  beforeAll(async () => {
    bundle = (await request(f.app).get('/signatories/acme.test/proof.json')).body as ProofBundle;
  });

  it('accepts the bundle the registry serves, pinned to its log key', () => {
    const v = verifyProofBundle(bundle, { logKey: f.registry.keys.logVerifierKey });
    expect(v.error).toBeNull();
    expect(v.ok).toBe(true);
    expect(v.pinned).toBe(true);
    expect(v.entries.map((e) => e.type)).toEqual(['AccordText', 'DomainAttestation', 'AccordPledge', 'DomainAttestation', 'AccordPledge']);
  });

  describe('when the pinned key is another one', () => {
    it('fails with BUNDLE_KEY_MISMATCH', () => {
      const v = verifyProofBundle(bundle, { logKey: 'other.test/log+00000000+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' });
      expect(v.ok).toBe(false);
      expect(v.error?.code).toBe('BUNDLE_KEY_MISMATCH');
    });
  });

  describe('when the checkpoint signature is broken', () => {
    it('fails with a CHECKPOINT_ code', () => {
      const lines = bundle.checkpoint.split('\n');
      const bad = { ...bundle, checkpoint: lines.map((l, i) => (i === 2 ? toBase64(new Uint8Array(32)) : l)).join('\n') };
      const v = verifyProofBundle(bad);
      expect(v.ok).toBe(false);
      expect(v.error?.code).toMatch(/^CHECKPOINT_/);
    });
  });

  describe('when the attestation a pledge relies on is left out', () => {
    it('fails that pledge with KEY_NOT_ATTESTED', () => {
      const bad = { ...bundle, entries: bundle.entries.filter((e) => e.index !== f.indexes['acme-update']! - 1) };
      const v = verifyProofBundle(bad);
      expect(v.ok).toBe(false);
      const pledge = v.entries.find((e) => e.index === f.indexes['acme-update'])!;
      expect(pledge.ok).toBe(false);
      expect(pledge.code).toBe('KEY_NOT_ATTESTED');
    });
  });

  describe('when a proof names another index', () => {
    it('fails that entry with LOG_PROOF_INVALID', () => {
      const bad = structuredClone(bundle);
      bad.entries[1]!.proof = bad.entries[2]!.proof;
      const v = verifyProofBundle(bad);
      expect(v.ok).toBe(false);
      expect(v.entries[1]!.code).toBe('LOG_PROOF_INVALID');
    });
  });

  describe('when the input is not a bundle', () => {
    it.each([[null], ['x'], [{ version: 2 }], [{ ...{ version: 1 }, entries: 'no' }]])('fails with BUNDLE_MALFORMED for %j', (value) => {
      const v = verifyProofBundle(value);
      expect(v.ok).toBe(false);
      expect(v.error?.code).toBe('BUNDLE_MALFORMED');
    });
  });
});
