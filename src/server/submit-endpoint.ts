/**
 * `POST /api/v1/statements` (DESIGN 7), served on Node's HTTP request before express sees it.
 *
 * WHY NOT EXPRESS: submissions are the registry's write path and its throughput target (1,000 a
 * second with 32 clients, issue 5). On these machines express 5 costs 230-330 microseconds of CPU
 * per request on top of Node's own HTTP handling (about 50): it swaps the prototypes of the
 * request and the response, which makes every later access to them slow, Node's own included. A
 * submission costs about 1.2 ms of registry CPU in all; express added 0.45 ms to it (measured with
 * `npm run bench`). Everything else (pages, reads, the log) stays on express.
 *
 * The endpoint does what the express route did, in the same order, with the same answers:
 *  1. security headers: exactly helmet's (recorded from helmet, security-headers.ts);
 *  2. the submission rate limit (express-rate-limit, counted by the client address as express's
 *     `req.ip` computes it: client-address.ts);
 *  3. content type application/json, UTF-8 (415 UNSUPPORTED_MEDIA_TYPE);
 *  4. no Content-Encoding (415), at most 64 KiB (413 BODY_TOO_LARGE), read by raw-body, the reader
 *     express.raw uses, so its errors map to the same codes (http-errors.ts describeError);
 *  5. admission (admission.ts); 201 or 200 with the receipt and a Location, or the JSON error of
 *     http-errors.ts (apiErrorAnswer), internal failures logged there.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import type { Request, Response } from 'express';
import getRawBody from 'raw-body';
import type { Logger } from 'pino';
import { AccordError, describeValue } from '../core/errors.ts';
import type { Config } from '../config.ts';
import { admitStatement, MAX_BODY_BYTES, type AdmissionDeps } from './admission.ts';
import { clientAddress } from './client-address.ts';
import { apiErrorAnswer, type ErrorHandlerOptions } from './http-errors.ts';
import { securityHeaderList } from './security-headers.ts';

export const SUBMIT_PATH = '/api/v1/statements';

/** Serves the request if it is a submission (true), or leaves it alone (false). */
export type SubmitEndpoint = (req: IncomingMessage, res: ServerResponse) => boolean;

export interface SubmitEndpointDeps extends AdmissionDeps {
  /** Submissions per minute per client address; 0: no limit (SUBMIT_RATE_LIMIT). */
  rateLimit: number;
  trustProxy: Config['trustProxy'];
  logger: Logger;
  errors: ErrorHandlerOptions;
}

type Limit = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/**
 * express-rate-limit on submissions: `perMinute` per client address. A forwarded request while no
 * proxy is trusted is reported once in our own log: every client behind that proxy shares one
 * limit until the operator sets TRUST_PROXY.
 */
function submissionLimit(perMinute: number, trustProxy: Config['trustProxy'], logger: Logger): Limit | undefined {
  if (perMinute === 0) return undefined;
  const addressOf = clientAddress(trustProxy);
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    // IPv6 clients are counted per /56, as the library's own key does (ipKeyGenerator).
    keyGenerator: (req) => ipKeyGenerator(addressOf(req)),
    handler: (_req, _res, next) => {
      next(new AccordError('RATE_LIMITED', `more than ${perMinute} submissions in a minute from this address; try again later`));
    },
  });
  let warned = false;
  return (req, res) => {
    if (!warned && trustProxy === null && req.headers['x-forwarded-for'] !== undefined) {
      warned = true;
      logger.warn(
        { socketAddress: req.socket.remoteAddress },
        'a submission came through a proxy (X-Forwarded-For) but TRUST_PROXY is unset: the rate limit counts the proxy address for all its clients',
      );
    }
    // The library is written for express's request and response. Of the request it reads only
    // headers and what our key and handler use; of the response, what the adapter below offers
    // (express's `append` is Node's appendHeader).
    const response = {
      get headersSent() {
        return res.headersSent;
      },
      setHeader(name: string, value: string) {
        res.setHeader(name, value);
        return response;
      },
      append(name: string, value: string) {
        res.appendHeader(name, value);
        return response;
      },
    };
    return new Promise<void>((resolve, reject) => {
      void limiter(req as Request, response as unknown as Response, (err?: unknown) => (err === undefined ? resolve() : reject(err)));
    });
  };
}

/** DESIGN 7: "a body that is not application/json gets 415"; RFC 8259 8.1: JSON is UTF-8. */
function requireJson(header: string | undefined): void {
  const [type, ...params] = (header ?? '').split(';');
  if (type?.trim().toLowerCase() !== 'application/json') {
    throw new AccordError('UNSUPPORTED_MEDIA_TYPE', `a statement is sent as application/json, got ${describeValue(header === undefined || header === '' ? '(no content type)' : header)}`);
  }
  for (const p of params) {
    const [k, v] = p.split('=');
    if (k?.trim().toLowerCase() === 'charset' && v?.trim().replace(/^"|"$/g, '').toLowerCase() !== 'utf-8') {
      throw new AccordError('UNSUPPORTED_MEDIA_TYPE', `JSON is UTF-8 (RFC 8259 8.1), got ${describeValue(header)}`);
    }
  }
}

/** The body, as express.raw({ limit: 64 KiB, inflate: false }) read it. */
async function readBody(req: IncomingMessage): Promise<Buffer> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    throw new AccordError('UNSUPPORTED_MEDIA_TYPE', 'the request body must not be compressed (no Content-Encoding)');
  }
  // raw-body checks a declared Content-Length against the limit before reading anything.
  return getRawBody(req, { length: req.headers['content-length'] ?? null, limit: MAX_BODY_BYTES });
}

/** A Content-Length within the body limit. */
function declaredSmall(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return length !== undefined && /^[0-9]{1,6}$/.test(length) && Number(length) <= MAX_BODY_BYTES;
}

function isSubmission(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === SUBMIT_PATH;
}

export function submitEndpoint(deps: SubmitEndpointDeps): SubmitEndpoint {
  const security = securityHeaderList();
  const limit = submissionLimit(deps.rateLimit, deps.trustProxy, deps.logger);

  const answer = (res: ServerResponse, status: number, headers: Record<string, string>, body: string): void => {
    for (const [name, value] of security) res.setHeader(name, value);
    for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
    res.setHeader('Content-Type', 'application/json; charset=utf-8');
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.statusCode = status;
    res.end(body);
  };

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let body: 'unread' | 'reading' | 'read' = 'unread';
    try {
      if (limit !== undefined) await limit(req, res);
      requireJson(req.headers['content-type']);
      body = 'reading';
      const bytes = await readBody(req);
      body = 'read';
      const { status, receipt } = await admitStatement(deps, bytes);
      answer(res, status, { Location: `/api/v1/entries/${receipt.index}` }, JSON.stringify(receipt));
    } catch (err) {
      const a = apiErrorAnswer(err, { method: req.method, url: req.url }, deps.errors);
      if (res.headersSent) {
        // Too late for a clean answer: end the response so the client is not left waiting.
        res.destroy();
        return;
      }
      if (body !== 'read' && !req.complete && !(body === 'unread' && declaredSmall(req))) {
        // A body refused while it was read, or an unread one of unknown or excessive length: the
        // connection closes after the answer rather than read (Node would) what may never end.
        // An unread body of a declared length within the limit is read and dropped by Node
        // after the answer, and the connection is kept.
        a.headers.Connection = 'close';
      }
      answer(res, a.status, a.headers, a.body);
    }
  };

  return (req, res) => {
    if (!isSubmission(req)) return false;
    void serve(req, res);
    return true;
  };
}
