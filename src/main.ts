/**
 * The registry server (`npm start`): configuration from the environment (DESIGN 9), the registry
 * opened (SQLite in DATA_DIR unless DATABASE_URL; the first start creates the keys and entry 0),
 * the app listening on PORT, on HOST (every interface when HOST is unset). SIGINT/SIGTERM stop
 * accepting connections, let the sequencer finish what it has queued, and close the database: an
 * acknowledged entry is committed before its receipt leaves, so even a hard kill loses nothing
 * acknowledged (src/log/sequencer.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { isAccordError } from './core/errors.ts';
import { openRegistry } from './registry.ts';
import { createApp } from './server/app.ts';
import { createDidWebFetcher } from './server/did-web.ts';
import { createProofVerifier } from './server/proof-verifier.ts';
import { proofWorkerScript } from './server/proof-worker-script.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    // A configuration error is the operator's to fix: one clear line, no stack trace.
    process.stderr.write(`accord-registry: ${isAccordError(e) ? e.message : String(e)}\n`);
    process.exitCode = 2;
    return;
  }
  const logger = pino({ level: config.logLevel, base: { service: 'accord-registry' } });
  let registry;
  try {
    registry = await openRegistry({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, origin: config.origin });
  } catch (e) {
    if (isAccordError(e)) {
      logger.fatal({ code: e.code }, e.message);
    } else {
      logger.fatal({ err: e }, 'the registry could not start');
    }
    process.exitCode = 1;
    return;
  }
  const didWeb = createDidWebFetcher({ hosts: config.didWebHosts });
  // Proof checks on another core when there is one (src/server/proof-verifier.ts): one thread
  // verifies thousands of proofs a second, more than one main thread can admit.
  const proofThreads = availableParallelism() > 1 ? 1 : 0;
  const proofVerifier = createProofVerifier(proofThreads, proofThreads > 0 ? await proofWorkerScript() : undefined);
  const app = createApp({ registry, config, logger, didWebFetch: didWeb.fetch, proofVerifier });
  const server = createServer(app);

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new connections, finishing queued appends');
    // close() stops listening and waits for open requests; idle keep-alive sockets are closed now.
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const force = setTimeout(() => server.closeAllConnections(), 10_000);
    force.unref();
    await closed;
    await registry.close();
    await didWeb.close();
    await proofVerifier.close();
    logger.info('stopped');
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));

  const host = config.host;
  server.listen({ port: config.port, ...(host === null ? {} : { host }) }, () => {
    const { port, address } = server.address() as AddressInfo;
    // A URL to click: localhost when listening everywhere, the address itself otherwise.
    const shown = host === null ? 'localhost' : address.includes(':') ? `[${address}]` : address;
    logger.info(
      { port, host: address, origin: registry.keys.origin, engine: registry.handle.engine, logKey: registry.keys.logVerifierKey },
      `Accord Registry listening on http://${shown}:${port}/`,
    );
  });
  server.on('error', (e) => {
    logger.fatal({ err: e }, 'the HTTP server failed');
    void registry.close().finally(() => {
      process.exitCode = 1;
    });
  });
}

await main();
