/**
 * Feeds for readers, spreadsheets and company websites (DESIGN 7): the Atom feed, the CSV export
 * and the status badge, served by the real app over a real registry (pages-fixture.ts).
 */
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badgeSvg, CSV_COLUMNS, escapeXml, neutraliseCell, signatoriesCsv } from '../../src/server/routes/feeds.ts';
import { FORMULA_NAMES, RELISTED, startPagesFixture, XSS_NAME, XSS_REASON, type PagesFixture } from './pages-fixture.ts';

let f: PagesFixture;

beforeAll(async () => {
  f = await startPagesFixture();
});

afterAll(async () => {
  await f?.close();
});

/** supertest buffers text/* only; read any body as UTF-8 text. */
async function getText(path: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const res = await request(f.app)
    .get(path)
    .buffer(true)
    .parse((r, cb) => {
      const chunks: Buffer[] = [];
      r.on('data', (c: Buffer) => chunks.push(c));
      r.on('end', () => cb(null, Buffer.concat(chunks).toString('utf8')));
    });
  return { status: res.status, headers: res.headers as Record<string, string>, body: res.body as string };
}

/** RFC 4180 parser, enough to read back what the registry wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
      i++;
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

describe('GET /feed.atom', () => {
  it('is an Atom feed of pledges, withdrawals and notices, newest first, linking to signatory pages', async () => {
    const res = await getText('/feed.atom');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/atom\+xml/);
    const xml = res.body;
    expect(xml).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<feed xmlns="http:\/\/www.w3.org\/2005\/Atom">/);
    const entries = xml.split('<entry>').slice(1);
    // 2 acme pledges, evil's pledge and update, quit pledge + withdrawal, 4 formula names, gone's
    // pledge and delisting, a delisting and a relisting: 14 events. evil's unchanged renewal is no news.
    expect(entries).toHaveLength(14);
    expect(xml).not.toContain(`/log/entries/${f.indexes['evil-renewal']}<`);
    const ids = entries.map((e) => Number(/<id>[^<]*\/log\/entries\/(\d+)<\/id>/.exec(e)![1]));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const quit = entries.find((e) => e.includes(`/log/entries/${f.indexes['quit-withdraw']}<`))!;
    expect(quit).toContain('quit.test withdrew from the accord');
    expect(quit).toMatch(/<link href="http:\/\/127\.0\.0\.1:\d+\/signatories\/quit\.test"\/>/);
    const update = entries.find((e) => e.includes(`/log/entries/${f.indexes['evil-update']}<`))!;
    expect(update).toContain('evil.test updated its pledge (country)');
    const delisting = entries.find((e) => e.includes(`/log/entries/${f.indexes['gone-delist']}<`))!;
    expect(delisting).toContain('gone.test was delisted by the registry');
    expect(delisting).toContain('Reason published by the registry');
    const relisting = entries.find((e) => e.includes(`/log/entries/${f.indexes['relisted-relist']}<`))!;
    expect(relisting).toContain(`${RELISTED} was relisted by the registry`);
    const first = entries.find((e) => e.includes(`/log/entries/${f.indexes['acme-pledge']}<`))!;
    expect(first).toContain('acme.test signed the accord');
    expect(first).toContain('Acme Corp');
  });

  it('carries a markup name and reason as escaped text, never as markup', async () => {
    const xml = (await getText('/feed.atom')).body;
    // type="html" elements hold HTML: the name must be escaped inside them.
    expect(xml).not.toContain(XSS_NAME);
    expect(xml).not.toMatch(/<script/i);
    expect(xml).not.toContain('<img');
    expect(xml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(xml).toContain(escapeXml(XSS_REASON));
    // Every CDATA section ends where it should: no "]]>" from data.
    expect(xml.split('<![CDATA[').length).toBe(xml.split(']]>').length);
  });
});

describe('GET /signatories.csv', () => {
  it('has the columns of DESIGN 7 and one row per organisation that ever signed', async () => {
    const res = await getText('/signatories.csv');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv; charset=utf-8/);
    expect(res.headers['content-disposition']).toBe('attachment; filename="signatories.csv"');
    const rows = parseCsv(res.body.replace(/^\uFEFF/, ''));
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    const byDomain = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byDomain.size).toBe(8);
    const acme = byDomain.get('acme.test')!;
    expect(acme).toEqual([
      'acme.test',
      'did:web:acme.test',
      'Acme Corp',
      'signatory',
      expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      f.accord,
      f.heads['acme.test'],
      'CH',
      'https://acme.test/',
      acme[4], // status_since: a signatory's status holds since its pledge
    ]);
    expect(byDomain.get('quit.test')![3]).toBe('withdrawn');
    expect(byDomain.get('gone.test')![3]).toBe('delisted');
    // status_since: the withdrawal, the delisting: the dates of those entries.
    const validFrom = async (label: string): Promise<string> => (JSON.parse((await getText(`/api/v1/entries/${f.indexes[label]}`)).body) as { validFrom: string }).validFrom;
    expect(byDomain.get('quit.test')![9]).toBe(await validFrom('quit-withdraw'));
    expect(byDomain.get('gone.test')![9]).toBe(await validFrom('gone-delist'));
    expect(byDomain.get('evil.test')![2]).toBe(XSS_NAME);
  });

  it('neutralises cells that a spreadsheet would run as a formula', async () => {
    const rows = parseCsv((await getText('/signatories.csv')).body.replace(/^\uFEFF/, ''));
    for (const [domain, name] of Object.entries(FORMULA_NAMES)) {
      const row = rows.find((r) => r[0] === domain)!;
      expect(row[2]).toBe(`'${name}`);
    }
    for (const row of rows) for (const cell of row) expect(cell).not.toMatch(/^[=+\-@]/);
  });
});

describe('neutraliseCell', () => {
  it.each(['=1+1', '+1', '-1', '@SUM(A1)'])('prefixes %s with a quote', (v) => {
    expect(neutraliseCell(v)).toBe(`'${v}`);
  });
  it.each(['Acme', '1+1', "'=already", '', ' =x'])('leaves %j alone', (v) => {
    expect(neutraliseCell(v)).toBe(v);
  });
  it('is applied to every column, not just the name', () => {
    const csv = signatoriesCsv([
      { domain: 'a.test', did: 'did:web:a.test', name: 'A', status: 'signatory', since: '', status_since: '', accord: '', head: '', country: '', website: '=cmd' },
    ]);
    expect(csv).toContain(",'=cmd,\r\n");
  });
});

describe('GET /signatories/:domain/badge.svg', () => {
  it.each([
    ['acme.test', 200, /signatory since \d{4}-\d\d-\d\d/],
    ['quit.test', 200, /withdrawn/],
    ['gone.test', 200, /delisted/],
    ['nobody.test', 404, /not a signatory/],
  ])('%s: status %i, says %s', async (domain, status, text) => {
    const res = await getText(`/signatories/${domain}/badge.svg`);
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.body).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" [^>]*role="img" aria-label="tech accord: [^"]+">/);
    expect(res.body).toMatch(text);
    expect(res.body).toContain('<title>tech accord: ');
    expect(res.body.endsWith('</svg>')).toBe(true);
  });

  it('dates a signatory by the day its membership began', async () => {
    const page = await request(f.app).get('/signatories/acme.test');
    const since = /Signatory since <time datetime="(\d{4}-\d\d-\d\d)T/.exec(page.text)![1]!;
    expect((await getText('/signatories/acme.test/badge.svg')).body).toContain(`signatory since ${since}`);
  });

  it('escapes its text as XML', () => {
    const svg = badgeSvg('signatory', '2026-11-22T10:00:00Z');
    expect(svg).toContain('>signatory since 2026-11-22<');
    expect(escapeXml(`<a href="x">&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
    // Nothing between tags contains a raw markup character.
    for (const text of svg.match(/>[^<]*</g) ?? []) expect(text.slice(1, -1)).not.toMatch(/[<>&"]/);
  });
});
