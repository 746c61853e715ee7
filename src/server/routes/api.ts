/**
 * The JSON API under /api/v1/ (DESIGN section 7). Thin handlers: parsing of path and query values
 * is strict (a malformed number is INVALID_*, never NaN or a 500), the data comes from the
 * storage repositories and the log reader, errors go to http-errors.ts.
 *
 * | route | answer |
 * |---|---|
 * | POST /statements | (served before express: src/server/submit-endpoint.ts) |
 * | GET /signatories?q&status&page | `{ total, page, pageSize, signatories: [...] }` |
 * | GET /signatories/:domain?page | the signatory: did, domain, name, status, head, accord, since, statusSince, updatedAt, country, links, keys, attestation, notice, statements (page 1: the latest 50, oldest first), statementsPage `{ page, pages, pageSize, total }` |
 * | GET /entries/:index | the logged bytes, unchanged (application/json) |
 * | GET /entries/:index/proof | C2SP tlog-proof text against the latest checkpoint (text/plain) |
 * | GET /proof/inclusion?index&size | `{ index, size, leafHash, proof }` (base64, leaf first; size defaults to the latest) |
 * | GET /proof/consistency?old&new | `{ old, new, proof }` (base64; new defaults to the latest) |
 * | GET /accords | `{ accords: [{ index, digest, id, version, title, validFrom }] }` |
 * | GET /checkpoint | `{ origin, size, root, checkpoint }` (the latest signed checkpoint) |
 */
import express from 'express';
import type { Request, Router } from 'express';
import type { Kysely } from 'kysely';
import { signatoryStatus, statusSince, type SignatoryStatus } from '../../core/audit/registry-state.ts';
import { toBase64 } from '../../core/bytes.ts';
import { AccordError, describeValue } from '../../core/errors.ts';
import { leafHashNode } from '../../node/sha256.ts';
import { didWebFromDomain } from '../../core/statements/did.ts';
import type { AccordTextSubject } from '../../core/statements/types.ts';
import { accordInfoFromEntry } from '../../log/accord-info.ts';
import { countEntriesBySubject, getAccordEntries, getEntry, getEntrySummariesBySubject } from '../../storage/entries-repo.ts';
import type { Database } from '../../storage/schema.ts';
import { getSignatoryByDomain, listSignatories, type SignatoryRow } from '../../storage/signatories-repo.ts';
import { parseStrictJson } from '../../core/json/strict-parse.ts';
import type { AdmissionRegistry } from '../admission.ts';
import { HISTORY_PER_PAGE, historyPageCount, historyPageWindow } from './history-pages.ts';

export interface ApiDeps {
  registry: AdmissionRegistry;
}

export const PAGE_SIZE = 50;
const STATUSES: readonly SignatoryStatus[] = ['signatory', 'withdrawn', 'delisted'];
const MAX_QUERY_CHARS = 200;

// ---- strict parsing of path and query values ----

const DECIMAL_RE = /^(0|[1-9][0-9]{0,15})$/;

/** A non-negative decimal integer without sign, spaces, leading zeros or exponent. */
export function parseCount(raw: unknown, name: string, code: string): number {
  if (typeof raw !== 'string' || !DECIMAL_RE.test(raw)) {
    throw new AccordError(code, `${name} must be a non-negative decimal integer, got ${describeValue(raw)}`);
  }
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new AccordError(code, `${name} is too large: ${raw}`);
  return n;
}

/** One query value: absent -> undefined; repeated (?a=1&a=2) or nested -> the given code. */
function queryValue(req: Request, name: string, code: string): string | undefined {
  const v: unknown = (req.query as Record<string, unknown>)[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new AccordError(code, `${name} must be given once, as a plain value`);
  return v;
}

/** `?page=N`, from 1; absent: 1. */
function pageOf(req: Request): number {
  const raw = queryValue(req, 'page', 'INVALID_PAGE');
  const page = raw === undefined ? 1 : parseCount(raw, 'page', 'INVALID_PAGE');
  if (page < 1) throw new AccordError('INVALID_PAGE', 'page starts at 1');
  return page;
}

function notFound(what: string): AccordError {
  return new AccordError('NOT_FOUND', what);
}

// ---- views ----

function signatorySummary(r: SignatoryRow) {
  const s = r.state;
  return {
    did: r.did,
    domain: r.domain,
    name: s.name,
    status: signatoryStatus(s),
    since: s.since,
    statusSince: statusSince(s),
    updatedAt: s.updatedAt,
    head: s.head,
    accord: s.accord,
    country: s.country,
  };
}

/**
 * Page `page` of a subject's statements, paged as the signatory page pages them (history-pages.ts).
 * A page past the last is empty. Positions are counted in the subject index, so a long history
 * costs one page of rows.
 */
async function statementPage(db: Kysely<Database>, subject: string, page: number) {
  const total = await countEntriesBySubject(db, subject);
  const { start, end } = historyPageWindow(total, page);
  const rows = end === start ? [] : await getEntrySummariesBySubject(db, subject, { offset: start, limit: end - start });
  return {
    statements: rows.map((e) => ({ index: e.index, digest: e.digest, type: e.type, validFrom: e.validFrom })),
    statementsPage: { page, pages: historyPageCount(total), pageSize: HISTORY_PER_PAGE, total },
  };
}

async function signatoryDetail(db: Kysely<Database>, r: SignatoryRow, page: number) {
  const s = r.state;
  return {
    ...signatorySummary(r),
    links: s.links ?? {},
    // DESIGN 7: "its current keys": the methods of the latest DomainAttestation.
    keys: s.attestation?.methods.map((m) => ({ id: m.id, publicKeyMultibase: m.publicKeyMultibase })) ?? [],
    attestation:
      s.attestation === null
        ? null
        : { index: s.attestation.index, digest: s.attestation.digest, url: s.attestation.url, observedAt: s.attestation.observedAt, documentDigest: s.attestation.documentDigest },
    notice: s.notice,
    ...(await statementPage(db, r.did, page)),
  };
}

/** The AccordText's subject, read again from the logged bytes (strictly parsed). */
function accordSubject(bytes: Uint8Array): AccordTextSubject {
  return (parseStrictJson(bytes, { maxBytes: 0xffff }) as { credentialSubject: AccordTextSubject }).credentialSubject;
}

// ---- the router ----

export function apiRouter(deps: ApiDeps): Router {
  const { registry } = deps;
  const { reader } = registry;
  const db = registry.handle.db;
  const router = express.Router();

  // POST /statements is served before express: src/server/submit-endpoint.ts.

  router.get('/signatories', async (req, res) => {
    const q = queryValue(req, 'q', 'INVALID_QUERY') ?? '';
    if (q.length > MAX_QUERY_CHARS) throw new AccordError('INVALID_QUERY', `q is at most ${MAX_QUERY_CHARS} characters, got ${q.length}`);
    const statusRaw = queryValue(req, 'status', 'INVALID_STATUS');
    if (statusRaw !== undefined && statusRaw !== 'all' && !(STATUSES as readonly string[]).includes(statusRaw)) {
      throw new AccordError('INVALID_STATUS', `status must be one of ${STATUSES.join(', ')} or all, got ${describeValue(statusRaw)}`);
    }
    const page = pageOf(req);
    const status = statusRaw === undefined || statusRaw === 'all' ? undefined : (statusRaw as SignatoryStatus);
    const { rows, total } = await listSignatories(db, {
      ...(q === '' ? {} : { search: q }),
      ...(status === undefined ? {} : { status }),
      limit: PAGE_SIZE,
      offset: (page - 1) * PAGE_SIZE,
    });
    res.json({ total, page, pageSize: PAGE_SIZE, signatories: rows.map(signatorySummary) });
  });

  router.get('/signatories/:domain', async (req, res) => {
    const domain = String(req.params.domain);
    if (didWebFromDomain(domain) === null) {
      throw new AccordError('INVALID_DOMAIN', `not a domain a signatory did:web can name (lowercase, at least two labels): ${describeValue(domain)}`);
    }
    const page = pageOf(req);
    const row = await getSignatoryByDomain(db, domain);
    // A DID that never pledged is not in the registry (DESIGN 7 statuses).
    if (row === undefined || signatoryStatus(row.state) === null) throw notFound(`${domain} has never pledged`);
    res.json(await signatoryDetail(db, row, page));
  });

  const entryIndex = async (raw: unknown): Promise<{ index: number; size: number }> => {
    const index = parseCount(raw, 'the entry index', 'INVALID_INDEX');
    const size = await reader.size();
    if (index >= size) throw notFound(`the log has no entry ${index} (size ${size})`);
    return { index, size };
  };

  router.get('/entries/:index', async (req, res) => {
    const { index } = await entryIndex(req.params.index);
    const row = await getEntry(db, index);
    if (row === undefined) throw notFound(`the log has no entry ${index}`);
    // Logged bytes never change (DESIGN 5).
    res.set('Cache-Control', 'public, max-age=31536000, immutable');
    res.type('application/json').send(Buffer.from(row.bytes));
  });

  router.get('/entries/:index/proof', async (req, res) => {
    const { index } = await entryIndex(req.params.index);
    const text = await reader.tlogProof(index);
    res.set('Cache-Control', 'no-cache');
    res.type('text/plain; charset=utf-8').send(text);
  });

  router.get('/proof/inclusion', async (req, res) => {
    const latest = await reader.size();
    const index = parseCount(queryValue(req, 'index', 'INVALID_INDEX'), 'index', 'INVALID_INDEX');
    const sizeRaw = queryValue(req, 'size', 'INVALID_SIZE');
    const size = sizeRaw === undefined ? latest : parseCount(sizeRaw, 'size', 'INVALID_SIZE');
    if (size > latest) throw new AccordError('INVALID_SIZE', `size ${size} is beyond the latest checkpoint's size ${latest}`);
    if (index >= size) throw new AccordError('INVALID_INDEX', `index must be below the size ${size}, got ${index}`);
    const row = await getEntry(db, index);
    if (row === undefined) throw notFound(`the log has no entry ${index}`);
    const proof = await reader.inclusionProof(index, size);
    res.json({ index, size, leafHash: toBase64(leafHashNode(row.bytes)), proof: proof.map(toBase64) });
  });

  router.get('/proof/consistency', async (req, res) => {
    const latest = await reader.size();
    const oldSize = parseCount(queryValue(req, 'old', 'INVALID_SIZE'), 'old', 'INVALID_SIZE');
    const newRaw = queryValue(req, 'new', 'INVALID_SIZE');
    const newSize = newRaw === undefined ? latest : parseCount(newRaw, 'new', 'INVALID_SIZE');
    if (newSize > latest) throw new AccordError('INVALID_SIZE', `new ${newSize} is beyond the latest checkpoint's size ${latest}`);
    // RFC 9162 2.1.4: a consistency proof is defined for 0 < old <= new.
    if (oldSize < 1 || oldSize > newSize) throw new AccordError('INVALID_SIZE', `old must be from 1 to new (${newSize}), got ${oldSize}`);
    const proof = await reader.consistencyProof(oldSize, newSize);
    res.json({ old: oldSize, new: newSize, proof: proof.map(toBase64) });
  });

  router.get('/accords', async (_req, res) => {
    const rows = await getAccordEntries(db);
    const accords = rows.map((row) => {
      const info = accordInfoFromEntry(row);
      const subject = accordSubject(row.bytes);
      return { index: row.index, digest: row.digest, id: info.id, version: info.version, title: info.title, principles: subject.principles, validFrom: row.validFrom };
    });
    res.json({ accords });
  });

  router.get('/checkpoint', async (_req, res) => {
    const cp = await reader.latestCheckpoint();
    if (cp === undefined) throw notFound('the log is empty');
    res.set('Cache-Control', 'no-cache');
    res.json({ origin: registry.keys.origin, size: cp.size, root: toBase64(cp.root), checkpoint: cp.note });
  });

  return router;
}
