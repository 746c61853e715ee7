/**
 * The express 5 application, built without listening (STYLE practice 9): tests drive it with
 * supertest on a real database; only src/main.ts listens.
 *
 * Order of the middleware: security headers (helmet, strict CSP: no inline script or style, no
 * framing), then the JSON API (with the submission rate limit), the log for machines, the pages
 * and feeds, 404, and last the one error handler (http-errors.ts).
 */
import express from 'express';
import type { Express, RequestHandler } from 'express';
import { rateLimit } from 'express-rate-limit';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { AccordError } from '../core/errors.ts';
import { formatTlogProof } from '../core/log/tlog-proof.ts';
import type { Config } from '../config.ts';
import type { Registry } from '../registry.ts';
import { createDidWebFetcher, type DidWebFetch } from './did-web.ts';
import { errorHandler, notFoundHandler, type ErrorHandlerOptions, type RenderErrorPage } from './http-errors.ts';
import type { ProofVerifier } from './proof-verifier.ts';
import type { RegistryForPages } from './read-model.ts';
import { apiRouter } from './routes/api.ts';
import { feedsRouter } from './routes/feeds.ts';
import { logRouter } from './routes/log.ts';
import { pagesRouter } from './routes/pages.ts';
import { renderErrorPage } from './views.ts';

export interface AppDeps {
  registry: Registry;
  config: Config;
  logger: Logger;
  /** The did:web fetch; default: the guarded fetch over config.didWebHosts (did-web.ts). */
  didWebFetch?: DidWebFetch;
  /** The registry's clock for the admission time window and attestations (tests move it). */
  clock?: () => Date;
  /** Where admission checks proofs (proof-verifier.ts); default: on the main thread. */
  proofVerifier?: ProofVerifier;
}

/** DESIGN 7 pages: no inline script or style, nothing from other origins, no framing. */
export const CONTENT_SECURITY_POLICY = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'object-src': ["'none'"],
  'base-uri': ["'none'"],
  'frame-ancestors': ["'none'"],
  'form-action': ["'self'"],
};

/** The registry as the pages and feeds read it (src/server/read-model.ts). */
export function registryForPages(registry: Registry): RegistryForPages {
  return {
    db: registry.handle.db,
    origin: registry.keys.origin,
    logKey: registry.keys.logVerifierKey,
    attestationKey: registry.keys.attestationDid,
    async tlogProof(index) {
      const cp = await registry.reader.latestCheckpoint();
      if (cp === undefined || !Number.isSafeInteger(index) || index < 0 || index >= cp.size) return null;
      const proof = await registry.reader.inclusionProof(index, cp.size);
      return { text: formatTlogProof({ index, proof, checkpoint: cp.note }), size: cp.size };
    },
  };
}

/**
 * express-rate-limit on submissions: SUBMIT_RATE_LIMIT per minute per client address (req.ip,
 * see TRUST_PROXY); 0 is off. A forwarded request while no proxy is trusted is reported once in
 * our own log (the library's check would print to the console instead): every client behind
 * that proxy shares one limit until the operator sets TRUST_PROXY.
 */
function submitLimiter(perMinute: number, trustProxy: Config['trustProxy'], logger: Logger): RequestHandler | undefined {
  if (perMinute === 0) return undefined;
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    validate: { xForwardedForHeader: false },
    handler: (_req, _res, next) => {
      next(new AccordError('RATE_LIMITED', `more than ${perMinute} submissions in a minute from this address; try again later`));
    },
  });
  if (trustProxy !== null) return limiter;
  let warned = false;
  return (req, res, next) => {
    if (!warned && req.headers['x-forwarded-for'] !== undefined) {
      warned = true;
      logger.warn(
        { socketAddress: req.socket.remoteAddress },
        'a submission came through a proxy (X-Forwarded-For) but TRUST_PROXY is unset: the rate limit counts the proxy address for all its clients',
      );
    }
    void limiter(req, res, next);
  };
}

export function createApp(deps: AppDeps): Express {
  const { registry, config, logger } = deps;
  const now = deps.clock ?? (() => new Date());
  const didWebFetch = deps.didWebFetch ?? createDidWebFetcher({ hosts: config.didWebHosts }).fetch;
  const renderPage: RenderErrorPage = renderErrorPage;
  const errors: ErrorHandlerOptions = { logger, renderPage };

  const app = express();
  app.disable('x-powered-by');
  // Query strings are parsed flat (?a=1&a=2 becomes an array, which the API refuses): express 5's
  // "simple" parser, never nested objects.
  app.set('query parser', 'simple');
  // Behind a reverse proxy, the client address (the rate limit's key, the logs) comes from
  // X-Forwarded-For as far as the configured proxies vouch for it; by default it is the socket's.
  if (config.trustProxy !== null) app.set('trust proxy', config.trustProxy);
  app.use(
    helmet({
      contentSecurityPolicy: { useDefaults: false, directives: CONTENT_SECURITY_POLICY },
      // X-Frame-Options for browsers without CSP frame-ancestors: no framing at all.
      frameguard: { action: 'deny' },
      // Same-origin pages only; the API and log are readable cross-origin where they say so.
      crossOriginResourcePolicy: { policy: 'cross-origin' },
    }),
  );

  const limiter = submitLimiter(config.submitRateLimit, config.trustProxy, logger);
  app.use(
    '/api/v1',
    apiRouter({ registry, didWebFetch, now, logger, ...(deps.proofVerifier ? { proofVerifier: deps.proofVerifier } : {}), ...(limiter ? { submitLimiter: limiter } : {}) }),
  );
  // Anything else under /api/ is a JSON 404, never a page.
  app.use('/api', notFoundHandler(errors));
  app.use(logRouter(registry));

  const pagesDeps = { registry: registryForPages(registry), config, logger };
  app.use(feedsRouter(pagesDeps));
  app.use(pagesRouter(pagesDeps));

  app.use(notFoundHandler(errors));
  app.use(errorHandler(errors));
  return app;
}
