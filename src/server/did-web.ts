/**
 * did:web resolution for admission (DESIGN section 4). Fetching a document named by a stranger is
 * hostile territory, so the fetch is guarded:
 *
 * - https only; http only for hosts the operator maps in DID_WEB_HOSTS;
 * - no redirects: a 3xx is a refusal (DID_WEB_REDIRECT), never followed;
 * - 5 s for the whole fetch, connect to last byte (DID_WEB_TIMEOUT);
 * - at most 64 KiB, counted while streaming (DID_WEB_TOO_LARGE);
 * - content type application/json, application/did+json or application/did+ld+json (DESIGN 7);
 * - no connection to any address that is not global unicast (loopback, private, link-local,
 *   unique-local, multicast, unspecified, reserved...), except operator-mapped hosts. The check runs
 *   at connect time on every address the resolver returns, and the socket connects only to the
 *   addresses checked, so a DNS answer that changes between check and use (rebinding) cannot slip
 *   through (DID_WEB_FORBIDDEN_ADDRESS).
 *
 * Every failure is an AccordError with a DID_WEB_* code: the document is the signatory's problem,
 * answered with a 4xx (DESIGN 7).
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';
import type { Dispatcher } from 'undici';
import { concatBytes } from '../core/bytes.ts';
import { decodePublicMultikey } from '../core/crypto/multikey.ts';
import { AccordError, describeValue, isAccordError } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { domainOfDidWeb, isDidWebMethodOf } from '../core/statements/did.ts';
import type { AttestedMethod } from '../core/statements/types.ts';
import { mappedDocumentUrl } from '../config.ts';
import { digestOfNode } from '../node/sha256.ts';

export const DID_WEB_TIMEOUT_MS = 5000;
export const DID_WEB_MAX_BYTES = 65536;
/** DESIGN 7: the media types a did.json may be served as. */
export const DID_DOCUMENT_MEDIA_TYPES = ['application/json', 'application/did+json', 'application/did+ld+json'] as const;

export interface DidWebDocument {
  /** The URL actually fetched (recorded in the DomainAttestation). */
  url: string;
  /** The bytes served, unchanged. */
  bytes: Uint8Array;
  /** `sha256:` + hex of those bytes. */
  documentDigest: string;
  /** Ed25519 Multikey methods referenced from assertionMethod, ids in full form. */
  methods: AttestedMethod[];
}

export type DidWebFetch = (did: string) => Promise<DidWebDocument>;

/** Node's dns.lookup signature, injectable so tests can make a public-looking name resolve anywhere. */
export type LookupFn = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface DidWebFetcherOptions {
  /** Operator-mapped hosts: domain -> base URL (DESIGN 4). */
  hosts: ReadonlyMap<string, URL>;
  timeoutMs?: number;
  maxBytes?: number;
  /** Resolver for unmapped hosts; default dns.lookup. */
  lookup?: LookupFn;
}

export interface DidWebFetcher {
  fetch: DidWebFetch;
  close(): Promise<void>;
}

/** The URL to fetch for a signatory DID and whether the operator mapped it. */
export function didDocumentUrl(did: string, hosts: ReadonlyMap<string, URL>): { url: URL; mapped: boolean } {
  const domain = domainOfDidWeb(did);
  if (domain === null) {
    throw new AccordError('DID_WEB_BAD_DID', `not a signatory did:web (a bare domain): ${describeValue(did)}`);
  }
  const base = hosts.get(domain);
  if (base !== undefined) return { url: mappedDocumentUrl(base), mapped: true };
  // did:web method spec, "Read (Resolve)": no path -> https://<domain>/.well-known/did.json
  return { url: new URL(`https://${domain}/.well-known/did.json`), mapped: false };
}

/**
 * True only for global unicast addresses. ipaddr.js classifies every special-purpose block
 * (RFC 6890 registry: loopback, private, linkLocal, uniqueLocal, multicast, unspecified,
 * carrierGradeNat, reserved, 6to4/teredo/NAT64 embeddings...) as something other than 'unicast'.
 * An IPv4-mapped IPv6 address is judged as the IPv4 address it maps to.
 */
export function isPublicAddress(address: string): boolean {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(address);
  } catch {
    return false;
  }
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr.range() === 'unicast';
}

function forbidden(host: string, address: string): AccordError {
  return new AccordError('DID_WEB_FORBIDDEN_ADDRESS', `${host} resolves to ${address}, which is not a public address; the registry does not connect there`, {
    details: { host, address },
  });
}

/**
 * A resolver for net.connect's `lookup` option that refuses the whole name if ANY address it has
 * is not allowed (by default: not public). The socket then connects only to the addresses checked.
 */
export function guardedLookup(base: LookupFn, allowed: (address: string) => boolean = isPublicAddress) {
  return (
    hostname: string,
    options: LookupOptions,
    callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void,
  ): void => {
    base(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, []);
      if (!Array.isArray(addresses) || addresses.length === 0) {
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      }
      for (const a of addresses) {
        if (!allowed(a.address)) return callback(forbidden(hostname, a.address) as unknown as NodeJS.ErrnoException, []);
      }
      if (options.all === true) return callback(null, addresses);
      const first = addresses[0] as LookupAddress;
      return callback(null, first.address, first.family);
    });
  };
}

/** Finds the first AccordError or a known cause along an error's cause chain. */
function findCause(e: unknown, test: (x: unknown) => boolean): unknown {
  let cur: unknown = e;
  for (let i = 0; i < 8 && cur !== undefined && cur !== null; i++) {
    if (test(cur)) return cur;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

function errorText(e: unknown): string {
  const code = (e as { code?: unknown })?.code;
  const msg = e instanceof Error ? e.message : String(e);
  return typeof code === 'string' ? `${code}: ${msg}` : msg;
}

/**
 * Parses a DID document (strict JSON) and returns the methods that count (DESIGN 2 and 4):
 * entries of `verificationMethod` of type `Multikey` with an Ed25519 `publicKeyMultibase`, whose id
 * belongs to the DID and is referenced from `assertionMethod` (by full id or as a relative `#frag`).
 * Ids are returned in full form, in document order, each once.
 */
export function methodsFromDidDocument(did: string, bytes: Uint8Array): AttestedMethod[] {
  let doc: unknown;
  try {
    doc = parseStrictJson(bytes, { maxBytes: DID_WEB_MAX_BYTES });
  } catch (cause) {
    if (!isAccordError(cause)) throw cause;
    throw new AccordError('DID_WEB_BAD_DOCUMENT', `the DID document is not strict JSON: ${cause.message}`, { cause });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new AccordError('DID_WEB_BAD_DOCUMENT', 'the DID document is not a JSON object');
  }
  const d = doc as Record<string, unknown>;
  // DID Core 5.1.1 / did:web: the document served must be about the DID that was resolved.
  if (d.id !== did) {
    throw new AccordError('DID_WEB_BAD_DOCUMENT', `the DID document's id must be ${did}, got ${describeValue(d.id)}`);
  }
  const full = (ref: string): string => (ref.startsWith('#') ? did + ref : ref);
  const vms = d.verificationMethod ?? [];
  const am = d.assertionMethod ?? [];
  if (!Array.isArray(vms)) throw new AccordError('DID_WEB_BAD_DOCUMENT', 'verificationMethod must be an array');
  if (!Array.isArray(am)) throw new AccordError('DID_WEB_BAD_DOCUMENT', 'assertionMethod must be an array');
  // Only references count (DESIGN 4: assertionMethod "references" the listed methods); a method
  // embedded in assertionMethod is not in verificationMethod and is ignored.
  const asserted = new Set(am.filter((r): r is string => typeof r === 'string').map(full));
  const seen = new Map<string, string>();
  const out: AttestedMethod[] = [];
  for (const vm of vms) {
    if (typeof vm !== 'object' || vm === null || Array.isArray(vm)) continue;
    const m = vm as Record<string, unknown>;
    if (typeof m.id !== 'string') continue;
    const id = full(m.id);
    if (!isDidWebMethodOf(id, did) || m.type !== 'Multikey') continue;
    try {
      decodePublicMultikey(m.publicKeyMultibase);
    } catch (e) {
      if (isAccordError(e)) continue; // not an Ed25519 Multikey: does not count (DESIGN 4)
      throw e;
    }
    const key = m.publicKeyMultibase as string;
    const prior = seen.get(id);
    if (prior !== undefined) {
      // DID Core 5.2: method ids are unique; two keys under one id would make the attestation ambiguous.
      if (prior !== key) throw new AccordError('DID_WEB_BAD_DOCUMENT', `verificationMethod ${id} is listed twice with different keys`);
      continue;
    }
    seen.set(id, key);
    if (asserted.has(id)) out.push({ id, publicKeyMultibase: key });
  }
  return out;
}

function mediaTypeOf(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return (v ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Where one DID's document is fetched from, and through which connection pool. */
interface FetchTarget {
  href: string;
  origin: string;
  path: string;
  dispatcher: Dispatcher;
}

/** DIDs whose fetch target is kept (the rest are worked out again). */
const TARGETS_KEPT = 10_000;

/** What a did:web fetch asks for (DESIGN 7's media types). */
const DOCUMENT_REQUEST_HEADERS = Object.freeze({ accept: 'application/did+json, application/did+ld+json, application/json' });

/**
 * The refusal for a response's status and headers, or null if its body is to be read: 200 only
 * (DESIGN 4: redirects are not followed), one of DESIGN 7's media types, a declared length within
 * the cap.
 */
function refuseResponse(where: string, status: number, headers: Record<string, string | string[] | undefined>, maxBytes: number): AccordError | null {
  if (status >= 300 && status < 400) {
    const loc = headers.location;
    return new AccordError('DID_WEB_REDIRECT', `${where} answered ${status} (a redirect${loc ? ` to ${describeValue(String(loc))}` : ''}); the registry does not follow redirects`, {
      details: { url: where, status },
    });
  }
  if (status === 404 || status === 410) {
    return new AccordError('DID_WEB_NOT_FOUND', `${where} answered ${status}: no DID document is published there`, { details: { url: where, status } });
  }
  if (status !== 200) {
    return new AccordError('DID_WEB_FETCH_FAILED', `${where} answered HTTP ${status}, expected 200`, { details: { url: where, status } });
  }
  const type = mediaTypeOf(headers['content-type']);
  if (!(DID_DOCUMENT_MEDIA_TYPES as readonly string[]).includes(type)) {
    return new AccordError('DID_WEB_BAD_CONTENT_TYPE', `${where} served ${describeValue(type || '(no content type)')}, expected one of ${DID_DOCUMENT_MEDIA_TYPES.join(', ')}`, {
      details: { url: where, contentType: type },
    });
  }
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return tooLarge(where, String(declared), maxBytes);
  return null;
}

/** DID_WEB_TOO_LARGE: `served` is what the host declared or "more than <limit>" counted while reading. */
function tooLarge(where: string, served: string, maxBytes: number): AccordError {
  return new AccordError('DID_WEB_TOO_LARGE', `${where} served ${served} bytes, more than the ${maxBytes}-byte limit`, { details: { url: where, limit: maxBytes } });
}

/** Builds the guarded fetcher; close() releases its connection pools. */
export function createDidWebFetcher(opts: DidWebFetcherOptions): DidWebFetcher {
  const timeoutMs = opts.timeoutMs ?? DID_WEB_TIMEOUT_MS;
  const maxBytes = opts.maxBytes ?? DID_WEB_MAX_BYTES;
  const baseLookup: LookupFn = opts.lookup ?? ((h, o, cb) => dnsLookup(h, o, cb));
  const connectUnguarded = buildConnector({ timeout: timeoutMs });
  const connectGuarded = buildConnector({ timeout: timeoutMs, lookup: guardedLookup(baseLookup) });
  // An IP literal never reaches the resolver (net.connect skips lookup), so it is checked here.
  const guardedConnector: buildConnector.connector = (options, callback) => {
    const host = options.hostname.replace(/^\[(.*)\]$/, '$1');
    if (isIP(host) !== 0 && !isPublicAddress(host)) {
      callback(forbidden(host, host), null);
      return;
    }
    connectGuarded(options, callback);
  };
  const guarded = new Agent({ connect: guardedConnector });
  const mapped = new Agent({ connect: connectUnguarded });

  // Where each DID's document is fetched from, worked out once: the URL parsing costs more than
  // a lookup, on the main thread of every admission. Bounded (oldest out) like every cache fed by
  // strangers' input.
  const targets = new Map<string, FetchTarget>();

  function targetOf(did: string): FetchTarget {
    const known = targets.get(did);
    if (known !== undefined) return known;
    const { url, mapped: isMapped } = didDocumentUrl(did, opts.hosts);
    if (!isMapped && url.protocol !== 'https:') {
      throw new AccordError('DID_WEB_FETCH_FAILED', `did:web documents are fetched over https only, not ${url.href}`);
    }
    const target: FetchTarget = { href: url.href, origin: url.origin, path: url.pathname + url.search, dispatcher: isMapped ? mapped : guarded };
    if (targets.size >= TARGETS_KEPT) targets.delete(targets.keys().next().value as string);
    targets.set(did, target);
    return target;
  }

  async function fetchDocument(did: string): Promise<DidWebDocument> {
    return fetchFrom(did, targetOf(did));
  }

  /**
   * One GET through undici's dispatch interface, the response handled as it arrives: the status
   * and headers are checked before any of the body is read, the body is counted chunk by chunk.
   * This is what undici's request() does underneath, without the things admission does not need:
   * a body stream with an async iterator, and an AbortController (with its signal and a weakly
   * held timer) per fetch. On the main thread of every admission those cost about a tenth of its
   * time. One timer bounds the whole fetch, connect to last byte.
   */
  function fetchFrom(did: string, target: FetchTarget): Promise<DidWebDocument> {
    const where = target.href;
    return new Promise<DidWebDocument>((resolve, reject) => {
      let controller: Dispatcher.DispatchController | null = null;
      let settled = false;
      const chunks: Uint8Array[] = [];
      let total = 0;
      /** Settles once; a refusal or a timeout also abandons the request (and its connection). */
      const settle = (error: AccordError | null, document?: DidWebDocument): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === null) {
          resolve(document as DidWebDocument);
          return;
        }
        controller?.abort(error);
        reject(error);
      };
      const timer = setTimeout(
        () => settle(new AccordError('DID_WEB_TIMEOUT', `fetching ${where} took longer than ${timeoutMs} ms`, { details: { url: where } })),
        timeoutMs,
      );
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart(c) {
          controller = c;
          // Given up (timed out) while the connection was being made: nothing more to wait for.
          if (settled) c.abort(new Error(`the fetch of ${where} was given up`));
        },
        onResponseStart(_c, status, headers) {
          // 1xx answers (e.g. 103 Early Hints) come before the final one.
          if (status < 200 || settled) return;
          const refusal = refuseResponse(where, status, headers, maxBytes);
          if (refusal !== null) settle(refusal);
        },
        onResponseData(_c, chunk) {
          if (settled) return;
          total += chunk.length;
          if (total > maxBytes) settle(tooLarge(where, `more than ${maxBytes}`, maxBytes));
          else chunks.push(chunk);
        },
        onResponseEnd() {
          if (settled) return;
          try {
            const bytes = concatBytes(...chunks);
            const methods = methodsFromDidDocument(did, bytes);
            settle(null, { url: where, bytes, documentDigest: digestOfNode(bytes), methods });
          } catch (e) {
            settle(isAccordError(e) ? e : new AccordError('DID_WEB_FETCH_FAILED', `could not read ${where}: ${errorText(e)}`, { cause: e, details: { url: where } }));
          }
        },
        onResponseError(_c, e) {
          if (settled) return;
          const known = findCause(e, (x) => isAccordError(x));
          if (known !== undefined) settle(known as AccordError);
          else settle(new AccordError('DID_WEB_FETCH_FAILED', `could not fetch ${where}: ${errorText(e)}`, { cause: e, details: { url: where } }));
        },
      };
      target.dispatcher.dispatch({ origin: target.origin, path: target.path, method: 'GET', headers: DOCUMENT_REQUEST_HEADERS }, handler);
    });
  }

  return {
    fetch: fetchDocument,
    async close() {
      await Promise.all([guarded.close(), mapped.close()]);
    },
  };
}
