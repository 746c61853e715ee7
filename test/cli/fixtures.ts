/**
 * Fixtures for the command-line tests: the server harness's registry served on 127.0.0.1, key
 * files as accord-keygen writes them, and did.json documents published on the harness's did:web
 * host.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import type { RequestListener } from 'node:http';
import { generateKeyPair, type KeyPair } from '../../src/core/crypto/ed25519.ts';
import { encodePublicMultikey, encodeSecretMultikey } from '../../src/core/crypto/multikey.ts';
import type { DidHost } from '../helpers/company.ts';

export interface Listening {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Serves a request listener (an express app) on 127.0.0.1, a free port. */
export async function listen(handler: RequestListener): Promise<Listening> {
  const server = createServer(handler);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface TestKey {
  path: string;
  did: string;
  method: string;
  keyPair: KeyPair;
  publicKeyMultibase: string;
}

/** Writes a key file in accord-keygen's format (mode 0600 unless told otherwise). */
export async function writeKeyFile(dir: string, domain: string, n = 1, mode = 0o600): Promise<TestKey> {
  const keyPair = generateKeyPair();
  const did = `did:web:${domain}`;
  const method = `${did}#key-${n}`;
  const publicKeyMultibase = encodePublicMultikey(keyPair.publicKey);
  const path = join(dir, `${domain}-key-${n}.json`);
  const file = { did, verificationMethod: method, publicKeyMultibase, privateKeyMultibase: encodeSecretMultikey(keyPair.secretKey) };
  await writeFile(path, JSON.stringify(file, null, 2), { mode });
  return { path, did, method, keyPair, publicKeyMultibase };
}

/** The did.json accord-keygen writes for these keys (all of them under assertionMethod). */
export function didDocument(did: string, keys: readonly TestKey[]): string {
  return JSON.stringify({
    '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
    id: did,
    verificationMethod: keys.map((k) => ({ id: k.method, type: 'Multikey', controller: did, publicKeyMultibase: k.publicKeyMultibase })),
    assertionMethod: keys.map((k) => k.method),
  });
}

/** Publishes a did.json on the did:web host for the domain. */
export function publish(host: DidHost, domain: string, keys: readonly TestKey[]): void {
  host.set(domain, { kind: 'document', body: didDocument(`did:web:${domain}`, keys), contentType: 'application/did+json' });
}

/**
 * A registry in front of a real one that forwards every request unchanged, except that the
 * answer to POST /api/v1/statements goes through `tamper` (a registry that lies in its receipts).
 */
export async function tamperingProxy(
  target: string,
  tamper: (status: number, body: Buffer) => { status: number; body: Buffer },
): Promise<Listening> {
  return listen((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks);
        const upstream = await fetch(new URL(req.url ?? '/', target), {
          method: req.method ?? 'GET',
          headers: { 'content-type': req.headers['content-type'] ?? 'application/octet-stream' },
          body: req.method === 'GET' || req.method === 'HEAD' ? null : body,
        });
        let out: { status: number; body: Buffer } = { status: upstream.status, body: Buffer.from(await upstream.arrayBuffer()) };
        if (req.method === 'POST' && (req.url ?? '').startsWith('/api/v1/statements')) out = tamper(out.status, out.body);
        res.writeHead(out.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream' });
        res.end(out.body);
      })().catch(() => {
        res.writeHead(502).end();
      });
    });
  });
}
