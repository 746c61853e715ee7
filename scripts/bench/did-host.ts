/**
 * A did:web host for the benchmark on 127.0.0.1: serves `/<domain>/.well-known/did.json` from a map,
 * so DID_WEB_HOSTS can map every benchmark company to one local server (DESIGN 4). It runs in a
 * worker thread of its own: the registry fetches a document for every submission, and an answer
 * held up behind the load generator's signing (same thread) would be counted against the registry.
 */
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';

export interface BenchDidHost {
  /** The DID_WEB_HOSTS value for these domains. */
  mapping(domains: readonly string[]): string;
  close(): Promise<void>;
}

// Plain JavaScript, evaluated in the worker (no loader needed there).
const SERVER = `
const { createServer } = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const documents = new Map(workerData);
const server = createServer((req, res) => {
  const m = /^\\/([^/]+)\\/\\.well-known\\/did\\.json$/.exec(req.url ?? '');
  const doc = m === null ? undefined : documents.get(m[1]);
  if (doc === undefined) {
    res.writeHead(404).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/did+json' }).end(doc);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', () => {
  server.closeAllConnections();
  server.close(() => parentPort.postMessage({ closed: true }));
});
`;

/** Starts the host serving `documents` (domain -> did.json text). */
export async function startDidHost(documents: ReadonlyMap<string, string>): Promise<BenchDidHost> {
  const worker = new Worker(SERVER, { eval: true, workerData: [...documents], execArgv: [] });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', (m: Pick<AddressInfo, 'port'>) => resolve(m.port));
    worker.once('error', reject);
  });
  return {
    mapping: (domains) => domains.map((d) => `${d}=http://127.0.0.1:${port}/${d}`).join(','),
    close: async () => {
      const closed = new Promise<void>((resolve) => worker.once('message', () => resolve()));
      worker.postMessage('close');
      await closed;
      await worker.terminate();
    },
  };
}

/** A did.json listing one Multikey assertion method. */
export function didDocument(did: string, method: string, publicKeyMultibase: string): string {
  return JSON.stringify({
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: [{ id: method, type: 'Multikey', controller: did, publicKeyMultibase }],
    assertionMethod: [method],
  });
}
