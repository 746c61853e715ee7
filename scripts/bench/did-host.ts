/**
 * A did:web host for the benchmark on 127.0.0.1: serves `/<domain>/.well-known/did.json` from a map,
 * so DID_WEB_HOSTS can map every benchmark company to one local server (DESIGN 4).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface BenchDidHost {
  documents: Map<string, string>;
  /** The DID_WEB_HOSTS value for these domains. */
  mapping(domains: readonly string[]): string;
  close(): Promise<void>;
}

export async function startDidHost(): Promise<BenchDidHost> {
  const documents = new Map<string, string>();
  const server: Server = createServer((req, res) => {
    const m = /^\/([^/]+)\/\.well-known\/did\.json$/.exec(req.url ?? '');
    const doc = m === null ? undefined : documents.get(m[1] as string);
    if (doc === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/did+json' }).end(doc);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    documents,
    mapping: (domains) => domains.map((d) => `${d}=http://127.0.0.1:${port}/${d}`).join(','),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
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
