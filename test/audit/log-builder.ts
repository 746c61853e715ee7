/**
 * Builds small, valid registry logs with keys generated in the test, so a tamper test can break
 * exactly one rule and still sign everything correctly: the registry (log key, attestation key)
 * and companies with did:web keys, using the project's statement builders and signer.
 */
import { readFileSync } from 'node:fs';
import { digestOf, toBase64 } from '../../src/core/bytes.ts';
import { generateKeyPair, type KeyPair } from '../../src/core/crypto/ed25519.ts';
import { didKeyFromPublicKey, didKeyVerificationMethod, encodePublicMultikey } from '../../src/core/crypto/multikey.ts';
import { canonicalBytes } from '../../src/core/json/canonical.ts';
import { buildAccordText, buildAttestation, buildNotice, buildPledge, buildWithdrawal, secureStatement } from '../../src/core/statements/build.ts';
import type { Statement, UnsecuredStatementOf, StatementType } from '../../src/core/statements/types.ts';
import { signCheckpoint } from '../../src/core/log/checkpoint.ts';
import { inclusionProof, leafHash, nodeHash, rootFromLeafHashes } from '../../src/core/log/merkle.ts';
import { makeVerifierKey } from '../../src/core/log/note.ts';
import { formatTlogProof } from '../../src/core/log/tlog-proof.ts';
import type { MirrorKeys } from '../helpers/mirror.ts';

const ACCORD_FILE = new URL('../../data/accords/tech-sector-1.json', import.meta.url);

export interface Company {
  did: string;
  domain: string;
  keys: KeyPair[];
  /** Method ids, parallel to keys: did:web:<domain>#key-N. */
  methods: string[];
  head: string | null;
  accord: string | null;
}

export interface Entry {
  statement: Statement;
  bytes: Uint8Array;
  digest: string;
}

/** Registry statements are signed by the attestation key; minutes advance one per entry. */
export class LogBuilder {
  readonly logKey = generateKeyPair();
  readonly attestationKey = generateKeyPair();
  readonly attestationDid = didKeyFromPublicKey(this.attestationKey.publicKey);
  readonly origin: string;
  readonly entries: Entry[] = [];
  readonly companies = new Map<string, Company>();
  #minute = 0;

  constructor(origin = 'audit.test/log') {
    this.origin = origin;
  }

  get mirrorKeys(): MirrorKeys {
    return { origin: this.origin, logKey: this.logKey, attestationDid: this.attestationDid };
  }

  get bytes(): Uint8Array[] {
    return this.entries.map((e) => e.bytes);
  }

  /** The next timestamp: 2026-11-22T10:00:00Z plus one minute per call. */
  now(): string {
    const t = new Date(Date.UTC(2026, 10, 22, 10, 0, 0) + this.#minute++ * 60_000);
    return t.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  /** Signs and appends; `at` is the time used for validFrom/created (default: the next minute). */
  sign<K extends StatementType>(unsecured: UnsecuredStatementOf<K>, key: KeyPair, method: string): Entry {
    const statement = secureStatement(unsecured, key, method, unsecured.validFrom);
    const bytes = canonicalBytes(statement);
    return { statement, bytes, digest: digestOf(bytes) };
  }

  push(e: Entry): Entry {
    this.entries.push(e);
    return e;
  }

  registry<K extends StatementType>(unsecured: UnsecuredStatementOf<K>): Entry {
    return this.sign(unsecured, this.attestationKey, didKeyVerificationMethod(this.attestationKey.publicKey));
  }

  accordText(opts: { version?: number } = {}): Entry {
    const file = JSON.parse(readFileSync(ACCORD_FILE, 'utf8')) as Record<string, unknown>;
    if (opts.version !== undefined) {
      file.version = opts.version;
      file.id = `urn:accord:tech-sector:${opts.version}`;
    }
    return this.push(this.registry(buildAccordText(file, { issuerDid: this.attestationDid, validFrom: this.now() })));
  }

  /** A new company with one key, not yet attested. */
  company(domain: string): Company {
    const c: Company = { did: `did:web:${domain}`, domain, keys: [], methods: [], head: null, accord: null };
    this.addKey(c);
    this.companies.set(domain, c);
    return c;
  }

  addKey(c: Company): void {
    c.keys.push(generateKeyPair());
    c.methods.push(`${c.did}#key-${c.keys.length}`);
  }

  attest(c: Company, opts: { keys?: number[] } = {}): Entry {
    const which = opts.keys ?? c.keys.map((_, i) => i);
    const at = this.now();
    return this.push(
      this.registry(
        buildAttestation({
          registryDid: this.attestationDid,
          did: c.did,
          url: `https://${c.domain}/.well-known/did.json`,
          observedAt: at,
          documentDigest: digestOf(canonicalBytes({ keys: which.map((i) => c.methods[i]) })),
          verificationMethods: which.map((i) => ({ id: c.methods[i] as string, publicKeyMultibase: encodePublicMultikey((c.keys[i] as KeyPair).publicKey) })),
          validFrom: at,
        }),
      ),
    );
  }

  /** A pledge; overrides break one rule at a time. `key` is the index of the company key that signs. */
  pledge(
    c: Company,
    accord: string,
    opts: { previous?: string | null; principles?: number[]; key?: number; signWith?: KeyPair; validFrom?: string; name?: string; append?: boolean } = {},
  ): Entry {
    const key = opts.key ?? c.keys.length - 1;
    const e = this.sign(
      buildPledge({
        did: c.did,
        name: opts.name ?? `${c.domain} Inc`,
        accord,
        principles: opts.principles ?? [1, 2, 3, 4, 5, 6],
        previous: opts.previous === undefined ? c.head : opts.previous,
        validFrom: opts.validFrom ?? this.now(),
      }),
      opts.signWith ?? (c.keys[key] as KeyPair),
      c.methods[key] as string,
    );
    if (opts.append === false) return e;
    c.head = e.digest;
    c.accord = accord;
    return this.push(e);
  }

  withdraw(c: Company, opts: { accord?: string; previous?: string | null; append?: boolean } = {}): Entry {
    const key = c.keys.length - 1;
    const e = this.sign(
      buildWithdrawal({
        did: c.did,
        accord: opts.accord ?? (c.accord as string),
        previous: opts.previous === undefined ? c.head : opts.previous,
        reason: 'Leaving the sector.',
        validFrom: this.now(),
      }),
      c.keys[key] as KeyPair,
      c.methods[key] as string,
    );
    if (opts.append === false) return e;
    c.head = e.digest;
    return this.push(e);
  }

  notice(did: string, action: 'delist' | 'relist', opts: { append?: boolean } = {}): Entry {
    const e = this.registry(buildNotice({ registryDid: this.attestationDid, did, action, reason: `${action} for the test`, validFrom: this.now() }));
    return opts.append === false ? e : this.push(e);
  }

  /**
   * A typical small log: the accord, two companies attested and pledged, a profile update:
   * entries 0 accord, 1 attest a, 2 pledge a, 3 attest b, 4 pledge b, 5 pledge a (update).
   */
  static basic(): { log: LogBuilder; accord: string; a: Company; b: Company } {
    const log = new LogBuilder();
    const accord = log.accordText().digest;
    const a = log.company('alpha.test');
    log.attest(a);
    log.pledge(a, accord);
    const b = log.company('beta.test');
    log.attest(b);
    log.pledge(b, accord);
    log.pledge(a, accord, { name: 'Alpha Renamed' });
    return { log, accord, a, b };
  }
}

/**
 * A DESIGN 7 proof bundle holding the given entries of `log`, each with a tlog-proof against one
 * checkpoint of the whole log. `mutate` may change the bundle object before it is serialised.
 */
export function proofBundle(log: LogBuilder, indexes: number[], mutate?: (b: Record<string, unknown>) => void): string {
  const leaves = log.bytes.map((b) => leafHash(b));
  const memo = new Map<string, Uint8Array>();
  const getNode = (level: number, index: number): Uint8Array => {
    if (level === 0) return leaves[index] as Uint8Array;
    const key = `${level}/${index}`;
    let h = memo.get(key);
    if (h === undefined) {
      h = nodeHash(getNode(level - 1, 2 * index), getNode(level - 1, 2 * index + 1));
      memo.set(key, h);
    }
    return h;
  };
  const size = leaves.length;
  const checkpoint = signCheckpoint({ origin: log.origin, size, root: rootFromLeafHashes(leaves) }, log.logKey.secretKey);
  const bundle: Record<string, unknown> = {
    version: 1,
    origin: log.origin,
    logKey: makeVerifierKey(log.origin, log.logKey.publicKey),
    attestationKey: log.attestationDid,
    checkpoint,
    entries: indexes.map((index) => ({
      index,
      entry: toBase64(log.entries[index]?.bytes as Uint8Array),
      proof: formatTlogProof({ index, proof: inclusionProof(index, size, getNode), checkpoint }),
    })),
  };
  mutate?.(bundle);
  return JSON.stringify(bundle, null, 2);
}
