/**
 * The express 5 application, built without listening (STYLE practice 9): tests drive it with
 * supertest on a real database; only src/main.ts listens.
 *
 * Order of the middleware: security headers (helmet, strict CSP: no inline script or style, no
 * framing: security-headers.ts), then the JSON API, the log for machines, the pages and feeds,
 * 404, and last the one error handler (http-errors.ts). Submissions (POST /api/v1/statements, with
 * their rate limit) are served before express, by submit-endpoint.ts, which says why.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import type { Logger } from 'pino';
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
import { securityMiddleware } from './security-headers.ts';
import { submitEndpoint } from './submit-endpoint.ts';
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

/** What createApp builds: a request listener for node:http (and supertest). */
export type AppHandler = (req: IncomingMessage, res: ServerResponse) => void;

export function createApp(deps: AppDeps): AppHandler {
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
  // Behind a reverse proxy, what express reports of the client (req.ip, and req.protocol for the
  // pages' absolute links) comes from X-Forwarded-* as far as the configured proxies vouch for it;
  // by default from the socket. The submission endpoint applies the same trust to the address its
  // rate limit counts (client-address.ts).
  if (config.trustProxy !== null) app.set('trust proxy', config.trustProxy);
  app.use(securityMiddleware());
  app.use('/api/v1', apiRouter({ registry }));
  // Anything else under /api/ is a JSON 404, never a page.
  app.use('/api', notFoundHandler(errors));
  app.use(logRouter(registry));

  const pagesDeps = { registry: registryForPages(registry), config, logger };
  app.use(feedsRouter(pagesDeps));
  app.use(pagesRouter(pagesDeps));

  app.use(notFoundHandler(errors));
  app.use(errorHandler(errors));

  const submit = submitEndpoint({
    registry,
    didWebFetch,
    now,
    logger,
    errors,
    rateLimit: config.submitRateLimit,
    trustProxy: config.trustProxy,
    ...(deps.proofVerifier ? { proofVerifier: deps.proofVerifier } : {}),
  });
  return (req, res) => {
    if (!submit(req, res)) app(req, res);
  };
}
