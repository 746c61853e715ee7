/**
 * The ONE place where an error becomes an HTTP answer (STYLE practice 4): the status is derived
 * from the AccordError code, never chosen where the error is thrown.
 *
 * | status | codes |
 * |---|---|
 * | 400 | everything else that is the caller's fault: JSON_*, BAD_*, STATEMENT_*, PROOF_*, INVALID_*, ISSUER_MISMATCH, ACCORD_UNKNOWN... (the default) |
 * | 403 | REGISTRY_STATEMENT_FORBIDDEN (registry types are not submitted over HTTP), SIGNATORY_DELISTED |
 * | 404 | NOT_FOUND, LOG_ENTRY_NOT_FOUND, TILE_BAD_PATH |
 * | 405 | METHOD_NOT_ALLOWED |
 * | 409 | the log's current state refuses it, a retry against a newer state may pass: PREVIOUS_MISMATCH (with `error.head`), NOT_A_SIGNATORY, WITHDRAWAL_ACCORD_MISMATCH, DUPLICATE_ENTRY |
 * | 413 | BODY_TOO_LARGE, ENTRY_TOO_LARGE, JSON_TOO_LARGE, STATEMENT_TOO_LARGE |
 * | 415 | UNSUPPORTED_MEDIA_TYPE |
 * | 422 | the signatory's domain is at fault, not the request: DID_WEB_* (document cannot be fetched or used, DESIGN 7), KEY_NOT_IN_DID_DOCUMENT, KEY_NOT_ATTESTED |
 * | 429 | RATE_LIMITED |
 * | 500 | INTERNAL and every error that is not an AccordError, plus codes of the server's own machinery (DB_* other than DB_BUSY, LOG_* other than the above, SEQUENCER_*, REGISTRY_KEY*, KEY_FILE_*, CONFIG_*, VIEWS_*...): logged, answered without details |
 * | 503 | SHUTTING_DOWN, SEQUENCER_CLOSED, SEQUENCER_CONTENTION, DB_BUSY (another process held the write lock too long) (try again) |
 *
 * Under /api/ the body is `{ "error": { "code", "message", ...details } }` (DESIGN 7); elsewhere an
 * HTML page. A 5xx never carries the internal message or a stack trace.
 */
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { AccordError, isAccordError } from '../core/errors.ts';

const EXACT: Readonly<Record<string, number>> = {
  REGISTRY_STATEMENT_FORBIDDEN: 403,
  SIGNATORY_DELISTED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  PREVIOUS_MISMATCH: 409,
  NOT_A_SIGNATORY: 409,
  DUPLICATE_ENTRY: 409,
  BODY_TOO_LARGE: 413,
  ENTRY_TOO_LARGE: 413,
  JSON_TOO_LARGE: 413,
  STATEMENT_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  KEY_NOT_IN_DID_DOCUMENT: 422,
  KEY_NOT_ATTESTED: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  SHUTTING_DOWN: 503,
  SEQUENCER_CLOSED: 503,
  SEQUENCER_CONTENTION: 503,
  DB_BUSY: 503,
  WITHDRAWAL_ACCORD_MISMATCH: 409,
  LOG_ENTRY_NOT_FOUND: 404,
  LOG_BAD_PROOF_REQUEST: 400,
  TILE_BAD_PATH: 404,
};

const PREFIX: readonly (readonly [string, number])[] = [
  ['DID_WEB_', 422],
  // The server's own machinery: never the caller's fault (storage, sequencer, registry keys,
  // configuration, templates, log integrity of our own database).
  ['STORAGE_', 500],
  ['DB_', 500],
  ['DATABASE_', 500],
  ['MIGRATION_', 500],
  ['SEQUENCER_', 500],
  ['REGISTRY_KEY', 500],
  ['REGISTRY_ORIGIN', 500],
  ['REGISTRY_IDENTITY', 500],
  ['CONFIG_', 500],
  ['VIEWS_', 500],
  ['LOG_', 500],
  ['KEY_FILE_', 500],
  ['ASSET_', 500],
];

/** HTTP status for an AccordError code (see the table above). */
export function httpStatusFor(code: string): number {
  const exact = EXACT[code];
  if (exact !== undefined) return exact;
  for (const [p, status] of PREFIX) if (code.startsWith(p)) return status;
  return 400;
}

export interface ErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

export type RenderErrorPage = (status: number, code: string, message: string) => string;

export interface ErrorHandlerOptions {
  logger: Logger;
  /** The pages' HTML error view; a minimal built-in page is used if absent or if it fails. */
  renderPage?: RenderErrorPage;
}

const GENERIC_5XX = 'the registry could not handle this request; the operator has the details in the server log';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function minimalPage(status: number, code: string, message: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${status} ${escapeHtml(code)} - Accord Registry</title></head>` +
    `<body><h1>${status}</h1><p><code>${escapeHtml(code)}</code></p><p>${escapeHtml(message)}</p><p><a href="/">Accord Registry</a></p></body></html>\n`;
}

/** Whether the request is answered in JSON (the API) or HTML (pages). */
export function wantsJson(req: Request): boolean {
  // originalUrl: a router mounted at /api sees only the rest of the path in req.path.
  const path = req.originalUrl.split('?')[0] ?? '';
  return path.startsWith('/api/') || path === '/api' || path.endsWith('.json');
}

/**
 * What an error becomes: status, code, message and the extra members for API clients. Errors that
 * express's body parser raises (they carry `status` and `type`) keep their 4xx meaning.
 */
export function describeError(err: unknown): { status: number; code: string; message: string; details: Record<string, unknown>; internal: boolean } {
  if (isAccordError(err)) {
    const status = httpStatusFor(err.code);
    if (status >= 500) return { status, code: status === 503 ? err.code : 'INTERNAL', message: status === 503 ? err.message : GENERIC_5XX, details: {}, internal: status === 500 };
    const details: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(err.details ?? {})) if (k !== 'code' && k !== 'message') details[k] = v;
    return { status, code: err.code, message: err.message, details, internal: false };
  }
  const e = err as { status?: unknown; type?: unknown; expose?: unknown } | null;
  if (e !== null && typeof e === 'object' && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    // body-parser / http-errors: https://github.com/expressjs/body-parser#errors
    const map: Record<string, [string, string]> = {
      'entity.too.large': ['BODY_TOO_LARGE', 'the request body is larger than the limit'],
      'encoding.unsupported': ['UNSUPPORTED_MEDIA_TYPE', 'the request body must not be compressed (no Content-Encoding)'],
      'request.aborted': ['REQUEST_ABORTED', 'the request body ended early'],
      'request.size.invalid': ['BAD_REQUEST', 'the request body does not match its Content-Length'],
    };
    const hit = typeof e.type === 'string' ? map[e.type] : undefined;
    const code = hit?.[0] ?? 'BAD_REQUEST';
    return { status: hit ? httpStatusFor(code) : e.status, code, message: hit?.[1] ?? 'the request could not be read', details: {}, internal: false };
  }
  return { status: 500, code: 'INTERNAL', message: GENERIC_5XX, details: {}, internal: true };
}

/** Extra headers of an error answer: when to try again after a 429 or a 503. */
function errorHeaders(status: number): Record<string, string> {
  return status === 429 || status === 503 ? { 'Retry-After': '60' } : {};
}

/**
 * The JSON error answer of the API (DESIGN 7) for `err`, after logging it if it is the server's
 * own failure: shared by the express handler below and the submission endpoint, which runs
 * outside express (submit-endpoint.ts).
 */
export function apiErrorAnswer(err: unknown, where: { method: string | undefined; url: string | undefined }, opts: ErrorHandlerOptions): { status: number; headers: Record<string, string>; body: string } {
  const d = describeError(err);
  if (d.internal) opts.logger.error({ err, method: where.method, url: where.url }, 'unexpected error while handling a request');
  const body: ErrorBody = { error: { ...d.details, code: d.code, message: d.message } };
  return { status: d.status, headers: errorHeaders(d.status), body: JSON.stringify(body) };
}

/** Sends an error answer: JSON under /api/, HTML elsewhere. */
export function sendError(req: Request, res: Response, err: unknown, opts: ErrorHandlerOptions): void {
  if (wantsJson(req)) {
    const answer = apiErrorAnswer(err, { method: req.method, url: req.originalUrl }, opts);
    // Too late for a clean answer: end the response so the client is not left waiting.
    if (res.headersSent) res.destroy();
    else res.status(answer.status).set(answer.headers).type('application/json').send(answer.body);
    return;
  }
  const d = describeError(err);
  if (d.internal) {
    opts.logger.error({ err, method: req.method, url: req.originalUrl }, 'unexpected error while handling a request');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.status(d.status).set(errorHeaders(d.status));
  let html: string;
  try {
    html = opts.renderPage ? opts.renderPage(d.status, d.code, d.message) : minimalPage(d.status, d.code, d.message);
  } catch (renderErr) {
    opts.logger.error({ err: renderErr }, 'the error page failed to render');
    html = minimalPage(d.status, d.code, d.message);
  }
  res.type('text/html').send(html);
}

/** Express error middleware (the last one mounted). */
export function errorHandler(opts: ErrorHandlerOptions): ErrorRequestHandler {
  return (err, req, res, _next) => {
    sendError(req, res, err, opts);
  };
}

/** The last route: 404 NOT_FOUND in the right format. */
export function notFoundHandler(opts: ErrorHandlerOptions): RequestHandler {
  return (req, res) => {
    sendError(req, res, new AccordError('NOT_FOUND', `nothing at ${req.method} ${req.path.length > 200 ? `${req.path.slice(0, 200)}...` : req.path}`), opts);
  };
}
