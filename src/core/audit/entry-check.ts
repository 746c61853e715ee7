/**
 * The per-entry part of the audit that needs no knowledge of other entries (DESIGN 8): strict
 * parse, schema, canonical form, leaf hash, digest and the proof's hash data. It is the CPU-heavy
 * part, so the command line runs it in worker threads; the ordered rules and the Merkle checks
 * stay with the auditor (auditor.ts). Pure; SHA-256 may be injected (node:crypto in the command
 * line, several times faster than the portable one).
 *
 * Fast path. Almost every entry of a sound log is a canonical statement, and for those the work
 * can be done with the engine's native JSON: `JSON.parse`, the full schema (validateStatement),
 * then `JSON.stringify` of the parsed value, which is its RFC 8785 form when every object's
 * members are already in code-unit order (JCS 3.2.3; strings and numbers are serialized exactly
 * as JSON.stringify does, JCS 3.2.2). If that text equals the entry's own text, the entry is
 * canonical, and then the strict parser would have accepted it with the same value: the text is
 * RFC 8259 JSON as JSON.stringify writes it (no duplicate names, no byte order mark, numbers in
 * range), validateStatement has refused noncharacters and lone surrogates in every string and
 * member name, and the closed schema bounds the nesting far below MAX_JSON_DEPTH. Anything else
 * (a refusal, unsorted members, a different text) takes the exact path below, which produces the
 * same codes and messages as before, so findings do not depend on the path taken.
 */
import { concatBytes, sha256 as coreSha256, fromUtf8, toHex, utf8 } from '../bytes.ts';
import { isAccordError } from '../errors.ts';
import { canonicalize } from '../json/canonical.ts';
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

/** Object members in code-unit order everywhere (JCS 3.2.3), so JSON.stringify writes the JCS form. */
function membersSorted(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!membersSorted(v[i])) return false;
    return true;
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (i > 0 && !((keys[i - 1] as string) < k)) return false;
    if (!membersSorted(o[k])) return false;
  }
  return true;
}

/** A shallow copy without one member, the others in order. */
function without(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) if (k !== key) out[k] = obj[k];
  return out;
}

/** vc-di-eddsa 3.3.4 hashData from the JCS texts: SHA-256(proofConfig) || SHA-256(document). */
function hashData(sha256: Sha256, configJcs: string, documentJcs: string): Uint8Array {
  const out = new Uint8Array(64);
  out.set(sha256(configJcs), 0);
  out.set(sha256(documentJcs), 32);
  return out;
}

/**
 * The JCS text of `o` without its member `key`, cut out of `jcs`, the JCS text of `o` itself
 * (members sorted; `valueJcs` is the member's value as JCS). In it the member is `"key":value`,
 * after a comma unless it comes first; where it ends is found by serializing the (short) members
 * after it. Null if the text is not as expected, which cannot happen for a JCS text of `o`.
 */
function withoutMember(jcs: string, o: Record<string, unknown>, key: string, valueJcs: string): string | null {
  const keys = Object.keys(o);
  const at = keys.indexOf(key);
  if (at < 0) return null;
  let tail = 1; // the closing brace
  for (let i = at + 1; i < keys.length; i++) {
    const k = keys[i] as string;
    tail += 1 + JSON.stringify(k).length + 1 + JSON.stringify(o[k]).length;
  }
  const member = `${JSON.stringify(key)}:${valueJcs}`;
  const end = jcs.length - tail;
  const start = end - member.length;
  if (start < 1 || !jcs.startsWith(member, start)) return null;
  if (at > 0) return jcs[start - 1] === ',' ? jcs.slice(0, start - 1) + jcs.slice(end) : null; // drop ',"key":value'
  if (at + 1 === keys.length) return '{}';
  return jcs[end] === ',' ? jcs.slice(0, start) + jcs.slice(end + 1) : null; // drop '"key":value,'
}

function prepareFast(index: number, bytes: Uint8Array, leafHash: Uint8Array, sha256: Sha256): PreparedEntry | null {
  if (bytes.length > MAX_ENTRY_BYTES) return null;
  let text: string;
  let value: unknown;
  try {
    text = fromUtf8(bytes);
    value = JSON.parse(text);
  } catch {
    return null;
  }
  let statement: Statement;
  try {
    statement = validateStatement(value);
  } catch (e) {
    if (!isAccordError(e)) throw e;
    return null;
  }
  if (!membersSorted(statement) || JSON.stringify(statement) !== text) return null;
  // The text is the JCS form: the proof's hash data (vc-di-eddsa 3.3.4) is cut out of it.
  const doc = statement as unknown as Record<string, unknown>;
  const proof = doc.proof as Record<string, unknown>;
  const proofJcs = JSON.stringify(proof);
  const documentJcs = withoutMember(text, doc, 'proof', proofJcs);
  const configJcs = withoutMember(proofJcs, proof, 'proofValue', JSON.stringify(proof.proofValue));
  if (documentJcs === null || configJcs === null) return null;
  const hash = sha256(bytes);
  return {
    index,
    leafHash,
    bytesHash: hash,
    statement,
    digest: digestFromHash(hash),
    canonical: true,
    invalid: null,
    hashData: hashData(sha256, configJcs, documentJcs),
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
    out.hashData = hashData(sha256, canonicalize(without(doc.proof as Record<string, unknown>, 'proofValue')), canonicalize(without(doc, 'proof')));
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
