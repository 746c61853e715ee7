/**
 * Shared fixtures for tests that play a signatory against a real registry: a real did:web host
 * (node:http on 127.0.0.1, a random port) and companies with Ed25519 keys that publish DID
 * documents there and build and sign pledges and withdrawals.
 *
 *   const host = await DidHost.start();             // one server for every company of a test file
 *   const acme = new Company('acme.test', host);    // publishes its did.json at once
 *   const env = { DID_WEB_HOSTS: host.didWebHosts(['acme.test']) };   // the registry's mapping
 *   const body = acme.pledge({ accord, previous: null });             // a signed statement object
 *
 * Each domain lives under its own path prefix (`http://127.0.0.1:<port>/<domain>`), so the mapped
 * base URL exercises the operator-mapping rule of DESIGN 4 for every company on one server.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { generateKeyPair, type KeyPair } from '../../src/core/crypto/ed25519.ts';
import { encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { buildPledge, buildWithdrawal, nowTimestamp, secureStatement } from '../../src/core/statements/build.ts';
import type { Links, Statement } from '../../src/core/statements/types.ts';

/** How the host answers for one domain; default: the company's document as application/did+json. */
export type HostBehaviour =
  | { kind: 'document'; body: string | Uint8Array; contentType?: string; status?: number; headers?: Record<string, string> }
  /** Accept the request and never answer (a timeout). */
  | { kind: 'stall' }
  /** Answer 200 with the headers and the start of a body, then never finish it (a timeout mid-body). */
  | { kind: 'stallBody' }
  /** Stream this many bytes of JSON-looking filler, with no Content-Length (a size cap test). */
  | { kind: 'endless'; bytes: number; contentType?: string };

export class DidHost {
  readonly server: Server;
  readonly port: number;
  private readonly behaviours = new Map<string, HostBehaviour>();
  private readonly sockets = new Set<Socket>();
  /** Paths requested, in order (e.g. to check that a document was fetched). */
  readonly requests: string[] = [];

  private constructor(server: Server, port: number) {
    this.server = server;
    this.port = port;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
  }

  static async start(): Promise<DidHost> {
    const ref: { host?: DidHost } = {};
    const server = createServer((req, res) => ref.host!.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    ref.host = new DidHost(server, (server.address() as AddressInfo).port);
    return ref.host;
  }

  /** The operator-mapped base URL for a domain. */
  baseUrl(domain: string): string {
    return `http://127.0.0.1:${this.port}/${domain}`;
  }

  /** The URL the registry fetches (and records in the attestation) for a domain. */
  documentUrl(domain: string): string {
    return `${this.baseUrl(domain)}/.well-known/did.json`;
  }

  /** A DID_WEB_HOSTS value mapping each domain to this host. */
  didWebHosts(domains: readonly string[]): string {
    return domains.map((d) => `${d}=${this.baseUrl(d)}`).join(',');
  }

  set(domain: string, behaviour: HostBehaviour): void {
    this.behaviours.set(domain, behaviour);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '/';
    this.requests.push(path);
    const m = /^\/([^/]+)\/\.well-known\/did\.json$/.exec(path);
    const b = m ? this.behaviours.get(m[1]!) : undefined;
    if (b === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    if (b.kind === 'stall') return; // never answers; close() destroys the socket
    if (b.kind === 'stallBody') {
      res.writeHead(200, { 'content-type': 'application/did+json' });
      res.write('{"id":"did:web:');
      return;
    }
    if (b.kind === 'endless') {
      res.writeHead(200, { 'content-type': b.contentType ?? 'application/did+json' });
      const chunk = Buffer.alloc(4096, 0x20);
      let left = b.bytes;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!res.write(chunk.subarray(0, n))) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.write('{"id":"');
      pump();
      return;
    }
    res.writeHead(b.status ?? 200, { 'content-type': b.contentType ?? 'application/did+json', ...b.headers });
    res.end(typeof b.body === 'string' ? b.body : Buffer.from(b.body));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface PledgeOptions {
  accord: string;
  previous: string | null;
  principles?: readonly number[];
  name?: string;
  country?: string;
  links?: Links;
  /** Default: now. */
  validFrom?: string;
  /** Default: validFrom. */
  created?: string;
  /** Sign with this key and method instead of the current one. */
  key?: KeyPair;
  method?: string;
}

export interface WithdrawalOptions {
  accord: string;
  previous: string | null;
  reason?: string;
  validFrom?: string;
  created?: string;
  key?: KeyPair;
  method?: string;
}

/** A signatory: a domain, its keys (`#key-1`, `#key-2`, ... after rotations) and its did.json. */
export class Company {
  readonly domain: string;
  readonly did: string;
  readonly host: DidHost | undefined;
  /** Every key it ever had, oldest first; the last is current. */
  readonly keys: { id: string; keyPair: KeyPair }[] = [];

  constructor(domain: string, host?: DidHost) {
    this.domain = domain;
    this.did = `did:web:${domain}`;
    this.host = host;
    this.keys.push({ id: `${this.did}#key-1`, keyPair: generateKeyPair() });
    this.publish();
  }

  get key(): KeyPair {
    return this.keys[this.keys.length - 1]!.keyPair;
  }

  get method(): string {
    return this.keys[this.keys.length - 1]!.id;
  }

  /** The DID document listing the current key (relative ids, as many real documents do). */
  didDocument(): Record<string, unknown> {
    const frag = this.method.slice(this.did.length);
    return {
      '@context': ['https://www.w3.org/ns/did/v1', 'https://w3id.org/security/multikey/v1'],
      id: this.did,
      verificationMethod: [
        { id: frag, type: 'Multikey', controller: this.did, publicKeyMultibase: encodePublicMultikey(this.key.publicKey) },
      ],
      assertionMethod: [frag],
    };
  }

  /** Serves the current did.json on the host (content type application/did+json). */
  publish(): void {
    this.host?.set(this.domain, { kind: 'document', body: JSON.stringify(this.didDocument(), null, 2) });
  }

  /** Key rotation (DESIGN 4): a new key `#key-N` replaces the old one in a new document. */
  rotate(): KeyPair {
    this.keys.push({ id: `${this.did}#key-${this.keys.length + 1}`, keyPair: generateKeyPair() });
    this.publish();
    return this.key;
  }

  pledge(o: PledgeOptions): Statement {
    const validFrom = o.validFrom ?? nowTimestamp();
    const doc = buildPledge({
      did: this.did,
      name: o.name ?? `${this.domain} Inc.`,
      accord: o.accord,
      principles: o.principles ?? [1, 2, 3, 4, 5, 6],
      previous: o.previous,
      country: o.country,
      links: o.links,
      validFrom,
    });
    return secureStatement(doc, o.key ?? this.key, o.method ?? this.method, o.created ?? validFrom);
  }

  withdrawal(o: WithdrawalOptions): Statement {
    const validFrom = o.validFrom ?? nowTimestamp();
    const doc = buildWithdrawal({ did: this.did, accord: o.accord, previous: o.previous, reason: o.reason, validFrom });
    return secureStatement(doc, o.key ?? this.key, o.method ?? this.method, o.created ?? validFrom);
  }
}
