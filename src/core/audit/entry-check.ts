/**
 * The per-entry part of the audit that needs no knowledge of other entries (DESIGN 8): strict
 * parse, schema, canonical form, leaf hash, digest and the proof's hash data. It is the CPU-heavy
 * part, so the command line runs it in worker threads; the ordered rules and the Merkle checks
 * stay with the auditor (auditor.ts). Pure; SHA-256 may be injected (node:crypto in the command
 * line, several times faster than the portable one).
 *
 * Fast path. Almost every entry of a sound log is a canonical statement, and for those nothing
 * needs serializing: core/json/canonical-scan.ts checks on the bytes that they are canonical
 * I-JSON (a subset of RFC 8785 texts, for which JSON.parse builds what the strict parser would
 * build; anything outside it gets the exact path) and says where each member sits. The proof's
 * hash data (vc-di-eddsa 3.3.4) is then hashed from byte ranges of the entry: cutting one member
 * out of a JCS object text leaves the JCS text of the object without it. Anything else (a
 * refusal, a text outside the subset) takes the exact path below, which produces the same codes
 * and messages, so findings do not depend on the path taken.
 */
import { concatBytes, sha256 as coreSha256, toHex, utf8 } from '../bytes.ts';
import { isAccordError } from '../errors.ts';
import { canonicalize } from '../json/canonical.ts';
import { parseIfCanonical, rangesWithout, scanCanonicalObject } from '../json/canonical-scan.ts';
import { parseStrictJson } from '../json/strict-parse.ts';
import { decodeProofValue } from '../statements/proof.ts';
import { MAX_ENTRY_BYTES, type Statement } from '../statements/types.ts';
import { checkEntrySize, validateStatement } from '../statements/validate.ts';
import { decodeBase58Signature } from '../crypto/signature-base58.ts';

/** tlog-tiles entries are at most 65,535 bytes; the schema then caps the canonical form at 16 KiB. */
const MAX_BUNDLE_ENTRY_BYTES = 0xffff;
const LEAF_PREFIX = Uint8Array.of(0x00); // RFC 6962 2.1: leaf hash = SHA-256(0x00 || data)

/** SHA-256 of the concatenated parts, strings as UTF-8. */
export type Sha256 = (...parts: (Uint8Array | string)[]) => Uint8Array;

/** The portable SHA-256 (@noble/hashes via core/bytes). */
export const portableSha256: Sha256 = (...parts) => {
  if (parts.length === 1 && parts[0] instanceof Uint8Array) return coreSha256(parts[0]);
  return coreSha256(concatBytes(...parts.map((p) => (typeof p === 'string' ? utf8(p) : p))));
};

export interface EntryCheckOptions {
  sha256?: Sha256;
}

export interface PreparedEntry {
  index: number;
  /** RFC 6962 leaf hash of the logged bytes. */
  leafHash: Uint8Array;
  /** SHA-256 of the logged bytes (32 bytes), for "no entry's bytes appear twice". */
  bytesHash: Uint8Array;
  /** Null when the entry is not a valid statement: see `invalid`. */
  statement: Statement | null;
  /** DESIGN 2 digest of the canonical form (what a later `previous` names). */
  digest: string | null;
  /** Whether the logged bytes are exactly the RFC 8785 form. */
  canonical: boolean;
  /** The strict-JSON or schema refusal, code and message. */
  invalid: { code: string; message: string } | null;
  /** vc-di-eddsa 3.3.4 hashData (64 bytes) and the signature over it, for a valid statement. */
  hashData: Uint8Array | null;
  signature: Uint8Array | null;
}

export function digestFromHash(hash: Uint8Array): string {
  return `sha256:${toHex(hash)}`;
}

export function prepareEntry(index: number, bytes: Uint8Array, options: EntryCheckOptions = {}): PreparedEntry {
  const sha256 = options.sha256 ?? portableSha256;
  const leafHash = sha256(LEAF_PREFIX, bytes);
  return prepareFast(index, bytes, leafHash, sha256) ?? prepareExact(index, bytes, leafHash, sha256);
}

/** A shallow copy without one member, the others in order. */
function without(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) if (k !== key) out[k] = obj[k];
  return out;
}

/**
 * vc-di-eddsa 3.3.4 hashData: SHA-256(proofConfig) || SHA-256(document), each given as its JCS
 * text or as the pieces of the entry's bytes that make it up.
 */
function hashData(sha256: Sha256, config: (Uint8Array | string)[], document: (Uint8Array | string)[]): Uint8Array {
  const out = new Uint8Array(64);
  out.set(sha256(...config), 0);
  out.set(sha256(...document), 32);
  return out;
}

/** The parts of `bytes` that `ranges` name, as views. */
function pieces(bytes: Uint8Array, ranges: [number, number][]): Uint8Array[] {
  return ranges.map(([start, end]) => bytes.subarray(start, end));
}

function prepareFast(index: number, bytes: Uint8Array, leafHash: Uint8Array, sha256: Sha256): PreparedEntry | null {
  if (bytes.length > MAX_ENTRY_BYTES) return null;
  const parsed = parseIfCanonical(bytes);
  const proofAt = parsed?.members.find((m) => m.name === 'proof');
  if (parsed === null || proofAt === undefined) return null;
  const proofBytes = bytes.subarray(proofAt.valueStart, proofAt.valueEnd);
  const proofMembers = scanCanonicalObject(proofBytes);
  if (proofMembers === null) return null;
  let statement: Statement;
  try {
    statement = validateStatement(parsed.value);
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return null;
  }
  // The bytes are the JCS form of the statement, so the JCS forms of the document without its
  // proof and of the proof without its proofValue are those bytes with one member cut out.
  const documentRanges = rangesWithout(parsed.members, 'proof', bytes.length);
  const configRanges = rangesWithout(proofMembers, 'proofValue', proofBytes.length);
  if (documentRanges === null || configRanges === null) return null;
  const hash = sha256(bytes);
  return {
    index,
    leafHash,
    bytesHash: hash,
    statement,
    digest: digestFromHash(hash),
    canonical: true,
    invalid: null,
    hashData: hashData(sha256, pieces(proofBytes, configRanges), pieces(bytes, documentRanges)),
    signature: decodeBase58Signature(statement.proof.proofValue, 1) ?? decodeProofValue(statement.proof.proofValue),
  };
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The exact path: what parseStatementBytes does (strict JSON, schema, canonical form, 16 KiB cap;
 * DESIGN 7 order), with the injected hash, then the proof's hash data as proofHashData computes it.
 */
function prepareExact(index: number, bytes: Uint8Array, leafHash: Uint8Array, sha256: Sha256): PreparedEntry {
  const bytesHash = sha256(bytes);
  const out: PreparedEntry = { index, leafHash, bytesHash, statement: null, digest: null, canonical: false, invalid: null, hashData: null, signature: null };
  try {
    const statement = validateStatement(parseStrictJson(bytes, { maxBytes: MAX_BUNDLE_ENTRY_BYTES }));
    const canonicalText = canonicalize(statement);
    const canonical = utf8(canonicalText);
    checkEntrySize(canonical);
    out.canonical = bytesEqual(canonical, bytes);
    out.digest = digestFromHash(out.canonical ? bytesHash : sha256(canonical));
    // validateStatement has checked the proof's shape, @context and proofValue encoding, so this is
    // exactly the data verifyProof (vc-di-eddsa 3.3.2) hands to the signature check.
    const doc = statement as unknown as Record<string, unknown>;
    out.hashData = hashData(sha256, [canonicalize(without(doc.proof as Record<string, unknown>, 'proofValue'))], [canonicalize(without(doc, 'proof'))]);
    out.signature = decodeProofValue(statement.proof.proofValue);
    out.statement = statement;
  } catch (e) {
    if (!isAccordError(e)) throw e;
    out.invalid = { code: e.code, message: e.message };
    out.statement = null;
    out.digest = null;
    out.canonical = false;
  }
  return out;
}
