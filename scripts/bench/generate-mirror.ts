/**
 * Generates a valid registry mirror (DESIGN section 8 layout) of `entries` realistic signed
 * statements, fast, for the verification benchmark: the accord (and a second version halfway),
 * many companies with their DomainAttestations, first pledges, profile updates, key rotations,
 * withdrawals, re-joins and a few delist/relist pairs, all obeying the registry's rules, so that
 * accord-verify must accept it with exit 0.
 *
 * Statements are built with the project's own builders and hashed with proofHashData (the same
 * bytes the registry would log); signing uses node:crypto (Ed25519 is deterministic, RFC 8032, so
 * the signature is the one noble would make, only faster). Entries stream to disk bundle by
 * bundle; only the leaf hashes stay in memory.
 */
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { digestOf, utf8 } from '../../src/core/bytes.ts';
import { keyPairFromSeed } from '../../src/core/crypto/ed25519.ts';
import { didKeyVerificationMethod } from '../../src/core/crypto/multikey.ts';
import { signCheckpoint } from '../../src/core/log/checkpoint.ts';
import { nodeHash } from '../../src/core/log/merkle.ts';
import { makeVerifierKey } from '../../src/core/log/note.ts';
import { encodeEntryBundle, encodeHashTile, entriesPath, TILE_WIDTH, tilePath } from '../../src/core/log/tiles.ts';
import { buildAccordText, buildAttestation, buildNotice, buildPledge, buildWithdrawal } from '../../src/core/statements/build.ts';
import type { UnsecuredStatement } from '../../src/core/statements/types.ts';
import { securedParts, signer, type Signer } from './fast-sign.ts';

export interface GeneratedMirror {
  dir: string;
  size: number;
  origin: string;
  /** The signed-note verifier key to pin with --log-key. */
  logKey: string;
  byType: Record<string, number>;
  /**
   * Beside the mirror, not in it: every entry's signature check in log order, as records of
   * SIGNATURE_RECORD_BYTES (public key, signature, the hashData it covers), for the bench's
   * signatures-only bound (signature-bound.ts).
   */
  signatures: string;
}

/** Public key (32), signature (64), hashData (64: vc-di-eddsa 3.3.4). */
export const SIGNATURE_RECORD_BYTES = 160;

/** A small deterministic PRNG (mulberry32), so a run is reproducible from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 6962 leaf hash with node:crypto (same bytes as core/log/merkle leafHash). */
const LEAF_PREFIX = Buffer.from([0]);
const leafHash = (b: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(LEAF_PREFIX).update(b).digest());

interface Company {
  domain: string;
  did: string;
  keyNumber: number;
  signer: Signer;
  status: 'none' | 'signatory' | 'withdrawn';
  head: string | null;
  accord: string | null;
  attested: boolean;
  delisted: boolean;
}

function seedFrom(rand: () => number): Uint8Array {
  const seed = new Uint8Array(32);
  for (let i = 0; i < 32; i++) seed[i] = Math.floor(rand() * 256);
  return seed;
}

async function writeFileIn(root: string, path: string, bytes: Uint8Array | string): Promise<void> {
  const full = join(root, ...path.split('/'));
  await mkdir(dirname(full), { recursive: true });
  await writeFile(full, bytes);
}

/** Writes the hash tiles of every level (tlog-tiles) for the given leaf hashes. */
async function writeHashTiles(logDir: string, leaves: Uint8Array[]): Promise<Uint8Array> {
  // Tree level k holds the hashes of complete subtrees of 2^k leaves; tile level L is tree level 8L.
  let level: Uint8Array[] = leaves;
  let treeLevel = 0;
  const size = leaves.length;
  for (;;) {
    if (treeLevel % 8 === 0) {
      const tileLevel = treeLevel / 8;
      if (level.length === 0) break;
      for (let i = 0; i * TILE_WIDTH < level.length; i++) {
        const hashes = level.slice(i * TILE_WIDTH, (i + 1) * TILE_WIDTH);
        await writeFileIn(logDir, tilePath(tileLevel, i, hashes.length), encodeHashTile(hashes));
      }
    }
    if (level.length < 2) break;
    const next: Uint8Array[] = [];
    for (let i = 0; i + 1 < level.length; i += 2) next.push(nodeHash(level[i]!, level[i + 1]!));
    level = next;
    treeLevel++;
  }
  // RFC 9162 2.1.1 root over all leaves (incomplete subtrees included).
  const root = (function mth(lo: number, hi: number): Uint8Array {
    if (hi - lo === 1) return leaves[lo]!;
    let k = 1;
    while (k * 2 < hi - lo) k *= 2;
    return nodeHash(mth(lo, lo + k), mth(lo + k, hi));
  })(0, size);
  return root;
}

export async function generateMirror(opts: { dir: string; entries: number; seed?: number; origin?: string; accordFile?: string }): Promise<GeneratedMirror> {
  const n = Math.max(3, Math.floor(opts.entries));
  const rand = prng(opts.seed ?? 42);
  const origin = opts.origin ?? 'bench.accord.example/log';
  const logSeed = seedFrom(rand);
  const logPair = keyPairFromSeed(logSeed);
  const registry = signer(seedFrom(rand), didKeyVerificationMethod);
  const registryDid = registry.method.slice(0, registry.method.indexOf('#'));
  const accordJson = JSON.parse(await readFile(opts.accordFile ?? new URL('../../data/accords/tech-sector-1.json', import.meta.url), 'utf8')) as Record<string, unknown>;
  const logDir = join(opts.dir, 'log');
  const signaturesPath = `${opts.dir}.signatures`;
  await writeFile(signaturesPath, '');
  let signatureRecords: Uint8Array[] = [];

  const leaves: Uint8Array[] = [];
  let bundle: Uint8Array[] = [];
  const byType: Record<string, number> = {};
  let clock = Date.parse('2026-11-22T10:00:00Z');
  const now = (): string => {
    clock += 1000;
    return new Date(clock).toISOString().slice(0, 19) + 'Z';
  };
  const push = async (doc: UnsecuredStatement, s: Signer, t: string): Promise<string> => {
    const { bytes, signature, hashData } = securedParts(doc, s, t);
    signatureRecords.push(s.publicKey, signature, hashData);
    byType[doc.type[1]] = (byType[doc.type[1]] ?? 0) + 1;
    leaves.push(leafHash(bytes));
    bundle.push(bytes);
    if (bundle.length === TILE_WIDTH) {
      await writeFileIn(logDir, entriesPath(leaves.length / TILE_WIDTH - 1), encodeEntryBundle(bundle));
      bundle = [];
      await appendFile(signaturesPath, Buffer.concat(signatureRecords));
      signatureRecords = [];
    }
    return digestOf(bytes);
  };

  let t = now();
  let accord = await push(buildAccordText(accordJson, { issuerDid: registryDid, validFrom: t }), registry, t);
  let principles = (accordJson.principles as { number: number }[]).map((p) => p.number);
  const accord2At = Math.floor(n / 2);

  const companies: Company[] = [];
  const companyCount = Math.max(2, Math.floor(n / 8));
  for (let i = 0; i < companyCount; i++) {
    const domain = `company-${i}.bench.example`;
    const did = `did:web:${domain}`;
    companies.push({ domain, did, keyNumber: 1, signer: signer(seedFrom(rand), () => `${did}#key-1`), status: 'none', head: null, accord: null, attested: false, delisted: false });
  }
  const attest = async (c: Company): Promise<void> => {
    const at = now();
    const docBytes = utf8(JSON.stringify({ id: c.did, verificationMethod: [{ id: c.signer.method, type: 'Multikey', controller: c.did, publicKeyMultibase: c.signer.publicKeyMultibase }], assertionMethod: [c.signer.method] }));
    await push(
      buildAttestation({
        registryDid,
        did: c.did,
        url: `https://${c.domain}/.well-known/did.json`,
        observedAt: at,
        documentDigest: digestOf(docBytes),
        verificationMethods: [{ id: c.signer.method, publicKeyMultibase: c.signer.publicKeyMultibase }],
        validFrom: at,
      }),
      registry,
      at,
    );
    c.attested = true;
  };
  const pledge = async (c: Company, update: number): Promise<void> => {
    const at = now();
    const links = update % 2 === 0 ? { website: `https://${c.domain}/` } : { website: `https://${c.domain}/`, securityTxt: `https://${c.domain}/.well-known/security.txt` };
    const doc = buildPledge({ did: c.did, name: `Company ${c.domain.split('.')[0]} ${update > 0 ? `(v${update})` : ''}`.trim(), accord, principles, previous: c.head, country: 'CH', links, validFrom: at });
    c.head = await push(doc, c.signer, at);
    c.accord = accord;
    c.status = 'signatory';
  };

  let updates = 0;
  while (leaves.length < n) {
    const left = n - leaves.length;
    if (leaves.length >= accord2At && accord2At > 1 && byType.AccordText === 1) {
      t = now();
      const v2: Record<string, unknown> = { ...accordJson, id: String(accordJson.id).replace(/:\d+$/, ':2'), version: 2 };
      accord = await push(buildAccordText(v2, { issuerDid: registryDid, validFrom: t }), registry, t);
      principles = (v2.principles as { number: number }[]).map((p) => p.number);
      continue;
    }
    const c = companies[Math.floor(rand() * companies.length)]!;
    const r = rand();
    if (c.delisted) {
      t = now();
      await push(buildNotice({ registryDid, did: c.did, action: 'relist', reason: 'Reviewed: the complaint was unfounded.', validFrom: t }), registry, t);
      c.delisted = false;
    } else if (!c.attested) {
      if (left < 2) continue;
      await attest(c);
      await pledge(c, 0);
    } else if (c.status !== 'signatory') {
      await pledge(c, ++updates);
    } else if (r < 0.55) {
      await pledge(c, ++updates);
    } else if (r < 0.7) {
      if (left < 2) continue;
      // Key rotation: a new did.json (attestation of the new key), then a pledge signed with it.
      c.keyNumber++;
      c.signer = signer(seedFrom(rand), () => `${c.did}#key-${c.keyNumber}`);
      await attest(c);
      await pledge(c, ++updates);
    } else if (r < 0.95) {
      const at = now();
      const doc = buildWithdrawal({ did: c.did, accord: c.accord!, previous: c.head, reason: r < 0.85 ? 'We are restructuring our security programme.' : undefined, validFrom: at });
      c.head = await push(doc, c.signer, at);
      c.status = 'withdrawn';
    } else {
      t = now();
      await push(buildNotice({ registryDid, did: c.did, action: 'delist', reason: 'Under review after a complaint.', validFrom: t }), registry, t);
      c.delisted = true;
    }
  }
  if (bundle.length > 0) await writeFileIn(logDir, entriesPath(Math.floor(leaves.length / TILE_WIDTH), bundle.length), encodeEntryBundle(bundle));
  await appendFile(signaturesPath, Buffer.concat(signatureRecords));
  const root = await writeHashTiles(logDir, leaves);
  await writeFileIn(logDir, 'checkpoint', signCheckpoint({ origin, size: leaves.length, root }, logPair.secretKey));
  const logKey = makeVerifierKey(origin, logPair.publicKey);
  await writeFileIn(opts.dir, '.well-known/accord-registry.json', JSON.stringify({ origin, logKey, attestationKey: registryDid }, null, 2) + '\n');
  return { dir: opts.dir, size: leaves.length, origin, logKey, byType, signatures: signaturesPath };
}

