/**
 * The per-entry part of the audit that needs no knowledge of other entries (DESIGN 8): strict
 * parse, schema, canonical form, leaf hash, digest and the proof's hash data. It is the CPU-heavy
 * part, so the command line runs it in worker threads; the ordered rules and the Merkle checks
 * stay with the auditor (auditor.ts). Pure, and its result is structured-clonable.
 */
import { bytesEqual, digestOf } from '../bytes.ts';
import { isAccordError } from '../errors.ts';
import { leafHash } from '../log/merkle.ts';
import { decodeProofValue, proofHashData } from '../statements/proof.ts';
import type { Statement } from '../statements/types.ts';
import { parseStatementBytes } from '../statements/validate.ts';

/** tlog-tiles entries are at most 65,535 bytes; the schema then caps the canonical form at 16 KiB. */
const MAX_BUNDLE_ENTRY_BYTES = 0xffff;

export interface PreparedEntry {
  index: number;
  /** RFC 6962 leaf hash of the logged bytes. */
  leafHash: Uint8Array;
  /** Digest of the logged bytes, for "no entry's bytes appear twice". */
  bytesDigest: string;
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

export function prepareEntry(index: number, bytes: Uint8Array): PreparedEntry {
  const out: PreparedEntry = {
    index,
    leafHash: leafHash(bytes),
    bytesDigest: '',
    statement: null,
    digest: null,
    canonical: false,
    invalid: null,
    hashData: null,
    signature: null,
  };
  try {
    const parsed = parseStatementBytes(bytes, { maxBytes: MAX_BUNDLE_ENTRY_BYTES });
    out.statement = parsed.statement;
    out.digest = parsed.digest;
    out.canonical = bytesEqual(parsed.canonical, bytes);
    out.bytesDigest = out.canonical ? parsed.digest : digestOf(bytes);
    // validateStatement has checked the proof's shape, @context and proofValue encoding, so this is
    // exactly the data verifyProof (vc-di-eddsa 3.3.2) hands to the signature check.
    out.hashData = proofHashData(parsed.statement);
    out.signature = decodeProofValue(parsed.statement.proof.proofValue);
  } catch (e) {
    if (!isAccordError(e)) throw e;
    out.invalid = { code: e.code, message: e.message };
    out.statement = null;
    out.bytesDigest = digestOf(bytes);
  }
  return out;
}
