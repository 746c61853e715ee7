/**
 * The pages people read (DESIGN 7): server-rendered HTML that works without JavaScript. Thin
 * handlers: each asks the read model for plain data and renders one view. Unknown domains and
 * indexes throw NOT_FOUND, which the app's error handler renders with `renderErrorPage`.
 */
import express from 'express';
import type { Response, Router } from 'express';
import type { SignatoryStatus } from '../../core/audit/registry-state.ts';
import { AccordError, describeValue } from '../../core/errors.ts';
import { didWebFromDomain } from '../../core/statements/did.ts';
import { AnswerCache, sendAnswer } from '../answer-cache.ts';
import { assetsRouter } from '../assets.ts';
import { readModelFor, siteUrlOf, type RouteDeps, type SignatoryView } from '../read-model.ts';
import { views, type LayoutData, type ViewName } from '../views.ts';
import { badgeInfo, badgeSubject, eventTitle } from './feeds.ts';
import { historyPageCount, historyPageWindow } from './history-pages.ts';

type PageData = LayoutData & Record<string, unknown>;

/** Log size for pages that do not depend on the log (only on the site URL): never recomputed. */
const STATIC_PAGE = 0;

function notFound(message: string): AccordError {
  return new AccordError('NOT_FOUND', message);
}

export const SIGNATORIES_PER_PAGE = 50;
export const ENTRIES_PER_PAGE = 50;
const MAX_QUERY_LENGTH = 200;
const STATUS_FILTERS = ['current', 'withdrawn', 'delisted', 'all'] as const;
type StatusFilter = (typeof STATUS_FILTERS)[number];

/** A positive page number from the query string; anything else is page 1. */
function pageParam(v: unknown): number {
  if (typeof v !== 'string' || !/^[1-9][0-9]{0,6}$/.test(v)) return 1;
  return Number(v);
}

function queryString(params: Record<string, string | number | undefined>): string {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s === '' ? '' : `?${s}`;
}

function pagination(path: string, page: number, pages: number, params: Record<string, string | undefined>) {
  return {
    page,
    pages,
    prevHref: page > 1 ? `${path}${queryString({ ...params, page: page - 1 === 1 ? undefined : page - 1 })}` : null,
    nextHref: page < pages ? `${path}${queryString({ ...params, page: page + 1 })}` : null,
  };
}

const LINK_LABELS: Readonly<Record<string, string>> = {
  website: 'Website',
  securityTxt: 'security.txt',
  disclosurePolicy: 'Vulnerability disclosure policy',
  patchPolicy: 'Security patch policy',
};

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

function countryName(code: string): string {
  try {
    const name = regionNames.of(code);
    return name === undefined || name === code ? code : `${name} (${code})`;
  } catch {
    return code;
  }
}

/**
 * One page of a signatory's statements (history-pages.ts). A page past the last shows the last
 * (the earliest statements).
 */
function historyPage(s: SignatoryView, requested: number) {
  const total = s.history.length;
  const pages = historyPageCount(total);
  const page = Math.min(requested, pages);
  const { start, end } = historyPageWindow(total, page);
  const path = `/signatories/${s.domain}`;
  return {
    statements: s.history.slice(start, end),
    history: {
      total,
      pages,
      first: start + 1,
      last: end,
      earlierHref: page < pages ? `${path}${queryString({ page: page + 1 })}` : null,
      laterHref: page > 1 ? `${path}${queryString({ page: page === 2 ? undefined : page - 1 })}` : null,
    },
  };
}

function signatoryPage(s: SignatoryView, site: string, logKey: string, historyPageNo: number) {
  const profile: { label: string; value: string; href?: string }[] = [];
  if (s.country !== null) profile.push({ label: 'Country', value: countryName(s.country) });
  for (const l of s.links) profile.push({ label: LINK_LABELS[l.key] ?? l.key, value: l.url, href: l.url });
  const pagePath = `/signatories/${s.domain}`;
  const bundlePath = `${pagePath}/proof.json`;
  const file = `${s.domain}-proof.json`;
  const badge = s.status === null ? null : badgeInfo(s.status, s.since);
  return {
    title: s.domain,
    description: `${s.domain} and the tech-sector accord: status, statements and proofs.`,
    nav: 'signatories',
    script: '/assets/verify-bundle.js',
    domain: s.domain,
    did: s.did,
    name: s.name,
    status: s.status ?? 'none',
    statusClass: s.status ?? 'none',
    since: s.since,
    accord: s.accord === null ? null : { ...s.accord, principleCount: s.accord.principles.length },
    withdrawal: s.withdrawal,
    notice: s.status === 'delisted' ? s.notice : null,
    relisted: s.status !== 'delisted' && s.notice?.action === 'relist' ? s.notice : null,
    profile,
    ...historyPage(s, historyPageNo),
    keys: s.keys,
    keysSeenAt: s.state.attestation?.observedAt ?? null,
    attestations: s.attestations,
    bundlePath,
    logKey,
    downloadCommand: `curl -fsS -o ${file} ${site}${bundlePath}`,
    verifyCommand: `npx accord-verify ${file} --log-key ${logKey}`,
    badge:
      badge === null
        ? null
        : {
            path: `${pagePath}/badge.svg`,
            alt: badge.alt,
            width: badge.width,
            // The image follows the status; a text alternative copied into another site would not,
            // so the snippet's names only what the badge is about.
            snippet: `<a href="${site}${pagePath}"><img src="${site}${pagePath}/badge.svg" alt="${badgeSubject(s.domain)}" height="20"></a>`,
          },
  };
}

export function pagesRouter(deps: RouteDeps): Router {
  const model = readModelFor(deps);
  const answers = new AnswerCache();
  const router = express.Router();
  router.use(assetsRouter());

  /**
   * Renders a page through the answer cache (answer-cache.ts): `build` runs again only after the
   * log grew. `key` must name everything else the page depends on (route, parameters, site URL).
   */
  const page = async (res: Response, key: readonly unknown[], build: () => Promise<[ViewName, PageData]>, logSize?: number): Promise<void> => {
    const size = logSize ?? (await model.logSize());
    const answer = await answers.get(JSON.stringify(key), size, async () => {
      const [view, data] = await build();
      return views.render(view, data);
    });
    sendAnswer(res, 'html', answer);
  };

  router.get('/', async (req, res) => {
    const site = siteUrlOf(req);
    await page(res, ['home', site], async () => {
      const [counts, checkpoint, accords, recent] = await Promise.all([model.counts(), model.latestCheckpoint(), model.accords(), model.recentEvents(8)]);
      const current = accords[accords.length - 1] ?? null;
      return [
        'home',
        {
          title: 'The tech-sector accord',
          description: 'Digital Switzerland: 100% defense, 0% offense. A public, verifiable registry of technology companies that pledge to stay out of cyberwar.',
          nav: '',
          counts,
          checkpoint,
          accord: current,
          // The same words as the feed's titles, without the domain the page links before them.
          recent: recent.map((e) => ({ ...e, what: eventTitle(e).slice(e.domain.length + 1) })),
          verifyCommand: `npx accord-verify ${site} --log-key ${model.keys.logKey}`,
        },
      ];
    });
  });

  router.get('/accord', async (_req, res) => {
    await page(res, ['accord'], async () => {
      const accords = await model.accords();
      const current = accords[accords.length - 1] ?? null;
      return [
        'accord',
        {
          title: current?.title ?? 'The accord',
          nav: 'accord',
          current,
          accords: [...accords].reverse(),
          older: accords.slice(0, -1).reverse(),
        },
      ];
    });
  });

  router.get('/signatories', async (req, res) => {
    const rawQ = typeof req.query.q === 'string' ? req.query.q : '';
    const q = rawQ.trim().slice(0, MAX_QUERY_LENGTH);
    const rawStatus = typeof req.query.status === 'string' ? req.query.status : '';
    // Searching looks everywhere unless a status is chosen: a reader looking for a name wants to
    // find it even if that organisation withdrew.
    const status: StatusFilter = (STATUS_FILTERS as readonly string[]).includes(rawStatus) ? (rawStatus as StatusFilter) : q === '' ? 'current' : 'all';
    const filter: SignatoryStatus | 'all' = status === 'current' ? 'signatory' : status;
    const pageNo = pageParam(req.query.page);
    const statusParam = rawStatus === '' ? undefined : status;
    await page(res, ['signatories', q, status, statusParam ?? null, pageNo], async () => {
      const { items, total } = await model.listSignatories({ q, status: filter, limit: SIGNATORIES_PER_PAGE, offset: (pageNo - 1) * SIGNATORIES_PER_PAGE });
      const pages = Math.max(1, Math.ceil(total / SIGNATORIES_PER_PAGE));
      const captions: Record<StatusFilter, string> = {
        current: 'Current signatories',
        withdrawn: 'Organisations that withdrew',
        delisted: 'Organisations delisted by the registry',
        all: 'All organisations that ever signed',
      };
      return [
        'signatories',
        {
          title: q === '' ? 'Signatories' : `Signatories matching “${q}”`,
          nav: 'signatories',
          q,
          status,
          items,
          total,
          caption: `${captions[status]}${pages > 1 ? `, page ${pageNo} of ${pages}` : ''}`,
          pagination: pagination('/signatories', pageNo, pages, { q, status: statusParam }),
        },
      ];
    });
  });

  router.get('/signatories/:domain', async (req, res) => {
    // Express matches "/signatories/x/" here too: one address per page, for links and caches.
    if (req.path.endsWith('/')) {
      const query = req.originalUrl.indexOf('?');
      res.redirect(301, `${req.path.slice(0, -1)}${query === -1 ? '' : req.originalUrl.slice(query)}`);
      return;
    }
    const domain = String(req.params.domain);
    if (didWebFromDomain(domain) === null) {
      const lower = domain.toLowerCase();
      if (lower !== domain && didWebFromDomain(lower) !== null) {
        res.redirect(301, `/signatories/${lower}`);
        return;
      }
      throw notFound(`${describeValue(domain)} is not a domain a signatory can have.`);
    }
    const site = siteUrlOf(req);
    const historyPageNo = pageParam(req.query.page);
    await page(res, ['signatory', domain, site, historyPageNo], async () => {
      const s = await model.signatory(domain);
      if (s === null) throw notFound(`No organisation with the domain ${domain} is in the registry.`);
      return ['signatory', signatoryPage(s, site, model.keys.logKey, historyPageNo)];
    });
  });

  router.get('/log', async (req, res) => {
    const requested = pageParam(req.query.page);
    await page(res, ['log', requested], async () => {
      const [size, checkpoint, checkpoints] = await Promise.all([model.entryCount(), model.latestCheckpoint(), model.recentCheckpoints(10)]);
      const pages = Math.max(1, Math.ceil(size / ENTRIES_PER_PAGE));
      const pageNo = Math.min(requested, pages);
      const before = size - (pageNo - 1) * ENTRIES_PER_PAGE;
      const entries = size === 0 ? [] : await model.recentEntries(ENTRIES_PER_PAGE, before);
      const first = entries[entries.length - 1]?.index;
      const last = entries[0]?.index;
      return [
        'log',
        {
          title: 'The log',
          nav: 'log',
          checkpoint,
          checkpoints,
          entries,
          entriesCaption: first === undefined ? 'Entries' : `Entries ${first} to ${last}, newest first`,
          pagination: pagination('/log', pageNo, pages, {}),
        },
      ];
    });
  });

  router.get('/log/entries/:index', async (req, res) => {
    const raw = String(req.params.index);
    if (!/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
      throw notFound(`${describeValue(raw)} is not a log index.`);
    }
    const index = Number(raw);
    await page(res, ['entry', index], async () => {
      const e = await model.entry(index);
      if (e === null) throw notFound(`The log has no entry ${raw}.`);
      return [
        'entry',
        {
          title: `Entry ${e.index}`,
          nav: 'log',
          index: e.index,
          type: e.type,
          domain: e.domain,
          issuer: e.issuer,
          registryIssued: e.issuer === model.keys.attestationKey,
          validFrom: e.validFrom,
          digest: e.digest,
          byteLength: e.bytes.length,
          pretty: e.pretty,
          canonical: e.canonical,
          proof: e.proof?.text ?? null,
          proofSize: e.proof?.size ?? null,
        },
      ];
    });
  });

  router.get('/join', async (req, res) => {
    const site = siteUrlOf(req);
    const logKey = model.keys.logKey;
    await page(
      res,
      ['join', site],
      async () => [
        'join',
        {
          title: 'Sign the accord',
          nav: 'join',
          keygenCommand: 'npx accord-keygen --did did:web:example.com --out key.json',
          didUrl: 'https://example.com/.well-known/did.json',
          pledgeCommand: `npx accord-sign pledge --key key.json --registry ${site} --log-key ${logKey} \\\n  --name "Example Corp" --country CH --website https://example.com/ \\\n  --security-txt https://example.com/.well-known/security.txt`,
          updateCommand: `npx accord-sign pledge --key key.json --registry ${site} --log-key ${logKey} --patch-policy https://example.com/patches`,
          rotateCommand: `npx accord-keygen --did did:web:example.com --out key-new.json --did-json did.json\n# publish the updated did.json, then:\nnpx accord-sign pledge --key key-new.json --registry ${site} --log-key ${logKey}`,
          withdrawCommand: `npx accord-sign withdraw --key key.json --registry ${site} --log-key ${logKey} --reason "Why we withdraw"`,
          logKey: `--log-key ${logKey}`,
        },
      ],
      STATIC_PAGE,
    );
  });

  router.get('/about', async (req, res) => {
    const site = siteUrlOf(req);
    await page(
      res,
      ['about', site],
      async () => [
        'about',
        {
          title: 'About and audit',
          nav: 'about',
          keys: model.keys,
          verifyCommand: `npx accord-verify ${site} --log-key ${model.keys.logKey} --state accord-state.txt`,
          exportCommand: `npx accord-export --registry ${site} --out accord-mirror/\nnpx accord-verify accord-mirror/ --log-key ${model.keys.logKey}`,
        },
      ],
      STATIC_PAGE,
    );
  });

  return router;
}
