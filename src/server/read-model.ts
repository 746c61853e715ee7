/**
 * What the pages, feeds and badge read, composed from the storage repositories (all SQL stays in
 * src/storage/*-repo.ts) and the log reader. Every value returned is plain data for a template:
 * strings, numbers, arrays. Statements are parsed again with the core's strict parser before they
 * are shown, so a page never trusts stored bytes more than an auditor would.
 */
import type { Request } from 'express';
import type { Kysely } from 'kysely';
import { signatoryStatus, statusSince, type SignatoryState, type SignatoryStatus } from '../core/audit/registry-state.ts';
import { fromUtf8, toBase64 } from '../core/bytes.ts';
import { isAccordError } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { didWebFromDomain, domainOfDidWeb } from '../core/statements/did.ts';
import type { TypedStatement } from '../core/statements/types.ts';
import { LINK_KEYS, typedStatement } from '../core/statements/types.ts';
import { parseStatementBytes } from '../core/statements/validate.ts';
import { getLatestCheckpoint, getLatestCheckpointSize, getRecentCheckpoints, type CheckpointRow } from '../storage/checkpoints-repo.ts';
import {
  countEntries,
  getAccordEntries,
  getEntriesBySubject,
  getEntry,
  getEntryByDigest,
  getRecentEntries,
  type EntryRow,
  type EntrySummary,
} from '../storage/entries-repo.ts';
import type { Database } from '../storage/schema.ts';
import { LruMap } from './lru-map.ts';
import { pledgeChanges, type SignedPledge } from './pledge-changes.ts';
import { countSignatoriesByStatus, getSignatoryByDomain, listSignatories, type SignatoryRow } from '../storage/signatories-repo.ts';

/** What the read model needs from the registry (see `readSourceOf` in pages.ts for the adapter). */
export interface ReadSource {
  db: Kysely<Database>;
  origin: string;
  /** C2SP signed-note verifier key of the log key. */
  logKey: string;
  /** did:key of the attestation key. */
  attestationKey: string;
  /** C2SP tlog-proof text for an entry against the latest checkpoint, or null if none covers it. */
  tlogProof(index: number): Promise<{ text: string; size: number } | null>;
}

export interface CheckpointView {
  origin: string;
  size: number;
  /** base64 root hash. */
  root: string;
  note: string;
  createdAt: string;
}

export interface AccordView {
  index: number;
  digest: string;
  id: string;
  version: number;
  title: string;
  preamble: string;
  principles: { number: number; title: string; text: string }[];
  validFrom: string;
}

export interface EntrySummaryView {
  index: number;
  type: string;
  digest: string;
  validFrom: string;
  subjectId: string;
  /** The signatory's domain when the subject is a did:web. */
  domain: string | null;
}

export interface SignatoryListItem {
  domain: string;
  did: string;
  name: string | null;
  status: SignatoryStatus | null;
  /** The pledge that began the current (or last) membership. */
  since: string | null;
  /** Since when the status holds: that pledge, the withdrawal or the delisting (registry-state.ts). */
  statusSince: string | null;
  country: string | null;
}

export interface HistoryItem {
  index: number;
  type: string;
  validFrom: string;
  digest: string;
  /** One line saying what the statement does. */
  summary: string;
  /** Quoted text from the statement (a reason), shown as a quote. */
  detail: string | null;
  /** verificationMethod of a signatory's statement. */
  signedWith: string | null;
}

export interface AttestationView {
  index: number;
  url: string;
  observedAt: string;
  documentDigest: string;
  methods: { id: string; publicKeyMultibase: string }[];
  current: boolean;
}

export interface SignatoryView {
  domain: string;
  did: string;
  status: SignatoryStatus | null;
  name: string | null;
  country: string | null;
  since: string | null;
  statusSince: string | null;
  head: string | null;
  links: { key: string; url: string }[];
  /** The accord of the latest pledge. */
  accord: (AccordView & { outdated: boolean }) | null;
  withdrawal: { index: number; validFrom: string; reason: string | null } | null;
  notice: { index: number; action: 'delist' | 'relist'; reason: string; validFrom: string } | null;
  history: HistoryItem[];
  attestations: AttestationView[];
  /** Keys listed in the latest attestation. */
  keys: { id: string; publicKeyMultibase: string }[];
  state: SignatoryState;
}

export interface EntryView {
  index: number;
  type: string;
  digest: string;
  validFrom: string;
  issuer: string;
  subjectId: string;
  domain: string | null;
  bytes: Uint8Array;
  /** The logged bytes as text (they are UTF-8 JSON). */
  canonical: string;
  pretty: string;
  proof: { text: string; size: number } | null;
}

/** The statement types the feed and the home page report. */
const EVENT_TYPES = ['AccordPledge', 'AccordWithdrawal', 'RegistryNotice'];
/** Pages of 2 x limit entries that recentEvents reads at most while it skips renewals. */
export const RENEWAL_SCAN_ROUNDS = 8;

/** A pledge, a withdrawal or a registry notice, for the feed and the home page. */
export interface EventView {
  index: number;
  type: 'AccordPledge' | 'AccordWithdrawal' | 'RegistryNotice';
  validFrom: string;
  did: string;
  domain: string;
  /** The name in the pledge (as it was then), or the signatory's latest name for a withdrawal or notice. */
  name: string | null;
  /** True if this pledge followed an earlier one of a current signatory (a profile update). */
  update: boolean;
  /** What an update changed (pledge-changes.ts); null for anything else. */
  changes: string[] | null;
  /** A notice's action; null for anything else. */
  action: 'delist' | 'relist' | null;
  /** A withdrawal's reason, or a notice's. */
  reason: string | null;
  digest: string;
}

export interface CsvRow {
  domain: string;
  did: string;
  name: string;
  status: string;
  since: string;
  status_since: string;
  accord: string;
  head: string;
  country: string;
  website: string;
}

function checkpointView(origin: string, cp: CheckpointRow | undefined): CheckpointView | null {
  if (cp === undefined) return null;
  return { origin, size: cp.size, root: toBase64(cp.root), note: cp.note, createdAt: cp.createdAt };
}

/** Parses logged bytes with the core's strict parser; null if they are not a statement. */
function parseEntry(bytes: Uint8Array): TypedStatement | null {
  try {
    return typedStatement(parseStatementBytes(bytes, { maxBytes: 0xffff }).statement);
  } catch (e) {
    if (isAccordError(e)) return null;
    throw e;
  }
}

/** Parsed entries kept per read model (a signatory page reads its whole history every time). */
export const PARSED_ENTRY_CACHE_SIZE = 4096;

/**
 * The strictly parsed statements of log entries, by index. An entry's bytes never change once
 * logged (DESIGN 5; the database refuses UPDATE), so a parse done once holds for good; the bound
 * (least recently used out first) keeps memory flat whatever the size of the log.
 */
class ParsedEntries {
  readonly #byIndex = new LruMap<number, TypedStatement | null>(PARSED_ENTRY_CACHE_SIZE);

  get(row: { index: number; bytes: Uint8Array }): TypedStatement | null {
    const hit = this.#byIndex.get(row.index);
    if (hit !== undefined) return hit;
    const parsed = parseEntry(row.bytes);
    this.#byIndex.set(row.index, parsed);
    return parsed;
  }
}

function summaryView(e: EntrySummary): EntrySummaryView {
  return { index: e.index, type: e.type, digest: e.digest, validFrom: e.validFrom, subjectId: e.subject, domain: domainOfDidWeb(e.subject) };
}

function accordView(row: EntryRow, t: TypedStatement | null): AccordView | null {
  if (t === null || t.kind !== 'AccordText') return null;
  const s = t.subject;
  return {
    index: row.index,
    digest: row.digest,
    id: s.id,
    version: s.version,
    title: s.title,
    preamble: s.preamble,
    principles: s.principles.map((p) => ({ number: p.number, title: p.title, text: p.text })),
    validFrom: t.doc.validFrom,
  };
}

function linksOf(links: Record<string, string> | null): { key: string; url: string }[] {
  if (links === null) return [];
  const out: { key: string; url: string }[] = [];
  for (const key of LINK_KEYS) {
    const url = links[key];
    // Validated as https URLs at admission; checked again so no other scheme can reach an href.
    if (typeof url === 'string' && url.startsWith('https://')) out.push({ key, url });
  }
  return out;
}

export class ReadModel {
  readonly #src: ReadSource;
  readonly #parsed = new ParsedEntries();

  constructor(src: ReadSource) {
    this.#src = src;
  }

  /** The latest checkpoint's size (0 for an empty log): one index probe. Answers depend on nothing else. */
  async logSize(): Promise<number> {
    return getLatestCheckpointSize(this.#src.db);
  }

  get keys(): { origin: string; logKey: string; attestationKey: string } {
    return { origin: this.#src.origin, logKey: this.#src.logKey, attestationKey: this.#src.attestationKey };
  }

  async latestCheckpoint(): Promise<CheckpointView | null> {
    return checkpointView(this.#src.origin, await getLatestCheckpoint(this.#src.db));
  }

  async recentCheckpoints(n: number): Promise<CheckpointView[]> {
    const rows = await getRecentCheckpoints(this.#src.db, n);
    return rows.map((r) => checkpointView(this.#src.origin, r)!);
  }

  async counts(): Promise<Record<SignatoryStatus, number>> {
    return countSignatoriesByStatus(this.#src.db);
  }

  /** Every accord version, oldest first. */
  async accords(): Promise<AccordView[]> {
    const rows = await getAccordEntries(this.#src.db);
    return rows.map((r) => accordView(r, this.#parsed.get(r))).filter((a): a is AccordView => a !== null);
  }

  async entryCount(): Promise<number> {
    return countEntries(this.#src.db);
  }

  /** Newest first; `before` is an exclusive index for paging backwards. */
  async recentEntries(limit: number, before?: number): Promise<EntrySummaryView[]> {
    const rows = await getRecentEntries(this.#src.db, before === undefined ? { limit } : { limit, before });
    return rows.map(summaryView);
  }

  async entry(index: number): Promise<EntryView | null> {
    const row = await getEntry(this.#src.db, index);
    if (row === undefined) return null;
    let canonical: string;
    let pretty: string;
    let issuer = '';
    try {
      canonical = fromUtf8(row.bytes);
      const value = parseStrictJson(row.bytes, { maxBytes: 0xffff });
      pretty = JSON.stringify(value, null, 2);
      if (value !== null && typeof value === 'object' && typeof (value as { issuer?: unknown }).issuer === 'string') {
        issuer = (value as { issuer: string }).issuer;
      }
    } catch (e) {
      if (!isAccordError(e)) throw e;
      canonical = toBase64(row.bytes);
      pretty = `(not JSON: ${e.message})`;
    }
    return {
      index: row.index,
      type: row.type,
      digest: row.digest,
      validFrom: row.validFrom,
      issuer,
      subjectId: row.subject,
      domain: domainOfDidWeb(row.subject),
      bytes: row.bytes,
      canonical,
      pretty,
      proof: await this.#src.tlogProof(index),
    };
  }

  async listSignatories(opts: { q: string; status: SignatoryStatus | 'all'; limit: number; offset: number }): Promise<{ items: SignatoryListItem[]; total: number }> {
    const { rows, total } = await listSignatories(this.#src.db, {
      ...(opts.q === '' ? {} : { search: opts.q }),
      ...(opts.status === 'all' ? {} : { status: opts.status }),
      limit: opts.limit,
      offset: opts.offset,
    });
    return { items: rows.map(listItem), total };
  }

  /** Every DID that ever pledged, by domain, for the CSV export. */
  async allSignatories(): Promise<SignatoryRow[]> {
    const out: SignatoryRow[] = [];
    const page = 1000;
    for (let offset = 0; ; offset += page) {
      const { rows } = await listSignatories(this.#src.db, { limit: page, offset });
      out.push(...rows);
      if (rows.length < page) return out;
    }
  }

  /** Just the status and date of a domain (the badge): one indexed row. */
  async signatoryStatus(domain: string): Promise<{ status: SignatoryStatus | null; since: string | null } | null> {
    if (didWebFromDomain(domain) === null) return null;
    const row = await getSignatoryByDomain(this.#src.db, domain);
    return row === undefined ? null : { status: signatoryStatus(row.state), since: row.state.since };
  }

  async signatory(domain: string): Promise<SignatoryView | null> {
    const did = didWebFromDomain(domain);
    if (did === null) return null;
    const row = await getSignatoryByDomain(this.#src.db, domain);
    if (row === undefined) return null;
    const state = row.state;
    const entries = await getEntriesBySubject(this.#src.db, did);
    const accords = await this.accords();
    const accordByDigest = new Map(accords.map((a) => [a.digest, a]));
    const latestVersion = accords.reduce((m, a) => Math.max(m, a.version), 0);

    const history: HistoryItem[] = [];
    const attestations: AttestationView[] = [];
    let withdrawal: SignatoryView['withdrawal'] = null;
    let notice: SignatoryView['notice'] = null;
    let member = false;
    let lastPledge: SignedPledge | null = null;
    for (const e of entries) {
      const t = this.#parsed.get(e);
      if (t === null) continue;
      const item: HistoryItem = { index: e.index, type: e.type, validFrom: t.doc.validFrom, digest: e.digest, summary: '', detail: null, signedWith: null };
      switch (t.kind) {
        case 'AccordPledge': {
          const s = t.subject;
          const a = accordByDigest.get(s.accord);
          const accordName = a === undefined ? 'an accord' : `version ${a.version} of the accord`;
          const signed = { subject: s, method: t.doc.proof.verificationMethod };
          if (member && lastPledge !== null) {
            const changes = pledgeChanges(lastPledge, signed);
            item.summary = `Pledged again to ${accordName}, as “${s.name}” (${changes.length === 0 ? 'unchanged: a renewal' : `changed: ${changes.join(', ')}`}).`;
          } else {
            item.summary = `Pledged to ${accordName}, as “${s.name}”.`;
          }
          item.signedWith = t.doc.proof.verificationMethod;
          member = true;
          lastPledge = signed;
          withdrawal = null;
          break;
        }
        case 'AccordWithdrawal': {
          const s = t.subject;
          item.summary = s.reason === undefined ? 'Withdrew from the accord, giving no reason.' : 'Withdrew from the accord. Reason given:';
          item.detail = s.reason ?? null;
          item.signedWith = t.doc.proof.verificationMethod;
          member = false;
          withdrawal = { index: e.index, validFrom: t.doc.validFrom, reason: s.reason ?? null };
          break;
        }
        case 'DomainAttestation': {
          const s = t.subject;
          const ids = s.verificationMethods.map((m) => m.id.slice(did.length) || m.id).join(', ');
          item.summary = `The registry fetched ${s.url} and recorded the key${s.verificationMethods.length === 1 ? '' : 's'} it lists (${ids}).`;
          attestations.push({
            index: e.index,
            url: s.url,
            observedAt: s.observedAt,
            documentDigest: s.documentDigest,
            methods: s.verificationMethods.map((m) => ({ id: m.id, publicKeyMultibase: m.publicKeyMultibase })),
            current: false,
          });
          break;
        }
        case 'RegistryNotice': {
          const s = t.subject;
          item.summary = s.action === 'delist' ? 'Delisted by the registry. Reason:' : 'Relisted by the registry. Reason:';
          item.detail = s.reason;
          notice = { index: e.index, action: s.action, reason: s.reason, validFrom: t.doc.validFrom };
          break;
        }
        default:
          item.summary = t.kind;
      }
      history.push(item);
    }
    const lastAttestation = attestations[attestations.length - 1];
    if (lastAttestation !== undefined) lastAttestation.current = true;
    attestations.reverse();

    const accord = state.accord === null ? undefined : accordByDigest.get(state.accord);
    return {
      domain,
      did,
      status: signatoryStatus(state),
      name: state.name,
      country: state.country,
      since: state.since,
      statusSince: statusSince(state),
      head: state.head,
      links: linksOf(state.links),
      accord: accord === undefined ? null : { ...accord, outdated: accord.version < latestVersion },
      withdrawal: state.membership === 'withdrawn' ? withdrawal : null,
      notice: notice,
      history,
      attestations,
      keys: state.attestation?.methods.map((m) => ({ id: m.id, publicKeyMultibase: m.publicKeyMultibase })) ?? [],
      state,
    };
  }

  /**
   * Pledges, withdrawals and the registry's notices, newest first (the feed and the home page),
   * read back from the newest entry; the statements are read for the names they carried at the
   * time. A pledge that changes nothing (pledge-changes.ts) is left out: it is not news, and a
   * signatory renewing its pledge again and again must not push everything else out of the feed.
   * The search is bounded (RENEWAL_SCAN_ROUNDS pages); if renewals fill all of it, the newest
   * renewal of each signatory met stands in for them, so the list is never emptied by them.
   */
  async recentEvents(limit: number): Promise<EventView[]> {
    const out: EventView[] = [];
    const renewals = new Map<string, EventView>();
    let before: number | undefined;
    for (let round = 0; out.length < limit && round < RENEWAL_SCAN_ROUNDS; round++) {
      const page = await getRecentEntries(this.#src.db, { limit: limit * 2, types: EVENT_TYPES, ...(before === undefined ? {} : { before }) });
      for (const s of page) {
        if (out.length >= limit) break;
        const event = await this.#event(s);
        if (event === null) continue;
        if (event.changes?.length === 0) {
          if (!renewals.has(event.domain)) renewals.set(event.domain, event);
        } else {
          out.push(event);
        }
      }
      if (page.length < limit * 2) return out;
      before = (page[page.length - 1] as EntrySummary).index;
    }
    if (out.length >= limit) return out;
    return [...out, ...renewals.values()].sort((a, b) => b.index - a.index).slice(0, limit);
  }

  /** The event of one pledge, withdrawal or notice (a renewal has `changes` []). */
  async #event(s: EntrySummary): Promise<EventView | null> {
    const row = await getEntry(this.#src.db, s.index);
    const t = row === undefined ? null : this.#parsed.get(row);
    const domain = domainOfDidWeb(s.subject);
    if (t === null || domain === null) return null;
    const base = { index: s.index, validFrom: t.doc.validFrom, did: s.subject, domain, digest: s.digest, changes: null, action: null, reason: null };
    if (t.kind === 'AccordPledge') {
      const p = t.subject;
      // A pledge whose `previous` is a pledge updates a current signatory; otherwise it joins.
      const prevRow = p.previous === null ? undefined : await getEntryByDigest(this.#src.db, p.previous);
      const prev = prevRow === undefined ? null : this.#parsed.get(prevRow);
      if (prev === null || prev.kind !== 'AccordPledge') return { ...base, type: 'AccordPledge', name: p.name, update: false };
      const changes = pledgeChanges({ subject: prev.subject, method: prev.doc.proof.verificationMethod }, { subject: p, method: t.doc.proof.verificationMethod });
      return { ...base, type: 'AccordPledge', name: p.name, update: true, changes };
    }
    // A withdrawal or a notice carries no name: show the one the signatory is listed under.
    const name = (await getSignatoryByDomain(this.#src.db, domain))?.state.name ?? null;
    if (t.kind === 'AccordWithdrawal') return { ...base, type: 'AccordWithdrawal', name, update: false, reason: t.subject.reason ?? null };
    if (t.kind === 'RegistryNotice') return { ...base, type: 'RegistryNotice', name, update: false, action: t.subject.action, reason: t.subject.reason };
    return null;
  }

  /** CSV rows for every DID that ever pledged (DESIGN 7). */
  async csvRows(): Promise<CsvRow[]> {
    const rows = await this.allSignatories();
    return rows.map((r) => ({
      domain: r.domain,
      did: r.did,
      name: r.state.name ?? r.name ?? '',
      status: r.status ?? '',
      since: r.state.since ?? '',
      status_since: statusSince(r.state) ?? '',
      accord: r.state.accord ?? '',
      head: r.state.head ?? '',
      country: r.state.country ?? '',
      website: linksOf(r.state.links).find((l) => l.key === 'website')?.url ?? '',
    }));
  }
}

function listItem(r: SignatoryRow): SignatoryListItem {
  return { domain: r.domain, did: r.did, name: r.state.name ?? r.name, status: r.status, since: r.state.since ?? r.since, statusSince: statusSince(r.state), country: r.state.country };
}

/**
 * What the routers need from the registry. Structural, so these routes depend on the few members
 * they use, not on how src/registry.ts builds them.
 */
export interface RegistryForPages {
  db: Kysely<Database>;
  origin: string;
  logKey: string;
  attestationKey: string;
  tlogProof(index: number): Promise<{ text: string; size: number } | null>;
}

export interface RouteDeps {
  registry: RegistryForPages;
  config?: unknown;
  logger?: unknown;
}

const models = new WeakMap<object, ReadModel>();

/** One read model per registry. */
export function readModelFor(deps: RouteDeps): ReadModel {
  let m = models.get(deps.registry);
  if (m === undefined) {
    const r = deps.registry;
    m = new ReadModel({ db: r.db, origin: r.origin, logKey: r.logKey, attestationKey: r.attestationKey, tlogProof: (i) => r.tlogProof(i) });
    models.set(deps.registry, m);
  }
  return m;
}

/**
 * The site's own URL as the reader reached it (scheme and host), for the command lines and
 * absolute links shown on pages. Express's `req.protocol` honours the app's trust-proxy setting.
 */
export function siteUrlOf(req: Request): string {
  const host = req.get('host') ?? 'localhost';
  return `${req.protocol}://${host}`;
}

