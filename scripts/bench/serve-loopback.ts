/**
 * The registry for the benchmark: what src/main.ts (`npm start`) runs, from the same environment
 * (DESIGN 9), but listening on 127.0.0.1 only, so the benchmark never opens a port to the network.
 * Prints one JSON line `{ "port": n }` when it listens; stops on SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { loadConfig } from '../../src/config.ts';
import { openRegistry } from '../../src/registry.ts';
import { createApp } from '../../src/server/app.ts';
import { createDidWebFetcher } from '../../src/server/did-web.ts';

const config = loadConfig(process.env);
const logger = pino({ level: config.logLevel });
const registry = await openRegistry({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, origin: config.origin });
const didWeb = createDidWebFetcher({ hosts: config.didWebHosts });
const server = createServer(createApp({ registry, config, logger, didWebFetch: didWeb.fetch }));
server.listen(config.port, '127.0.0.1', () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as AddressInfo).port })}\n`);
});
process.once('SIGTERM', () => {
  server.close();
  server.closeAllConnections();
  void registry.close().then(() => didWeb.close());
});
