/**
 * The auditor (DESIGN 8, accord-verify): a streaming engine with no I/O. The caller feeds it the
 * signed checkpoint and then every entry in index order with the hash the level-0 tile holds for
 * it; the engine checks each entry (entry-check.ts), applies the registry's rules in order
 * (registry-state.ts), rebuilds the Merkle tree in flat memory and compares it with the signed
 * checkpoint, with the upper hash tiles and with a previously verified checkpoint (rollback,
 * fork). It keeps one state per signatory and one digest per entry, never the entries.
 *
 * Every problem is a finding `{ index, code, message }` naming the entry, or -1 for the checkpoint,
 * the tiles or the state as a whole. Signatures can be verified inline (`verifyFn`) or handed back
 * as tasks (`deferSignatures`) so the command line checks them in worker threads.
 */
import { bytesEqual, toBase64 } from '../bytes.ts';
import { verify } from '../crypto/ed25519.ts';
import { AccordError, isAccordError } from '../errors.ts';
import { parseCheckpoint, verifyCheckpoint, type Checkpoint } from '../log/checkpoint.ts';
import { emptyRoot } from '../log/merkle.ts';
import { parseNote, parseVerifierKey, type VerifierKey } from '../log/note.ts';
import { TILE_WIDTH, tilePath } from '../log/tiles.ts';
import { isDidKey } from '../statements/did.ts';
import type { VerifyFn } from '../statements/proof.ts';
import { timestampMillis } from '../statements/formats.ts';
import type { StatementType } from '../statements/types.ts';
import { digestFromHash, portableSha256, prepareEntry, type PreparedEntry, type Sha256 } from './entry-check.ts';
import { HashIndex } from './hash-index.ts';
import { MemoryRegistry } from './memory-registry.ts';
import { applyStatement, signingKeyFor } from './registry-state.ts';
import { TreeBuilder } from './tree-builder.ts';

/** DESIGN 8: a validFrom more than 10 minutes before the latest earlier one is backdating. */
export const BACKDATING_TOLERANCE_MS = 10 * 60 * 1000;
/** Findings kept in full; beyond this only a count (a wholly broken log must not exhaust memory). */
export const MAX_FINDINGS = 10_000;

export interface Finding {
  /** Entry index, or -1 for the checkpoint, tiles or state as a whole. */
  index: number;
  code: string;
  message: string;
}

export interface SignatureTask {
  index: number;
  signature: Uint8Array;
  /** vc-di-eddsa hashData, 64 bytes. */
  message: Uint8Array;
  publicKey: Uint8Array;
}

export interface AuditorOptions {
  /** The log's signed-note verifier key (`origin+keyid+base64`). */
  logKey: string | VerifierKey;
  /** did:key of the attestation key (well-known file); null: taken from entry 0's issuer. */
  attestationDid: string | null;
  /** The last verified checkpoint note (--state), or null/undefined on a first run. */
  stateCheckpoint?: string | null;
  /** Signature rule (DESIGN 3); default core/crypto/ed25519 `verify`. */
  verifyFn?: VerifyFn;
  /** SHA-256 for the tree and the entries pushEntry prepares; default the portable one (entry-check.ts). */
  sha256?: Sha256;
  /** Return signature checks from pushEntry/pushPrepared instead of running them. */
  deferSignatures?: boolean;
  /**
   * Audit a subset of the log (a proof bundle, DESIGN 7): entries arrive in increasing index order
   * with gaps, and no Merkle tree is built (the caller verifies each entry's inclusion proof).
   */
  subset?: boolean;
}

export interface AuditStats {
  entries: number;
  byType: Partial<Record<StatementType, number>>;
  signaturesChecked: number;
  leafHashesChecked: number;
  tileHashesChecked: number;
  /** DIDs that ever pledged. */
  signatories: number;
  currentSignatories: number;
  /** Withdrawn and not delisted. */
  withdrawn: number;
  delisted: number;
  accords: number;
}

export type Consistency = 'first-run' | 'proved' | 'unproved' | 'failed';

export interface AuditResult {
  ok: boolean;
  origin: string | null;
  size: number | null;
  /** base64 root of the checkpoint. */
  root: string | null;
  /** Sorted by index (-1 first), at most MAX_FINDINGS. */
  findings: Finding[];
  /** Findings beyond MAX_FINDINGS, counted only. */
  findingsOmitted: number;
  stats: AuditStats;
  /** Consistency with the stateCheckpoint. */
  consistency: Consistency;
  /** The checkpoint note to save as the new state: set only if ok and consistent. */
  newState: string | null;
}

export interface Auditor {
  /** Verifies the signed checkpoint; returns it (even if its signature failed, to go on checking) or null. */
  checkCheckpoint(note: string | Uint8Array): Checkpoint | null;
  /** A hash tile of level 1 or above, checked against the tree as entries arrive. */
  addHashTile(level: number, index: number, hashes: Uint8Array[]): void;
  /** Checks one entry; with deferSignatures, returns its signature check (or null). */
  pushEntry(index: number, bytes: Uint8Array, tileLeafHash: Uint8Array | null): SignatureTask | null;
  /** pushEntry for an entry already run through prepareEntry (e.g. in a worker). */
  pushPrepared(entry: PreparedEntry, tileLeafHash: Uint8Array | null): SignatureTask | null;
  /** The verdict of a deferred signature check. */
  signatureResult(index: number, valid: boolean): void;
  /** A finding the caller made (a missing tile, a key mismatch...). */
  addFinding(index: number, code: string, message: string): void;
  /** Entries pushed so far (log mode: the next expected index). */
  readonly entriesSeen: number;
  finish(): AuditResult;
}

export function createAuditor(options: AuditorOptions): Auditor {
  return new AuditEngine(options);
}

class AuditEngine implements Auditor {
  readonly #key: VerifierKey;
  readonly #verifyFn: VerifyFn;
  readonly #sha256: Sha256 | undefined;
  readonly #defer: boolean;
  readonly #subset: boolean;
  #attestationDid: string | null;
  #registry: MemoryRegistry | null = null;

  #findings: Finding[] = [];
  #omitted = 0;
  readonly #stats: AuditStats = {
    entries: 0,
    byType: {},
    signaturesChecked: 0,
    leafHashesChecked: 0,
    tileHashesChecked: 0,
    signatories: 0,
    currentSignatories: 0,
    withdrawn: 0,
    delisted: 0,
    accords: 0,
  };

  #cp: Checkpoint | null = null;
  #cpNote: string | null = null;
  #cpVerified = false;
  #old: Checkpoint | null = null;
  #rootAtOld: Uint8Array | null = null;

  readonly #tree: TreeBuilder;
  #next = 0;
  #lastIndex = -1;
  /** SHA-256 of each entry's bytes -> its index: "no entry's bytes appear twice" (DESIGN 5, 8). */
  #seen = new HashIndex();
  #latestValidFrom = -Infinity;
  #latestValidFromIndex = -1;
  readonly #upperTiles = new Map<string, Uint8Array[]>();
  #pendingSignatures = 0;
  #finished = false;

  constructor(options: AuditorOptions) {
    this.#key = typeof options.logKey === 'string' ? parseVerifierKey(options.logKey) : options.logKey;
    this.#verifyFn = options.verifyFn ?? verify;
    this.#sha256 = options.sha256;
    this.#tree = new TreeBuilder(options.sha256 ?? portableSha256);
    this.#defer = options.deferSignatures === true;
    this.#subset = options.subset === true;
    this.#attestationDid = options.attestationDid;
    if (this.#attestationDid !== null) this.#registry = new MemoryRegistry(this.#attestationDid, { compact: true });
    const state = options.stateCheckpoint;
    if (state !== null && state !== undefined) {
      try {
        this.#old = verifyCheckpoint(state, this.#key);
      } catch (e) {
        if (!isAccordError(e)) throw e;
        this.addFinding(
          -1,
          'STATE_INVALID',
          `the saved checkpoint does not verify under ${this.#key.name}: ${e.message} (${e.code}). Either the state file is from ` +
            `another registry, or this registry's log key is not the one that signed what you verified before (a log must never change its key)`,
        );
      }
    }
    if (this.#old?.size === 0) this.#rootAtOld = emptyRoot();
  }

  get entriesSeen(): number {
    return this.#subset ? this.#stats.entries : this.#next;
  }

  addFinding(index: number, code: string, message: string): void {
    if (this.#findings.length >= MAX_FINDINGS) {
      this.#omitted++;
      return;
    }
    this.#findings.push({ index, code, message });
  }

  checkCheckpoint(note: string | Uint8Array): Checkpoint | null {
    if (this.#cp !== null) throw new AccordError('AUDIT_MISUSE', 'checkCheckpoint was already called');
    let cp: Checkpoint;
    try {
      cp = verifyCheckpoint(note, this.#key);
      this.#cpVerified = true;
      this.#cpNote = typeof note === 'string' ? note : new TextDecoder().decode(note);
    } catch (e) {
      if (!isAccordError(e)) throw e;
      this.addFinding(-1, 'CHECKPOINT_INVALID', `the checkpoint does not verify under ${this.#key.name}: ${e.message} (${e.code})`);
      // Go on with the unverified size and root, so the entries are still checked.
      try {
        cp = parseCheckpoint(parseNote(note).text);
      } catch (e2) {
        if (!isAccordError(e2)) throw e2;
        return null;
      }
    }
    this.#cp = cp;
    // Room for every entry the checkpoint claims, at once (bounded: it may not be verified).
    if (this.#seen.size === 0 && !this.#subset) this.#seen = new HashIndex(cp.size);
    const old = this.#old;
    if (old !== null) {
      if (old.origin !== cp.origin) {
        this.addFinding(-1, 'STATE_INVALID', `the saved checkpoint is for origin ${JSON.stringify(old.origin)}, this log is ${JSON.stringify(cp.origin)}`);
        this.#old = null;
      } else if (cp.size < old.size && !this.#subset) {
        // A log only grows (DESIGN 7): serving a smaller tree than one already verified is a rollback.
        // A proof bundle is not the log but a snapshot of part of it, and may be older than the
        // saved checkpoint: that proves nothing either way (#consistency says 'unproved').
        this.addFinding(-1, 'ROLLBACK', `the log now has ${cp.size} entries, but a checkpoint of ${old.size} entries was verified before`);
      }
    }
    return cp;
  }

  addHashTile(level: number, index: number, hashes: Uint8Array[]): void {
    if (level < 1) throw new AccordError('AUDIT_MISUSE', 'level-0 hashes are passed with each entry');
    this.#upperTiles.set(`${level}/${index}`, hashes);
  }

  pushEntry(index: number, bytes: Uint8Array, tileLeafHash: Uint8Array | null): SignatureTask | null {
    return this.pushPrepared(prepareEntry(index, bytes, this.#sha256 === undefined ? {} : { sha256: this.#sha256 }), tileLeafHash);
  }

  pushPrepared(p: PreparedEntry, tileLeafHash: Uint8Array | null): SignatureTask | null {
    const index = p.index;
    if (this.#finished) throw new AccordError('AUDIT_MISUSE', 'the audit has finished');
    if (this.#subset) {
      if (index <= this.#lastIndex) throw new AccordError('AUDIT_MISUSE', `entries must arrive in increasing index order (${index} after ${this.#lastIndex})`);
      this.#lastIndex = index;
    } else {
      if (index !== this.#next) throw new AccordError('AUDIT_MISUSE', `expected entry ${this.#next}, got ${index}`);
      this.#next++;
      this.#merkle(p, tileLeafHash);
    }
    this.#stats.entries++;

    const earlier = this.#seen.addOrGet(p.bytesHash, index);
    if (earlier !== -1) {
      this.addFinding(index, 'DUPLICATE_ENTRY', `the bytes of entry ${index} already appear at index ${earlier} (${digestFromHash(p.bytesHash)})`);
      return null;
    }

    if (p.statement === null || p.digest === null) {
      const why = p.invalid ?? { code: 'UNKNOWN', message: 'not a statement' };
      this.addFinding(index, 'ENTRY_INVALID', `entry ${index} is not a valid statement: ${why.message} (${why.code})`);
      return null;
    }
    if (!p.canonical) {
      this.addFinding(index, 'ENTRY_NOT_CANONICAL', `entry ${index} is not in RFC 8785 canonical form (its canonical digest is ${p.digest})`);
    }
    const statement = p.statement;
    const kind = statement.type[1];
    this.#stats.byType[kind] = (this.#stats.byType[kind] ?? 0) + 1;
    const registry = this.#registryFor(index, statement.issuer, kind);

    // DESIGN 8: no backdating beyond 10 minutes against any earlier entry.
    const validFrom = timestampMillis(statement.validFrom) ?? -Infinity;
    if (validFrom < this.#latestValidFrom - BACKDATING_TOLERANCE_MS) {
      this.addFinding(
        index,
        'BACKDATED',
        `validFrom ${statement.validFrom} is more than 10 minutes before the validFrom of entry ${this.#latestValidFromIndex}`,
      );
    }
    if (validFrom > this.#latestValidFrom) {
      this.#latestValidFrom = validFrom;
      this.#latestValidFromIndex = index;
    }

    // The key is chosen before the entry changes the state, as the sequencer does before admission.
    let key: Uint8Array | null = null;
    let keyError: AccordError | null = null;
    try {
      key = signingKeyFor(registry, statement);
    } catch (e) {
      if (!isAccordError(e)) throw e;
      keyError = e;
    }
    let ruleCode: string | null = null;
    try {
      registry.commit(applyStatement(registry, { index, statement, digest: p.digest }));
    } catch (e) {
      if (!isAccordError(e)) throw e;
      ruleCode = e.code;
      this.addFinding(index, e.code, e.message);
    }
    if (keyError !== null && keyError.code !== ruleCode) this.addFinding(index, keyError.code, keyError.message);
    if (key === null) return null;
    if (p.signature === null || p.hashData === null) {
      this.addFinding(index, 'SIGNATURE_INVALID', `entry ${index} has no decodable signature`);
      return null;
    }
    const task: SignatureTask = { index, signature: p.signature, message: p.hashData, publicKey: key };
    this.#pendingSignatures++;
    if (this.#defer) return task;
    this.signatureResult(index, this.#verifyFn(task.signature, task.message, task.publicKey));
    return null;
  }

  signatureResult(index: number, valid: boolean): void {
    if (this.#pendingSignatures <= 0) throw new AccordError('AUDIT_MISUSE', 'a signature result nobody asked for');
    this.#pendingSignatures--;
    this.#stats.signaturesChecked++;
    if (!valid) {
      this.addFinding(index, 'SIGNATURE_INVALID', `the proof of entry ${index} does not verify under the key its rule requires (DESIGN 3)`);
    }
  }

  /** The rule state; the attestation key comes from the well-known file or else from entry 0. */
  #registryFor(index: number, issuer: string, kind: StatementType): MemoryRegistry {
    if (this.#registry === null) {
      if (index === 0 && kind === 'AccordText' && isDidKey(issuer)) {
        this.#attestationDid = issuer;
      } else {
        this.addFinding(-1, 'ATTESTATION_KEY_UNKNOWN', 'the attestation key is not published and entry 0 does not name one, so no registry statement can be checked');
        this.#attestationDid = '';
      }
      this.#registry = new MemoryRegistry(this.#attestationDid, { compact: true });
    }
    return this.#registry;
  }

  /** Leaf hash against the level-0 tile, the tree, the upper tiles and the root at the old size. */
  #merkle(p: PreparedEntry, tileLeafHash: Uint8Array | null): void {
    if (tileLeafHash !== null) {
      this.#stats.leafHashesChecked++;
      if (!bytesEqual(tileLeafHash, p.leafHash)) {
        this.addFinding(p.index, 'LEAF_HASH_MISMATCH', `the leaf hash of entry ${p.index} differs from its place in the level-0 tile ${tilePath(0, Math.floor(p.index / TILE_WIDTH))}`);
      }
    }
    this.#tree.push(p.leafHash, this.#checkNode);
    if (this.#old !== null && this.#tree.size === this.#old.size) this.#rootAtOld = this.#tree.root();
  }

  /** A completed tree node against the upper tile that holds it, if any. */
  readonly #checkNode = (treeLevel: number, index: number, hash: Uint8Array): void => {
    // tlog-tiles: a level-L tile holds the tree nodes of height 8L.
    if (treeLevel % 8 !== 0) return;
    const level = treeLevel / 8;
    const tileIndex = Math.floor(index / TILE_WIDTH);
    const key = `${level}/${tileIndex}`;
    const tile = this.#upperTiles.get(key);
    const offset = index % TILE_WIDTH;
    const want = tile?.[offset];
    if (tile === undefined || want === undefined) return;
    this.#stats.tileHashesChecked++;
    if (!bytesEqual(want, hash)) {
      this.addFinding(-1, 'TILE_HASH_MISMATCH', `hash ${offset} of tile ${tilePath(level, tileIndex, tile.length)} differs from the tree built from the entries`);
    }
    if (offset === tile.length - 1) this.#upperTiles.delete(key);
  };

  finish(): AuditResult {
    if (this.#pendingSignatures !== 0) throw new AccordError('AUDIT_MISUSE', `${this.#pendingSignatures} signature results are outstanding`);
    this.#finished = true;
    const cp = this.#cp;
    if (cp === null && !this.#findings.some((f) => f.code === 'CHECKPOINT_INVALID')) {
      this.addFinding(-1, 'CHECKPOINT_INVALID', 'no checkpoint was checked');
    }
    if (cp !== null && !this.#subset) {
      if (this.#next === cp.size) {
        const root = this.#tree.root();
        if (!bytesEqual(root, cp.root)) {
          this.addFinding(-1, 'ROOT_MISMATCH', `the tree of the ${cp.size} entries has root ${toBase64(root)}, the checkpoint says ${toBase64(cp.root)}`);
        }
      } else if (!this.#findings.some((f) => f.index === -1 || f.index >= this.#next)) {
        this.addFinding(this.#next, 'LOG_INCOMPLETE', `only ${this.#next} of the checkpoint's ${cp.size} entries could be read`);
      }
    }
    const consistency = this.#consistency(cp);
    for (const s of this.#registry?.signatories() ?? []) {
      if (s.membership !== null) this.#stats.signatories++;
      if (s.membership === 'signatory' && !s.delisted) this.#stats.currentSignatories++;
      if (s.membership === 'withdrawn' && !s.delisted) this.#stats.withdrawn++;
      if (s.delisted) this.#stats.delisted++;
    }
    this.#stats.accords = [...(this.#registry?.accords() ?? [])].length;
    const findings = this.#findings.map((f, i) => ({ f, i })).sort((a, b) => a.f.index - b.f.index || a.i - b.i).map(({ f }) => f);
    const ok = findings.length === 0 && this.#omitted === 0 && this.#cpVerified && cp !== null;
    return {
      ok,
      origin: cp?.origin ?? null,
      size: cp?.size ?? null,
      root: cp === null ? null : toBase64(cp.root),
      findings,
      findingsOmitted: this.#omitted,
      stats: { ...this.#stats, byType: { ...this.#stats.byType } },
      consistency,
      newState: ok && (consistency === 'first-run' || consistency === 'proved') ? this.#cpNote : null,
    };
  }

  #consistency(cp: Checkpoint | null): Consistency {
    const old = this.#old;
    if (old === null) return this.#findings.some((f) => f.code === 'STATE_INVALID') ? 'failed' : 'first-run';
    if (cp === null) return 'failed';
    if (cp.size < old.size) return this.#subset ? 'unproved' : 'failed';
    if (this.#rootAtOld !== null) {
      if (bytesEqual(this.#rootAtOld, old.root)) return 'proved';
      this.addFinding(-1, 'FORK', `the tree of the first ${old.size} entries has root ${toBase64(this.#rootAtOld)}, but the saved checkpoint says ${toBase64(old.root)}`);
      return 'failed';
    }
    // A subset (proof bundle) proves nothing about the old tree unless it is the same checkpoint.
    if (cp.size === old.size) {
      if (bytesEqual(cp.root, old.root)) return 'proved';
      this.addFinding(-1, 'FORK', `the checkpoint of ${cp.size} entries has root ${toBase64(cp.root)}, but the saved checkpoint of that size says ${toBase64(old.root)}`);
      return 'failed';
    }
    return 'unproved';
  }
}

/** The result of an audit that could not start (no usable log key): only the findings that say why. */
export function failedAudit(findings: Finding[]): AuditResult {
  return {
    ok: false,
    origin: null,
    size: null,
    root: null,
    findings: [...findings].sort((a, b) => a.index - b.index),
    findingsOmitted: 0,
    stats: { entries: 0, byType: {}, signaturesChecked: 0, leafHashesChecked: 0, tileHashesChecked: 0, signatories: 0, currentSignatories: 0, withdrawn: 0, delisted: 0, accords: 0 },
    consistency: 'failed',
    newState: null,
  };
}
