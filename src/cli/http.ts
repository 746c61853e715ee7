/**
 * HTTP helpers shared by the command-line tools (accord-sign, accord-export): fetch with a
 * timeout and a body size cap, strict JSON, and the registry's error shape (DESIGN section 7:
 * `{ "error": { "code", "message" } }`). Failures to reach the registry are NETWORK_ERROR
 * (exit 2: could not run); a 4xx is the registry's refusal (exit 1).
 */
import { AccordError, describeValue } from '../core/errors.ts';
import { parseStrictJson } from '../core/json/strict-parse.ts';
import { readCappedBody } from '../node/read-capped.ts';
import { refusal } from './exit.ts';

/** Whole-request timeout. */
export const HTTP_TIMEOUT_MS = 30_000;
/** A tile is at most 8 KiB and an entry bundle at most 256 * (2 + 65,535) bytes. */
export const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

export interface HttpResponse {
  status: number;
  contentType: string;
  body: Uint8Array;
}

/**
 * The URL of `path` under a registry's site root. A root with a path prefix
 * (https://host/registry/) keeps it: DESIGN 8 names paths relative to the root.
 */
export function registryUrl(root: string, path: string): string {
  let base: URL;
  try {
    base = new URL(root);
  } catch (cause) {
    throw new AccordError('USAGE', `not a URL: ${describeValue(root)}`, { cause });
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') {
    throw new AccordError('USAGE', `a registry URL is http(s), got ${describeValue(root)}`);
  }
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  base.search = '';
  base.hash = '';
  return new URL(path.replace(/^\/+/, ''), base).href;
}


/** One request. Any status is returned; only a failure to get an answer throws (NETWORK_ERROR). */
export async function request(
  url: string,
  init: { method?: string; body?: string | Uint8Array; headers?: Record<string, string>; maxBytes?: number; timeoutMs?: number } = {},
): Promise<HttpResponse> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: init.headers ?? {},
      body: init.body === undefined ? null : typeof init.body === 'string' ? init.body : Buffer.from(init.body),
      redirect: 'error',
      signal: AbortSignal.timeout(init.timeoutMs ?? HTTP_TIMEOUT_MS),
    });
  } catch (cause) {
    const reason = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
    throw new AccordError('NETWORK_ERROR', `could not reach ${url}: ${reason}`, { cause });
  }
  try {
    const maxBytes = init.maxBytes ?? MAX_RESPONSE_BYTES;
    const body = await readCappedBody(res, maxBytes, (declared) =>
      new AccordError('RESPONSE_TOO_LARGE', declared === null ? `${url} answered with more than ${maxBytes} bytes` : `${url} answered with ${declared} bytes, more than the ${maxBytes} allowed`),
    );
    return { status: res.status, contentType: res.headers.get('content-type') ?? '', body };
  } catch (cause) {
    if (cause instanceof AccordError) throw cause;
    throw new AccordError('NETWORK_ERROR', `reading the answer of ${url} failed: ${(cause as Error).message}`, { cause });
  }
}

/** Parses a JSON answer defensively (code BAD_RESPONSE). */
export function responseJson(res: HttpResponse, url: string): unknown {
  try {
    return parseStrictJson(res.body, { maxBytes: MAX_RESPONSE_BYTES });
  } catch (cause) {
    throw new AccordError('BAD_RESPONSE', `${url} answered ${res.status} with a body that is not JSON: ${(cause as Error).message}`, { cause });
  }
}

/** The registry's `{ error: { code, message, ...details } }`, or a stand-in built from the status. */
export function registryError(res: HttpResponse, url: string): { code: string; message: string; details: Record<string, unknown> } {
  try {
    const json = parseStrictJson(res.body, { maxBytes: MAX_RESPONSE_BYTES }) as { error?: unknown };
    const err = json?.error as Record<string, unknown> | undefined;
    if (err && typeof err === 'object' && typeof err.code === 'string' && typeof err.message === 'string') {
      const { code, message, ...details } = err;
      return { code, message, details };
    }
  } catch {
    // Not the registry's error shape: fall through and describe the status instead.
  }
  return { code: `HTTP_${res.status}`, message: `${url} answered ${res.status}`, details: {} };
}

/** GET a JSON document; 404 gives null; any other non-200 throws the registry's error. */
export async function getJson(url: string): Promise<unknown> {
  const res = await request(url, { headers: { accept: 'application/json' } });
  if (res.status === 404) return null;
  if (res.status !== 200) throw httpFailure(res, url);
  return responseJson(res, url);
}

/** GET bytes; any non-200 throws (a mirror must be complete). */
export async function getBytes(url: string): Promise<Uint8Array> {
  const res = await request(url);
  if (res.status !== 200) throw httpFailure(res, url);
  return res.body;
}

/**
 * An unexpected answer: 5xx means the registry could not answer (NETWORK_ERROR, exit 2); a 4xx is
 * the registry's refusal (REGISTRY_REFUSED with its own code in details, exit 1).
 */
export function httpFailure(res: HttpResponse, url: string): AccordError {
  const e = registryError(res, url);
  // A stand-in error (no JSON body) would only repeat the status.
  const said = e.code.startsWith('HTTP_') ? '' : ` (${e.code}: ${e.message})`;
  if (res.status >= 500) {
    return new AccordError('NETWORK_ERROR', `${url} answered ${res.status}: the server could not answer${said}`, { details: { status: res.status } });
  }
  return refusal('REGISTRY_REFUSED', `${url} answered ${res.status} ${e.code}: ${e.message}`, {
    details: { ...e.details, status: res.status, registryCode: e.code },
  });
}

/** The registry's /.well-known/accord-registry.json (DESIGN 6). */
export interface RegistryInfo {
  origin: string;
  logKey: string;
  attestationKey: string;
}

export async function fetchRegistryInfo(root: string): Promise<RegistryInfo> {
  const url = registryUrl(root, '.well-known/accord-registry.json');
  const json = (await getJson(url)) as Record<string, unknown> | null;
  if (json === null) throw refusal('REGISTRY_REFUSED', `${url} answered 404: is ${root} an Accord registry?`);
  if (typeof json !== 'object' || typeof json.origin !== 'string' || typeof json.logKey !== 'string' || typeof json.attestationKey !== 'string') {
    throw new AccordError('BAD_RESPONSE', `${url} must hold { origin, logKey, attestationKey } as strings`);
  }
  return { origin: json.origin, logKey: json.logKey, attestationKey: json.attestationKey };
}
