/**
 * The pages people read (DESIGN 7), rendered by the real app over a real SQLite registry whose
 * statements came in through the real POST API (pages-fixture.ts). Checks what a journalist
 * relies on: who signed, since when, what was checked, proofs that verify, and that nothing a
 * signatory wrote can become markup.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { isAccordError } from '../../src/core/errors.ts';
import { verifyTlogProof } from '../../src/core/log/tlog-proof.ts';
import { compileViews, renderErrorPage, VIEWS_DIR } from '../../src/server/views.ts';
import { Company } from '../helpers/company.ts';
import { startHarness } from './harness.ts';
import { DELIST_REASON, FORMULA_NAMES, RELIST_REASON, RELISTED, startPagesFixture, XSS_NAME, XSS_REASON, type PagesFixture } from './pages-fixture.ts';

let f: PagesFixture;

beforeAll(async () => {
  f = await startPagesFixture();
});

afterAll(async () => {
  await f?.close();
});

/** Handlebars escapes & < > " ' ` =; a reader's browser decodes them back. */
function decodeEntities(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&#39;/g, "'")
    .replace(/&#x60;/g, '`')
    .replace(/&#x3D;/g, '=')
    .replace(/&amp;/g, '&');
}

/** The text of the first <pre> with this aria-label, decoded. */
function preText(html: string, label: string): string {
  const m = new RegExp(`<pre[^>]*aria-label="${label}"[^>]*><code>([\\s\\S]*?)</code></pre>`).exec(html);
  if (!m) throw new Error(`no <pre aria-label="${label}"> in the page`);
  return decodeEntities(m[1]!);
}

async function page(path: string): Promise<string> {
  const res = await request(f.app).get(path);
  expect(res.status, path).toBe(200);
  expect(res.type, path).toBe('text/html');
  return res.text;
}

function expectWellFormedPage(html: string): void {
  expect(html).toMatch(/^<!DOCTYPE html>\n<html lang="en">/);
  expect(html).toContain('<a class="skip-link" href="#main">');
  expect(html).toContain('<main id="main"');
  expect(html.match(/<h1[\s>]/g)).toHaveLength(1);
  // Strict CSP: no inline script or style anywhere, scripts only from this site.
  expect(html).not.toMatch(/<script(?![^>]*\ssrc="\/assets\/)/);
  expect(html).not.toMatch(/\sstyle=/);
  expect(html).not.toMatch(/\son[a-z]+=/i);
}

const ALL_PAGES = ['/', '/accord', '/signatories', '/signatories?status=all', '/signatories/acme.test', '/log', '/log/entries/0', '/join', '/about'];

describe('the pages', () => {
  describe('every page', () => {
    it('renders 200 as accessible HTML with one h1, landmarks and no inline script', async () => {
      for (const path of ALL_PAGES) expectWellFormedPage(await page(path));
    });

    it('marks the current section in the navigation', async () => {
      expect(await page('/accord')).toContain('<a href="/accord" aria-current="page">');
      expect(await page('/signatories/acme.test')).toContain('<a href="/signatories" aria-current="page">');
    });
  });

  describe('GET /', () => {
    it('says what the accord is, how many signed and shows the latest checkpoint exactly as served', async () => {
      const html = await page('/');
      expect(html).toContain('Digital Switzerland: 100% defense, 0% offense.');
      // acme, evil and the four formula names are current; quit withdrew; gone was delisted.
      expect(html).toMatch(/<strong>6<\/strong>\s+organisations have signed/);
      expect(html).toContain('<a href="/signatories?status=withdrawn">1 organisation has withdrawn</a>.');
      expect(html).toContain('<a href="/signatories?status=delisted">1 organisation was delisted</a>');
      const served = await request(f.app).get('/log/checkpoint');
      expect(preText(html, 'Signed checkpoint note')).toBe(served.text);
      expect(html).toContain(`--log-key ${f.registry.keys.logVerifierKey}`);
      expect(html).toContain('npx accord-verify http://127.0.0.1');
    });

    it('lists the latest events in the words of the feed: updates with what changed, notices; renewals left out', async () => {
      const html = await page('/');
      const list = html.slice(html.indexOf('Latest pledges, withdrawals and notices'), html.indexOf('</ul>', html.indexOf('Latest pledges, withdrawals and notices')));
      const items = list.split('<li>').slice(1);
      expect(items).toHaveLength(8);
      expect(items[0]).toContain('<a href="/signatories/evil.test">evil.test</a> updated its pledge (country)');
      expect(items[1]).toContain(`<a href="/signatories/${RELISTED}">${RELISTED}</a> was relisted by the registry`);
      expect(items[2]).toContain(`${RELISTED}</a> was delisted by the registry`);
      expect(items[3]).toContain('<a href="/signatories/gone.test">gone.test</a> was delisted by the registry');
      expect(list).not.toContain('renewed');
    });
  });

  describe('GET /accord', () => {
    it('shows the six principles read from entry 0, with its digest and log index', async () => {
      const html = await page('/accord');
      const file = JSON.parse(readFileSync(new URL('../../data/accords/tech-sector-1.json', import.meta.url), 'utf8')) as {
        title: string;
        principles: { number: number; title: string; text: string }[];
      };
      expect(file.principles).toHaveLength(6);
      const text = decodeEntities(html);
      for (const p of file.principles) {
        expect(text).toContain(`<li id="principle-${p.number}" value="${p.number}">`);
        expect(text).toContain(p.title);
        expect(text).toContain(p.text);
      }
      expect(html).toContain(`<h1>${file.title}</h1>`);
      expect(html).toContain(f.accord);
      expect(html).toContain('<a href="/log/entries/0">0</a>');
    });
  });

  describe('GET /signatories', () => {
    it('lists current signatories by verified domain, with self-declared names', async () => {
      const html = await page('/signatories');
      expect(html).toContain('<a href="/signatories/acme.test">acme.test</a>');
      expect(html).toContain('<td data-label="Name (self-declared)">Acme Corp</td>');
      expect(html).toContain('Name (self-declared)');
      expect(html).not.toContain('quit.test');
      expect(html).not.toContain('gone.test');
      expect(html).toContain('6 results');
    });

    it('filters by status', async () => {
      const withdrawn = await page('/signatories?status=withdrawn');
      expect(withdrawn).toContain('<a href="/signatories/quit.test">quit.test</a>');
      expect(withdrawn).not.toContain('acme.test');
      expect(withdrawn).toContain('<option value="withdrawn" selected>');
      const delisted = await page('/signatories?status=delisted');
      expect(delisted).toContain('<a href="/signatories/gone.test">gone.test</a>');
      expect(delisted).toContain('1 result.');
      const all = await page('/signatories?status=all');
      expect(all).toContain('8 results');
    });

    it('dates each status from the entry that set it: a withdrawal from the withdrawal, a delisting from the notice', async () => {
      const all = await page('/signatories?status=all');
      expect(all).toContain('<th scope="col">Status since (UTC)</th>');
      const cellOf = (domain: string): string => new RegExp(`<a href="/signatories/${domain.replace('.', '\\.')}">[\\s\\S]*?data-label="Status since \\(UTC\\)"><time datetime="([^"]+)"`).exec(all)![1]!;
      const validFrom = async (index: number | undefined): Promise<string> => (JSON.parse((await request(f.app).get(`/api/v1/entries/${index}`)).text) as { validFrom: string }).validFrom;
      expect(cellOf('quit.test')).toBe(await validFrom(f.indexes['quit-withdraw']));
      expect(cellOf('gone.test')).toBe(await validFrom(f.indexes['gone-delist']));
      // Listed again since the relisting, which came after its pledge.
      expect(cellOf(RELISTED)).toBe(await validFrom(f.indexes['relisted-relist']));
      expect(cellOf('acme.test')).toBe(await validFrom(f.indexes['acme-pledge']));
      const api = (await request(f.app).get('/api/v1/signatories/quit.test')).body as { since: string; statusSince: string };
      expect(api.statusSince).toBe(cellOf('quit.test'));
      expect(api.since).toBe(await validFrom(f.indexes['quit-pledge']));
    });

    it('searches names and domains, withdrawn ones included unless a status is chosen', async () => {
      const byName = await page('/signatories?q=quitter');
      expect(byName).toContain('<a href="/signatories/quit.test">quit.test</a>');
      expect(byName).toContain('1 result for “quitter”');
      const byDomain = await page('/signatories?q=acme.te');
      expect(byDomain).toContain('<a href="/signatories/acme.test">acme.test</a>');
      const narrowed = await page('/signatories?q=quitter&status=current');
      expect(narrowed).toContain('0 results');
      // LIKE wildcards are searched literally.
      expect(await page('/signatories?q=%25')).toContain('0 results');
    });

    it('keeps the search form usable without JavaScript (GET form with labels)', async () => {
      const html = await page('/signatories?q=acme');
      expect(html).toContain('<form class="search" method="get" action="/signatories" role="search">');
      expect(html).toContain('<label for="q">');
      expect(html).toContain('<label for="status">');
      expect(html).toContain('value="acme"');
    });

    it('pages through results', async () => {
      const html = await page('/signatories?status=all&page=2');
      expect(html).toContain('No organisation matches');
    });
  });

  describe('GET /signatories/:domain', () => {
    it('leads with the verified domain and marks the name as self-declared', async () => {
      const html = await page('/signatories/acme.test');
      const h1 = html.indexOf('<h1');
      expect(html.slice(h1, html.indexOf('</h1>'))).toContain('acme.test');
      expect(html.indexOf('Verified domain')).toBeLessThan(h1);
      expect(html).toMatch(/Name: <strong>Acme Corp<\/strong> <span class="self-declared">\(self-declared/);
      expect(html).toContain('Switzerland (CH)');
      expect(html).toContain('<a href="https://acme.test/" rel="nofollow ugc noopener noreferrer">');
    });

    it('shows the status with the date it began', async () => {
      const html = await page('/signatories/acme.test');
      expect(html).toMatch(/Signatory since <time datetime="\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ">\d{1,2} [A-Z][a-z]+ \d{4}<\/time>/);
      expect(html).toContain('version 1: all 6 principles');
    });

    it('lists every statement with its date, type and a link to its log entry', async () => {
      const html = await page('/signatories/acme.test');
      for (const label of ['acme-pledge', 'acme-update']) {
        expect(html).toContain(`<a href="/log/entries/${f.indexes[label]}">${f.indexes[label]}</a>`);
      }
      expect(html).toContain('Pledged to version 1 of the accord, as “Acme Corp”.');
      expect(html).toContain('Pledged again to version 1 of the accord, as “Acme Corp” (changed: security.txt, signing key).');
      expect(html.match(/<td data-label="Type">Domain attestation<\/td>/g)).toHaveLength(2);
    });

    it('says what each later pledge changed, and calls one that changed nothing a renewal', async () => {
      const html = await page('/signatories/evil.test');
      const name = escapeLikeHandlebars(XSS_NAME);
      expect(html).toContain(`Pledged again to version 1 of the accord, as “${name}” (changed: country).`);
      expect(html).toContain(`Pledged again to version 1 of the accord, as “${name}” (unchanged: a renewal).`);
    });

    it('shows a key rotation: the new key current, each statement signed with the key of its time', async () => {
      const html = await page('/signatories/acme.test');
      const [key1, key2] = f.companies['acme.test']!.keys;
      expect(html).toContain('Signed with <code>did:web:acme.test#key-1</code>');
      expect(html).toContain('Signed with <code>did:web:acme.test#key-2</code>');
      const keysSection = html.slice(html.indexOf('<ul class="keys">'), html.indexOf('</ul>', html.indexOf('<ul class="keys">')));
      expect(keysSection).toContain('did:web:acme.test#key-2');
      expect(keysSection).not.toContain('#key-1');
      expect(keysSection).toContain(encodePublicMultikey(key2!.keyPair.publicKey));
      expect(html).not.toContain(encodePublicMultikey(key1!.keyPair.publicKey));
      // Two attestations, newest first and marked current, each with the URL fetched and digest.
      const articles = html.split('<article class="attestation">').slice(1);
      expect(articles).toHaveLength(2);
      expect(articles[0]).toContain('(current)');
      expect(articles[0]).toContain('#key-2');
      expect(articles[1]).toContain('#key-1');
      for (const a of articles) {
        expect(a).toContain(f.host.documentUrl('acme.test'));
        expect(a).toMatch(/sha256:[0-9a-f]{64}/);
      }
    });

    it('says what the registry checked and how to check it again', async () => {
      const html = await page('/signatories/acme.test');
      expect(html).toContain('What the registry checked, and how you can check it again');
      expect(html).toContain('href="/signatories/acme.test/proof.json" download="acme.test-proof.json"');
      expect(html).toContain(`npx accord-verify acme.test-proof.json --log-key ${f.registry.keys.logVerifierKey}`);
      expect(html).toContain('data-bundle="/signatories/acme.test/proof.json"');
      expect(html).toContain('<script type="module" src="/assets/verify-bundle.js"></script>');
      const bundle = await request(f.app).get('/signatories/acme.test/proof.json');
      expect(bundle.status).toBe(200);
    });

    it('shows the badge and an embed snippet as text', async () => {
      const html = await page('/signatories/acme.test');
      expect(html).toMatch(/<img src="\/signatories\/acme.test\/badge.svg" alt="tech accord: signatory since \d{4}-\d\d-\d\d"/);
      const snippet = /<textarea id="badge-snippet"[^>]*>([\s\S]*?)<\/textarea>/.exec(html)![1]!;
      expect(snippet).not.toContain('<');
      expect(decodeEntities(snippet)).toMatch(/^<a href="http:\/\/127\.0\.0\.1:\d+\/signatories\/acme\.test"><img src="[^"]+\/badge\.svg"/);
      // Copied into another site, the text alternative must stay true after a withdrawal.
      expect(decodeEntities(snippet)).toContain(`alt="tech accord: acme.test's status in the registry"`);
    });

    it('shows a withdrawal with its date and its reason as text', async () => {
      const html = await page('/signatories/quit.test');
      expect(html).toContain('status-panel-withdrawn');
      expect(html).toMatch(/<strong>Withdrawn on <time datetime="[^"]+">[^<]+<\/time><\/strong>/);
      expect(html).toContain(`<q>${escapeLikeHandlebars(XSS_REASON)}</q>`);
      expect(html).toContain(`<a href="/log/entries/${f.indexes['quit-withdraw']}">`);
      expect(html).toContain('alt="tech accord: withdrawn"');
      expect(html).not.toContain('Signatory since');
    });

    it('shows a delisting with the reason the registry published', async () => {
      const html = await page('/signatories/gone.test');
      expect(html).toContain('status-panel-delisted');
      expect(html).toContain('Delisted by the registry on');
      expect(html).toContain(`(<a href="/log/entries/${f.indexes['gone-delist']}">log entry ${f.indexes['gone-delist']}</a>)`);
      expect(html).toContain(`<q>${escapeLikeHandlebars(DELIST_REASON)}</q>`);
      expect(html).toContain('<td data-label="Type">Registry notice</td>');
    });

    it('says when a current signatory was relisted, and why', async () => {
      const html = await page(`/signatories/${RELISTED}`);
      expect(html).toContain('status-panel-signatory');
      expect(html).toMatch(new RegExp(`Relisted by the registry on <time datetime="[^"]+">[^<]+</time> \\(<a href="/log/entries/${f.indexes['relisted-relist']}">log entry ${f.indexes['relisted-relist']}</a>\\), after a delisting`));
      expect(html).toContain(`Reason published by the registry: <q>${RELIST_REASON}</q>`);
      expect(await page('/signatories/acme.test')).not.toContain('Relisted by the registry');
    });

    it('redirects the address with a trailing slash to the page, query kept', async () => {
      const res = await request(f.app).get('/signatories/acme.test/?page=1');
      expect(res.status).toBe(301);
      expect(res.headers.location).toBe('/signatories/acme.test?page=1');
    });

    it('redirects an upper-case domain to its canonical form', async () => {
      const res = await request(f.app).get('/signatories/ACME.test');
      expect(res.status).toBe(301);
      expect(res.headers.location).toBe('/signatories/acme.test');
    });
  });

  describe('GET /log', () => {
    it('shows the checkpoint note, recent checkpoints and entries linking to their pages', async () => {
      const html = await page('/log');
      const served = await request(f.app).get('/log/checkpoint');
      expect(preText(html, 'Signed checkpoint note')).toBe(served.text);
      expect(html).toContain('Recent checkpoints, newest first');
      const size = Number(served.text.split('\n')[1]);
      expect(html).toContain(`Entries 0 to ${size - 1}, newest first`);
      for (let i = 0; i < size; i++) expect(html).toContain(`<a href="/log/entries/${i}">${i}</a>`);
    });
  });

  describe('GET /log?page', () => {
    it('clamps a page beyond the end to the last page', async () => {
      const html = await page('/log?page=999');
      expect(html).toContain('<a href="/log/entries/0">0</a>');
    });
  });

  describe('assets', () => {
    it('serves the stylesheet, the page script and the core bundle from this site', async () => {
      const css = await request(f.app).get('/assets/style.css');
      expect(css.status).toBe(200);
      expect(css.type).toBe('text/css');
      const script = await request(f.app).get('/assets/verify-bundle.js');
      expect(script.status).toBe(200);
      expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(script.text).toContain("from '/assets/accord-core.js'");
      const core = await request(f.app).get('/assets/accord-core.js');
      expect(core.status).toBe(200);
      expect(core.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(core.text).toMatch(/export\s*\{[^}]*verifyProofBundle/);
      const again = await request(f.app).get('/assets/accord-core.js').set('if-none-match', core.headers.etag as string);
      expect(again.status).toBe(304);
    });

    it('names an icon on every page, and sends a browser asking for /favicon.ico to it', async () => {
      expect(await page('/')).toContain('<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">');
      const ico = await request(f.app).get('/favicon.ico');
      expect(ico.status).toBe(301);
      expect(ico.headers.location).toBe('/assets/favicon.svg');
      const svg = await request(f.app).get('/assets/favicon.svg');
      expect(svg.status).toBe(200);
      expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    });
  });

  describe('GET /log/entries/:index', () => {
    it('shows the type, the exact bytes, a readable form and an inclusion proof that verifies', async () => {
      const index = f.indexes['acme-pledge']!;
      const html = await page(`/log/entries/${index}`);
      const raw = await request(f.app).get(`/api/v1/entries/${index}`).buffer(true).parse((res, cb) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => cb(null, Buffer.concat(chunks)));
      });
      const bytes = new Uint8Array(raw.body as Buffer);
      expect(html).toContain(`<h1>Entry ${index}: Pledge</h1>`);
      expect(html).toContain('<code>AccordPledge</code>');
      expect(preText(html, 'The exact bytes of the entry')).toBe(Buffer.from(bytes).toString('utf8'));
      expect(JSON.parse(preText(html, 'The statement, pretty-printed'))).toEqual(JSON.parse(Buffer.from(bytes).toString('utf8')));
      expect(preText(html, 'The statement, pretty-printed')).toContain('\n  "credentialSubject": {');
      const proof = preText(html, 'Inclusion proof');
      const cp = verifyTlogProof(proof, bytes, f.registry.keys.logVerifierKey);
      expect(cp.size).toBeGreaterThan(index);
    });

    it('marks a registry statement as issued by the attestation key', async () => {
      const html = await page('/log/entries/0');
      expect(html).toContain("(the registry's attestation key)");
      expect(html).toContain(f.registry.keys.attestationDid);
    });
  });

  describe('GET /join', () => {
    it('gives the exact commands of DESIGN section 8', async () => {
      const html = decodeEntities(await page('/join'));
      expect(html).toContain('npx accord-keygen --did did:web:example.com --out key.json');
      expect(html).toContain('https://example.com/.well-known/did.json');
      expect(html).toMatch(/npx accord-sign pledge --key key\.json --registry http:\/\/127\.0\.0\.1:\d+ --log-key \S+ \\\n {2}--name "Example Corp" --country CH --website https:\/\/example\.com\//);
      expect(html).toContain('--did-json did.json');
      expect(html).toMatch(/npx accord-sign withdraw --key key\.json --registry \S+ --log-key \S+ --reason "Why we withdraw"/);
      for (const flag of ['--security-txt', '--disclosure-policy', '--patch-policy', '--dry-run', '--receipt']) expect(html).toContain(flag);
    });
  });

  describe('GET /about', () => {
    it("publishes the registry's keys and how to audit", async () => {
      const html = await page('/about');
      const k = f.registry.keys;
      for (const v of [k.origin, k.logVerifierKey, k.attestationDid]) expect(decodeEntities(html)).toContain(v);
      expect(decodeEntities(html)).toContain(`npx accord-verify http://127.0.0.1`);
      expect(html).toContain('https://c2sp.org/tlog-tiles');
      expect(html).toContain('https://c2sp.org/tlog-checkpoint');
    });
  });

  describe('unknown things', () => {
    it.each([
      ['/signatories/nobody.test'],
      ['/signatories/not_a_domain'],
      ['/log/entries/99999'],
      ['/log/entries/abc'],
      ['/log/entries/01'],
      ['/no/such/page'],
    ])('GET %s is a 404 HTML error page', async (path) => {
      const res = await request(f.app).get(path);
      expect(res.status).toBe(404);
      expect(res.type).toBe('text/html');
      expect(res.text).toContain('<h1>Not found</h1>');
      expect(res.text).toContain('<main id="main"');
      expectWellFormedPage(res.text);
    });
  });

  describe('a path that is markup', () => {
    it('is echoed only as text on the 404 page', async () => {
      const res = await request(f.app).get('/signatories/%3Cscript%3Ealert(1)%3C%2Fscript%3E');
      expect(res.status).toBe(404);
      expect(res.text).not.toContain(XSS_NAME);
      expectWellFormedPage(res.text);
    });
  });

  describe('a name that is markup', () => {
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;';
    it.each([
      ['/'],
      ['/signatories'],
      ['/signatories?q=script'],
      ['/signatories/evil.test'],
      ['/log/entries/EVIL'],
    ])('renders as text on %s', async (p) => {
      const path = p.replace('EVIL', String(f.indexes['evil-pledge']));
      const html = await page(path);
      expect(html).not.toContain(XSS_NAME);
      expect(html).toContain(path.startsWith('/log/') ? '&lt;script&gt;alert(1)&lt;/script&gt;' : escaped);
      expectWellFormedPage(html);
    });

    it('renders a search for it as text, in the field and in the title', async () => {
      const res = await request(f.app).get('/signatories').query({ q: XSS_NAME });
      expect(res.status).toBe(200);
      expect(res.text).not.toContain(XSS_NAME);
      expect(res.text).toContain(`value="${escapeLikeHandlebars(XSS_NAME)}"`);
      expect(res.text).toContain('<a href="/signatories/evil.test">');
    });

    it('renders a markup withdrawal reason as text on the signatory page and its entry page', async () => {
      for (const path of ['/signatories/quit.test', `/log/entries/${f.indexes['quit-withdraw']}`]) {
        const html = await page(path);
        expect(html).not.toContain('<img src=x');
      }
    });
  });
});

describe('views', () => {
  describe('when a template is broken', () => {
    function viewsCopy(): string {
      const dir = mkdtempSync(join(tmpdir(), 'accord-views-'));
      cpSync(VIEWS_DIR, dir, { recursive: true });
      return dir;
    }

    it.each([
      ['a syntax error', 'about.hbs', '<h1>{{#if x}}</h1>'],
      ['an unknown helper', 'join.hbs', '<h1>{{noSuchHelper x}}</h1>'],
      ['a missing partial', 'log.hbs', '<h1>{{> noSuchPartial}}</h1>'],
    ])('fails at boot with VIEWS_INVALID on %s', (_what, file, text) => {
      const dir = viewsCopy();
      try {
        writeFileSync(join(dir, file), text);
        let err: unknown;
        try {
          compileViews(dir);
        } catch (e) {
          err = e;
        }
        expect(isAccordError(err, 'VIEWS_INVALID')).toBe(true);
        expect((err as Error).message).toContain(file);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('fails at boot when a view is missing', () => {
      const dir = viewsCopy();
      try {
        rmSync(join(dir, 'entry.hbs'));
        expect(() => compileViews(dir)).toThrow(/entry\.hbs/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  describe('renderErrorPage', () => {
    it('escapes the message', () => {
      const html = renderErrorPage(404, 'NOT_FOUND', XSS_NAME);
      expect(html).not.toContain(XSS_NAME);
      expect(html).toContain('&lt;script&gt;');
      expect(html).toContain('<h1>Not found</h1>');
      expect(html).toContain('<code>NOT_FOUND</code>');
    });
  });

  it('keeps the names of the formula fixtures intact on pages (only the CSV neutralises them)', async () => {
    for (const [domain, name] of Object.entries(FORMULA_NAMES)) {
      const html = await page(`/signatories/${domain}`);
      expect(decodeEntities(html)).toContain(`<strong>${name}</strong>`);
    }
  });

  it('keeps a multi-line command intact inside <pre> (no partial indentation)', async () => {
    const html = await page('/join');
    expect(html).toMatch(/\\\n {2}--name/);
  });
});

/** Handlebars' escaping of a string (what a template writes for `{{value}}`). */
function escapeLikeHandlebars(s: string): string {
  const map: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#x27;', '`': '&#x60;', '=': '&#x3D;' };
  return s.replace(/[&<>"'`=]/g, (c) => map[c]!);
}

describe('the page of a signatory with many statements', () => {
  it('shows the latest 50, oldest first, with links to the earlier ones, so the page stays small', async () => {
    const h = await startHarness({ domains: ['busy.test'] });
    try {
      const c = new Company('busy.test', h.host);
      const indexes: number[] = [];
      let previous: string | null = null;
      // 1 attestation + 52 pledges: 53 statements, two pages.
      for (let i = 0; i < 52; i++) {
        const res = await h.submit(c.pledge({ accord: h.accord, previous, name: `Busy ${i}` }));
        expect(res.status).toBe(201);
        previous = res.body.digest as string;
        indexes.push(res.body.index as number);
      }
      const logIndexes = (html: string) => [...html.matchAll(/<th scope="row" data-label="Log index"><a href="\/log\/entries\/(\d+)">/g)].map((m) => Number(m[1]));
      const first = decodeEntities((await request(h.app).get('/signatories/busy.test').expect(200)).text);
      // The latest 50 pledges, in log order; the attestation and the first two pledges are earlier.
      expect(logIndexes(first)).toEqual(indexes.slice(2));
      expect(first).toContain('statements 4 to 53 of 53 here');
      expect(first).toContain('<a href="/signatories/busy.test?page=2" rel="next">Earlier statements</a>');
      expect(first).not.toContain('Later statements');
      const second = decodeEntities((await request(h.app).get('/signatories/busy.test?page=2').expect(200)).text);
      expect(logIndexes(second)).toEqual([indexes[0]! - 1, indexes[0]!, indexes[1]!]);
      expect(second).toContain('<a href="/signatories/busy.test" rel="prev">Later statements</a>');
      expect(second).not.toContain('Earlier statements');
      // Past the last page: the last page.
      expect(logIndexes((await request(h.app).get('/signatories/busy.test?page=9').expect(200)).text)).toEqual(logIndexes(second));
    } finally {
      await h.close();
    }
  });
});
