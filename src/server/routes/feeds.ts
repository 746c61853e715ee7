/**
 * For readers, spreadsheets and company websites (DESIGN 7): `/feed.atom` (pledges and
 * withdrawals, newest first), `/signatories.csv` and `/signatories/:domain/badge.svg`.
 * Everything a signatory wrote is hostile text here: the feed escapes it as HTML inside its
 * `type="html"` elements, the CSV neutralises formula cells, the badge escapes XML.
 */
import { stringify } from 'csv-stringify/sync';
import express from 'express';
import type { Request, Router } from 'express';
import { Feed } from 'feed';
import type { SignatoryStatus } from '../../core/audit/registry-state.ts';
import { AnswerCache, sendAnswer } from '../answer-cache.ts';
import { formatDay } from '../views.ts';
import { readModelFor, siteUrlOf, type CsvRow, type EventView, type RouteDeps } from '../read-model.ts';

/** Entries in the Atom feed. */
export const FEED_LENGTH = 50;

/** Escapes text for HTML and XML (both element content and attribute values). */
export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/** `since`: the pledge that began the current (or last) membership; `status_since`: since when the status holds. */
// status_since came later: last, so that a reader of the earlier columns by position still works.
export const CSV_COLUMNS = ['domain', 'did', 'name', 'status', 'since', 'accord', 'head', 'country', 'website', 'status_since'] as const;

/**
 * DESIGN 7: a cell beginning with `=`, `+`, `-` or `@` gets a leading `'`, so a spreadsheet shows
 * it as text instead of running it as a formula (OWASP "CSV Injection").
 */
export function neutraliseCell(value: string): string {
  return /^[=+\-@]/.test(value) ? `'${value}` : value;
}

/** RFC 4180 CSV with a header row, CRLF line ends and a UTF-8 byte order mark for spreadsheets. */
export function signatoriesCsv(rows: readonly CsvRow[]): string {
  const records = rows.map((r) => CSV_COLUMNS.map((c) => neutraliseCell(r[c])));
  return stringify(records, { header: true, columns: [...CSV_COLUMNS], record_delimiter: 'windows', bom: true });
}

// ---------------------------------------------------------------------------------------------
// Badge
// ---------------------------------------------------------------------------------------------

const BADGE_LABEL = 'tech accord';

/** Approximate advance widths (px) of 11px Verdana, the badge font; unknown characters count 7. */
function textWidth(s: string): number {
  let w = 0;
  for (const ch of s) {
    if ('il.:,;|!\'1 '.includes(ch)) w += 3.7;
    else if ('frtj-()'.includes(ch)) w += 4.6;
    else if ('mwMW'.includes(ch)) w += 10.5;
    else if (/[0-9]/.test(ch)) w += 7;
    else if (/[A-Z]/.test(ch)) w += 7.6;
    else w += 6.6;
  }
  return Math.ceil(w);
}

export interface BadgeInfo {
  /** The text on the right-hand side. */
  message: string;
  color: string;
  /** Text alternative of the whole badge. */
  alt: string;
  width: number;
}

/** The text alternative of a badge embedded elsewhere: true whatever the status becomes. */
export function badgeSubject(domain: string): string {
  return `${BADGE_LABEL}: ${domain}'s status in the registry`;
}

/** What the badge says for a status (DESIGN 7: "signatory since YYYY-MM-DD", "withdrawn", "delisted"). */
export function badgeInfo(status: SignatoryStatus | null, since: string | null): BadgeInfo {
  let message: string;
  let color: string;
  if (status === 'signatory') {
    const day = formatDay(since);
    message = day === '' ? 'signatory' : `signatory since ${day}`;
    color = '#1a7f37';
  } else if (status === 'withdrawn') {
    message = 'withdrawn';
    color = '#8a5300';
  } else if (status === 'delisted') {
    message = 'delisted';
    color = '#b91c1c';
  } else {
    message = 'not a signatory';
    color = '#555555';
  }
  const width = textWidth(BADGE_LABEL) + textWidth(message) + 20;
  return { message, color, alt: `${BADGE_LABEL}: ${message}`, width };
}

/** A flat badge (label | message) as SVG; every text is XML-escaped. */
export function badgeSvg(status: SignatoryStatus | null, since: string | null): string {
  const b = badgeInfo(status, since);
  const lw = textWidth(BADGE_LABEL) + 10;
  const mw = textWidth(b.message) + 10;
  const w = lw + mw;
  const label = escapeXml(BADGE_LABEL);
  const msg = escapeXml(b.message);
  const alt = escapeXml(b.alt);
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${alt}">` +
    `<title>${alt}</title>` +
    `<rect width="${lw}" height="20" fill="#333"/>` +
    `<rect x="${lw}" width="${mw}" height="20" fill="${b.color}"/>` +
    `<g fill="#fff" font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11" text-anchor="middle">` +
    `<text x="${lw / 2}" y="14">${label}</text>` +
    `<text x="${lw + mw / 2}" y="14">${msg}</text>` +
    `</g></svg>`
  );
}

// ---------------------------------------------------------------------------------------------
// Atom
// ---------------------------------------------------------------------------------------------

/** What happened, in a few words (the feed's titles, the home page's list). */
export function eventTitle(e: EventView): string {
  if (e.type === 'AccordWithdrawal') return `${e.domain} withdrew from the accord`;
  if (e.type === 'RegistryNotice') return e.action === 'delist' ? `${e.domain} was delisted by the registry` : `${e.domain} was relisted by the registry`;
  if (!e.update) return `${e.domain} signed the accord`;
  if (e.changes !== null && e.changes.length === 0) return `${e.domain} renewed its pledge, unchanged`;
  return `${e.domain} updated its pledge${e.changes === null ? '' : ` (${e.changes.join(', ')})`}`;
}

/**
 * The feed text of an event, as HTML with every value escaped. The quoted texts stand in
 * paragraphs of their own, so no punctuation of ours runs into theirs.
 */
function eventHtml(e: EventView): string {
  const name = e.name === null ? '' : `<p>Name (self-declared): “${escapeXml(e.name)}”</p>`;
  const reason = e.reason === null ? '' : `<p>${e.type === 'RegistryNotice' ? 'Reason published by the registry' : 'Reason given'}: “${escapeXml(e.reason)}”</p>`;
  return `<p>${escapeXml(eventTitle(e))} on ${escapeXml(formatDay(e.validFrom))} (log entry ${e.index}).</p>${name}${reason}`;
}

/** Atom 1.0 (RFC 4287) feed of pledges, withdrawals and the registry's notices, newest first. */
export function atomFeed(events: readonly EventView[], siteUrl: string): string {
  const newest = events[0];
  const feed = new Feed({
    id: `${siteUrl}/feed.atom`,
    title: 'Tech-sector accord: pledges, withdrawals and notices',
    description:
      "Pledges to the tech-sector accord, updates (what changed), withdrawals and the registry's delistings and relistings, as written in its transparency log. Pledges that change nothing are left out.",
    link: `${siteUrl}/`,
    feedLinks: { atom: `${siteUrl}/feed.atom` },
    language: 'en',
    updated: newest === undefined ? new Date(0) : new Date(newest.validFrom),
    generator: false,
    copyright: '',
  });
  for (const e of events) {
    // The feed package writes titles and content as type="html" CDATA, so they are HTML and must
    // be escaped here; escaping also removes any "]]>" that could end the CDATA section.
    feed.addItem({
      title: escapeXml(eventTitle(e)),
      id: `${siteUrl}/log/entries/${e.index}`,
      link: `${siteUrl}/signatories/${e.domain}`,
      date: new Date(e.validFrom),
      published: new Date(e.validFrom),
      description: eventHtml(e),
      content: eventHtml(e),
    });
  }
  return feed.atom1();
}

// ---------------------------------------------------------------------------------------------
// Routes
// ---------------------------------------------------------------------------------------------

function siteOf(req: Request): string {
  return siteUrlOf(req);
}

export function feedsRouter(deps: RouteDeps): Router {
  const model = readModelFor(deps);
  // Feed and CSV are computed again only after the log grew (answer-cache.ts).
  const answers = new AnswerCache({ maxEntries: 64 });
  const router = express.Router();

  router.get('/feed.atom', async (req, res) => {
    const site = siteOf(req);
    const answer = await answers.get(JSON.stringify(['feed', site]), await model.logSize(), async () => atomFeed(await model.recentEvents(FEED_LENGTH), site));
    res.set('Cache-Control', 'public, max-age=60');
    sendAnswer(res, 'application/atom+xml; charset=utf-8', answer);
  });

  router.get('/signatories.csv', async (_req, res) => {
    const answer = await answers.get('csv', await model.logSize(), async () => signatoriesCsv(await model.csvRows()));
    res.set('Content-Disposition', 'attachment; filename="signatories.csv"');
    res.set('Cache-Control', 'public, max-age=60');
    sendAnswer(res, 'text/csv; charset=utf-8; header=present', answer);
  });

  router.get('/signatories/:domain/badge.svg', async (req, res) => {
    const domain = String(req.params.domain);
    const s = await model.signatoryStatus(domain);
    // A badge is shown on someone else's website: keep it short-lived, so a withdrawal or a
    // delisting shows within minutes. An unknown domain still gets an image (status 404), so a
    // page that embeds it shows the truth instead of a broken image.
    res.set('Content-Type', 'image/svg+xml; charset=utf-8');
    res.set('Cache-Control', 'public, max-age=300');
    res.set('X-Content-Type-Options', 'nosniff');
    res.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    if (s === null || s.status === null) {
      res.status(404).send(badgeSvg(null, null));
      return;
    }
    res.send(badgeSvg(s.status, s.since));
  });

  return router;
}
