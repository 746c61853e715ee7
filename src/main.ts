/**
 * The registry server (`npm start`): configuration from the environment (DESIGN 9), the registry
 * opened (SQLite in DATA_DIR unless DATABASE_URL; the first start creates the keys and entry 0),
 * the app listening on PORT. SIGINT/SIGTERM stop accepting connections, let the sequencer finish
 * what it has queued, and close the database: an acknowledged entry is committed before its
 * receipt leaves, so even a hard kill loses nothing acknowledged (src/log/sequencer.ts).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { isAccordError } from './core/errors.ts';
import { openRegistry } from './registry.ts';
import { createApp } from './server/app.ts';
import { createDidWebFetcher } from './server/did-web.ts';

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
  const app = createApp({ registry, config, logger, didWebFetch: didWeb.fetch });
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
    logger.info('stopped');
  };
  process.once('SIGINT', (s) => void stop(s));
  process.once('SIGTERM', (s) => void stop(s));

  server.listen(config.port, () => {
    const { port } = server.address() as AddressInfo;
    logger.info(
      { port, origin: registry.keys.origin, engine: registry.handle.engine, logKey: registry.keys.logVerifierKey },
      `Accord Registry listening on http://localhost:${port}/`,
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
