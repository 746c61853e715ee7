/**
 * A real registry for server tests: SQLite in a fresh temp dir (or a given PostgreSQL URL), the
 * express app from createApp, a real did:web host on 127.0.0.1 mapped through DID_WEB_HOSTS, and
 * helpers to submit statements and to assert that a refusal wrote nothing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import request from 'supertest';
import { expect } from 'vitest';
import { loadConfig, type Config } from '../../src/config.ts';
import { fromBase64, utf8 } from '../../src/core/bytes.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { verifyCheckpoint } from '../../src/core/log/checkpoint.ts';
import { leafHash, verifyInclusion } from '../../src/core/log/merkle.ts';
import { openRegistry, type Registry } from '../../src/registry.ts';
import { createApp, type AppHandler } from '../../src/server/app.ts';
import { createDidWebFetcher, type DidWebFetcher, type LookupFn } from '../../src/server/did-web.ts';
import type { ProofVerifier } from '../../src/server/proof-verifier.ts';
import { runAudit, type RunAuditResult } from '../../src/audit/run-audit.ts';
import type { FileFetcher } from '../../src/audit/source.ts';
import { DidHost } from '../helpers/company.ts';

export interface HarnessOptions {
  /** Domains mapped to the did:web host. */
  domains?: string[];
  /** SUBMIT_RATE_LIMIT (default 0: off). */
  rateLimit?: number;
  /** TRUST_PROXY (default unset). */
  trustProxy?: string;
  databaseUrl?: string;
  /** did:web fetch timeout (default 5 s; tests of stalls use less). */
  didWebTimeoutMs?: number;
  /** Resolver for unmapped did:web hosts (tests of the address guard). */
  lookup?: LookupFn;
  /** Replace the did:web fetch entirely. */
  didWebFetch?: (did: string) => ReturnType<DidWebFetcher['fetch']>;
  /** Where proofs are checked (default: on the main thread; `npm start` uses a worker thread). */
  proofVerifier?: ProofVerifier;
}

export interface Harness {
  app: AppHandler;
  registry: Registry;
  config: Config;
  host: DidHost;
  dir: string;
  /** Everything the app logged (pino JSON lines). */
  logLines: string[];
  logger: Logger;
  /** The published signed-note verifier key. */
  logKey: string;
  /** Digest of entry 0, the first accord. */
  accord: string;
  submit(body: unknown, contentType?: string): request.Test;
  /** Log size and checkpoint note, to assert a refusal wrote nothing. */
  snapshot(): Promise<{ size: number; note: string }>;
  close(): Promise<void>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'accord-server-'));
  const host = await DidHost.start();
  const config = loadConfig({
    DATA_DIR: dir,
    DATABASE_URL: opts.databaseUrl ?? '',
    REGISTRY_ORIGIN: 'test.example/log',
    DID_WEB_HOSTS: host.didWebHosts(opts.domains ?? []),
    SUBMIT_RATE_LIMIT: String(opts.rateLimit ?? 0),
    TRUST_PROXY: opts.trustProxy ?? '',
    LOG_LEVEL: 'info',
  });
  const registry = await openRegistry({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, origin: config.origin });
  const logLines: string[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        logLines.push(chunk.toString('utf8'));
        cb();
      },
    }),
  );
  const fetcher = createDidWebFetcher({
    hosts: config.didWebHosts,
    ...(opts.didWebTimeoutMs === undefined ? {} : { timeoutMs: opts.didWebTimeoutMs }),
    ...(opts.lookup === undefined ? {} : { lookup: opts.lookup }),
  });
  const app = createApp({ registry, config, logger, didWebFetch: opts.didWebFetch ?? fetcher.fetch, ...(opts.proofVerifier ? { proofVerifier: opts.proofVerifier } : {}) });
  const wellKnown = await request(app).get('/.well-known/accord-registry.json').expect(200);
  const accords = await request(app).get('/api/v1/accords').expect(200);
  return {
    app,
    registry,
    config,
    host,
    dir,
    logLines,
    logger,
    logKey: wellKnown.body.logKey as string,
    accord: accords.body.accords[0].digest as string,
    submit(body, contentType = 'application/json') {
      const text = typeof body === 'string' ? body : JSON.stringify(body);
      return request(app).post('/api/v1/statements').set('content-type', contentType).send(text);
    },
    async snapshot() {
      const cp = await registry.reader.latestCheckpoint();
      return { size: cp?.size ?? 0, note: cp?.note ?? '' };
    },
    async close() {
      await fetcher.close();
      await registry.close();
      await host.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Submits and expects a refusal with `status` and `code`, and that the log did not change (size
 * and checkpoint). Returns the error object of the JSON body.
 */
export async function expectRefusal(h: Harness, body: unknown, status: number, code: string, contentType?: string): Promise<Record<string, unknown>> {
  const before = await h.snapshot();
  const res = await h.submit(body, contentType);
  expect({ status: res.status, code: res.body?.error?.code }).toEqual({ status, code });
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(typeof res.body.error.message).toBe('string');
  expect(await h.snapshot()).toEqual(before);
  return res.body.error as Record<string, unknown>;
}

export interface ReceiptJson {
  index: number;
  digest: string;
  checkpoint: string;
  inclusionProof: string[];
}

/**
 * Checks a receipt as a client would (DESIGN 7): the checkpoint signed by the published log key,
 * and the entry's leaf included at `index` in the tree it signs.
 */
export function verifyReceipt(receipt: ReceiptJson, entry: Uint8Array, logKey: string): { size: number } {
  const cp = verifyCheckpoint(receipt.checkpoint, logKey);
  verifyInclusion(leafHash(entry), receipt.index, cp.size, receipt.inclusionProof.map(fromBase64), cp.root);
  return { size: cp.size };
}

/** The bytes the log holds for a statement object: its RFC 8785 form. */
export function canonical(statement: unknown): Uint8Array {
  return canonicalBytes(statement);
}

/** Reads the app's files by site path (`log/checkpoint`, `log/tile/0/000.p/3`), as accord-verify does over HTTP. */
export function appFetcher(app: AppHandler): FileFetcher {
  return async (path) => {
    const res = await request(app)
      .get(`/${path}`)
      .buffer(true)
      .parse((r, cb) => {
        const chunks: Buffer[] = [];
        r.on('data', (c: Buffer) => chunks.push(c));
        r.on('end', () => cb(null, Buffer.concat(chunks)));
      });
    if (res.status === 404) return null;
    if (res.status !== 200) throw new Error(`GET /${path} answered ${res.status}`);
    return new Uint8Array(res.body as Buffer);
  };
}

/** The auditor's full check (accord-verify's engine) over the app's /log/ and well-known file. */
export async function auditApp(app: AppHandler, logKey: string): Promise<RunAuditResult> {
  return runAudit({ kind: 'registry', label: 'the test registry', fetchFile: appFetcher(app) }, { logKey, stateCheckpoint: null, workers: 0 });
}

export { utf8 };
