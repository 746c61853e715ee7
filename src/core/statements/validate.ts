/**
 * The closed schema and formats of DESIGN section 2. Every rule has its own code, so the API, the
 * command line and the auditor report exactly which rule a document broke and where. Any input
 * value (arrays for objects, numbers for strings, huge strings) becomes a coded AccordError, never
 * a TypeError. Signature checks are separate (proof.ts): a statement that passes here is
 * well-formed, not yet authentic.
 */
import { AccordError, describeValue, withArticle } from '../errors.ts';
import { canonicalBytes } from '../json/canonical.ts';
import { MAX_JSON_BYTES, parseStrictJson } from '../json/strict-parse.ts';
import { decodePublicMultikey } from '../crypto/multikey.ts';
import { didKeyMethodOf, didWebProblem, isDidKey, isDidWebMethodOf } from './did.ts';
import { statementDigest } from './digest.ts';
import {
  codePointLength,
  hasForbiddenNameChar,
  hasLoneSurrogate,
  hasNoncharacter,
  isCountryCode,
  isDigest,
  isNfc,
  isTimestamp,
  parseWhatwgUrl,
} from './formats.ts';
import { decodeProofValue } from './proof.ts';
import {
  CRYPTOSUITE,
  LINK_KEYS,
  MAX_ENTRY_BYTES,
  MAX_NAME_CODE_POINTS,
  MAX_REASON_CODE_POINTS,
  MAX_URL_CODE_POINTS,
  PROOF_MEMBERS,
  PROOF_PURPOSE,
  PROOF_TYPE,
  VC_CONTEXT,
  isRegistryType,
  isStatementType,
  type AccordTextSubject,
  type Statement,
  type StatementType,
  type UnsecuredStatement,
} from './types.ts';

export { isRegistryType, isSignatoryType } from './types.ts';

/** Every code this module throws. */
export const STATEMENT_ERROR_CODES = [
  'STATEMENT_NOT_OBJECT',
  'STATEMENT_UNKNOWN_MEMBER',
  'STATEMENT_MISSING_MEMBER',
  'STATEMENT_BAD_CONTEXT',
  'STATEMENT_UNKNOWN_TYPE',
  'STATEMENT_BAD_ISSUER',
  'STATEMENT_BAD_TIMESTAMP',
  'STATEMENT_BAD_DID',
  'STATEMENT_ISSUER_NOT_SUBJECT',
  'STATEMENT_METHOD_NOT_ISSUER',
  'STATEMENT_BAD_PRINCIPLES',
  'STATEMENT_PRINCIPLES_INCOMPLETE',
  'STATEMENT_BAD_NAME',
  'STATEMENT_BAD_COUNTRY',
  'STATEMENT_BAD_LINK',
  'STATEMENT_NONCHARACTER',
  'STATEMENT_LONE_SURROGATE',
  'STATEMENT_BAD_REASON',
  'STATEMENT_REASON_TOO_LONG',
  'STATEMENT_BAD_DIGEST',
  'STATEMENT_BAD_PROOF_SHAPE',
  'STATEMENT_BAD_PROOF_TYPE',
  'STATEMENT_WRONG_CRYPTOSUITE',
  'STATEMENT_BAD_PROOF_PURPOSE',
  'STATEMENT_PROOF_CONTEXT_MISMATCH',
  'STATEMENT_BAD_PROOF_VALUE',
  'STATEMENT_BAD_ATTESTATION',
  'STATEMENT_BAD_NOTICE',
  'STATEMENT_BAD_ACCORD_TEXT',
  'STATEMENT_TOO_LARGE',
] as const;
export type StatementErrorCode = (typeof STATEMENT_ERROR_CODES)[number];

type Obj = Record<string, unknown>;

function fail(code: StatementErrorCode, message: string): never {
  throw new AccordError(code, message);
}

function isObject(v: unknown): v is Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return 'bytes';
  return `a ${typeof v}`;
}

function received(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null ? describeValue(v) : kindOf(v);
}

/**
 * Exactly the `required` members plus any of the `optional` ones (DESIGN 2: "every statement is
 * closed"). Unknown members are reported before missing ones: a misspelt member is then named.
 */
function checkMembers(
  obj: Obj,
  required: readonly string[],
  optional: readonly string[],
  where: string,
  codes: { unknown: StatementErrorCode; missing: StatementErrorCode } = { unknown: 'STATEMENT_UNKNOWN_MEMBER', missing: 'STATEMENT_MISSING_MEMBER' },
): void {
  for (const key of Object.keys(obj)) {
    if (!required.includes(key) && !optional.includes(key)) {
      fail(codes.unknown, `unknown member ${describeValue(key)} in ${where}; allowed: ${[...required, ...optional].join(', ')}`);
    }
  }
  for (const key of required) {
    if (!Object.hasOwn(obj, key)) fail(codes.missing, `missing member "${key}" in ${where}`);
  }
}

function requireObject(v: unknown, where: string, code: StatementErrorCode = 'STATEMENT_NOT_OBJECT'): Obj {
  if (!isObject(v)) fail(code, `${where} must be a JSON object, got ${kindOf(v)}`);
  return v;
}

function checkTimestamp(v: unknown, where: string): void {
  if (!isTimestamp(v)) {
    fail('STATEMENT_BAD_TIMESTAMP', `${where} must be a UTC timestamp YYYY-MM-DDTHH:MM:SSZ (whole seconds, a real date), got ${received(v)}`);
  }
}

function checkDigest(v: unknown, where: string): void {
  if (!isDigest(v)) fail('STATEMENT_BAD_DIGEST', `${where} must be "sha256:" followed by 64 lowercase hex digits, got ${received(v)}`);
}

function checkDidWeb(v: unknown, where: string): string {
  const problem = didWebProblem(v);
  if (problem !== null) fail('STATEMENT_BAD_DID', `${where}: ${problem}, got ${received(v)}`);
  return v as string;
}

function checkContext(v: unknown, where: string, code: StatementErrorCode): void {
  if (!Array.isArray(v) || v.length !== 1 || v[0] !== VC_CONTEXT) {
    fail(code, `${where} must be ["${VC_CONTEXT}"], got ${received(v)}`);
  }
}

function checkReasonLength(s: string, where: string): void {
  if (codePointLength(s, MAX_REASON_CODE_POINTS) > MAX_REASON_CODE_POINTS) {
    fail('STATEMENT_REASON_TOO_LONG', `${where} is longer than ${MAX_REASON_CODE_POINTS} code points (${s.length} UTF-16 units received)`);
  }
}

// ---- credentialSubject, one function per type (DESIGN 2, table of types) ----

/** Ascending, each once, positive integers. Covering the accord is checkPrinciplesCover's job. */
function checkPrinciples(v: unknown, where: string): void {
  if (!Array.isArray(v) || v.length === 0) fail('STATEMENT_BAD_PRINCIPLES', `${where} must be a non-empty array of principle numbers, got ${received(v)}`);
  let last = 0;
  for (let i = 0; i < v.length; i++) {
    const n: unknown = v[i];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 1) {
      fail('STATEMENT_BAD_PRINCIPLES', `${where}[${i}] must be a positive integer, got ${received(n)}`);
    }
    if (n <= last) fail('STATEMENT_BAD_PRINCIPLES', `${where} must be ascending with each number once, got ${n} after ${last}`);
    last = n;
  }
}

function checkName(v: unknown, where: string): void {
  if (typeof v !== 'string') fail('STATEMENT_BAD_NAME', `${where} must be a string, got ${received(v)}`);
  const n = codePointLength(v, MAX_NAME_CODE_POINTS);
  if (n < 1 || n > MAX_NAME_CODE_POINTS) fail('STATEMENT_BAD_NAME', `${where} must be 1 to ${MAX_NAME_CODE_POINTS} code points, got ${n > MAX_NAME_CODE_POINTS ? 'more' : n}`);
  if (hasForbiddenNameChar(v)) fail('STATEMENT_BAD_NAME', `${where} holds a control or bidirectional formatting character: ${describeValue(v)}`);
  if (!isNfc(v)) fail('STATEMENT_BAD_NAME', `${where} must be in Unicode Normalization Form C: ${describeValue(v)}`);
}

/** An https URL by WHATWG URL parsing, at most 2,048 code points (DESIGN 2). */
function checkLinks(v: unknown, where: string): void {
  const links = requireObject(v, where, 'STATEMENT_BAD_LINK');
  const keys = Object.keys(links);
  if (keys.length === 0) fail('STATEMENT_BAD_LINK', `${where}, when present, must hold at least one link`);
  for (const key of keys) {
    const w = `${where}.${key}`;
    if (!(LINK_KEYS as readonly string[]).includes(key)) fail('STATEMENT_BAD_LINK', `unknown link ${describeValue(key)} in ${where}; allowed: ${LINK_KEYS.join(', ')}`);
    const url = links[key];
    if (typeof url !== 'string') fail('STATEMENT_BAD_LINK', `${w} must be a string, got ${received(url)}`);
    if (codePointLength(url, MAX_URL_CODE_POINTS) > MAX_URL_CODE_POINTS) fail('STATEMENT_BAD_LINK', `${w} is longer than ${MAX_URL_CODE_POINTS} code points`);
    const parsed = parseWhatwgUrl(url);
    if (parsed === null) fail('STATEMENT_BAD_LINK', `${w} is not a URL: ${describeValue(url)}`);
    if (parsed.protocol !== 'https:') fail('STATEMENT_BAD_LINK', `${w} must be an https URL, got scheme ${describeValue(parsed.protocol)}`);
  }
}

function checkPledgeSubject(s: Obj, where: string): void {
  checkMembers(s, ['id', 'name', 'accord', 'principles', 'previous'], ['country', 'links'], where);
  checkDidWeb(s.id, `${where}.id`);
  checkName(s.name, `${where}.name`);
  checkDigest(s.accord, `${where}.accord`);
  checkPrinciples(s.principles, `${where}.principles`);
  if (s.previous !== null) checkDigest(s.previous, `${where}.previous (a digest or null)`);
  if (Object.hasOwn(s, 'country') && !isCountryCode(s.country)) {
    fail('STATEMENT_BAD_COUNTRY', `${where}.country must be two capital letters (ISO 3166-1 alpha-2), got ${received(s.country)}`);
  }
  if (Object.hasOwn(s, 'links')) checkLinks(s.links, `${where}.links`);
}

function checkWithdrawalSubject(s: Obj, where: string): void {
  checkMembers(s, ['id', 'accord', 'previous'], ['reason'], where);
  checkDidWeb(s.id, `${where}.id`);
  checkDigest(s.accord, `${where}.accord`);
  if (s.previous !== null) checkDigest(s.previous, `${where}.previous (a digest or null)`);
  if (Object.hasOwn(s, 'reason')) {
    if (typeof s.reason !== 'string') fail('STATEMENT_BAD_REASON', `${where}.reason must be a string, got ${received(s.reason)}`);
    checkReasonLength(s.reason, `${where}.reason`);
  }
}

const ACCORD_URN_RE = /^urn:accord:([a-z0-9]+(?:-[a-z0-9]+)*):([1-9][0-9]*)$/;

function badAccord(message: string): never {
  fail('STATEMENT_BAD_ACCORD_TEXT', message);
}

function checkNonEmptyString(v: unknown, where: string): void {
  if (typeof v !== 'string' || v.length === 0) badAccord(`${where} must be a non-empty string, got ${received(v)}`);
}

/**
 * An AccordText subject (also the accord file's content, see accord-file.ts): `id`
 * `urn:accord:<slug>:<version>` (RFC 8141 URN, our namespace), `version` a positive integer equal
 * to the URN's, principles numbered 1..n in order.
 */
export function checkAccordTextSubject(s: Obj, where: string): void {
  checkMembers(s, ['id', 'title', 'version', 'principles', 'preamble'], [], where);
  if (typeof s.id !== 'string') badAccord(`${where}.id must be a string, got ${received(s.id)}`);
  const m = ACCORD_URN_RE.exec(s.id);
  if (m === null) badAccord(`${where}.id must be urn:accord:<slug>:<version> (slug: lowercase letters, digits, single hyphens), got ${describeValue(s.id)}`);
  if (typeof s.version !== 'number' || !Number.isSafeInteger(s.version) || s.version < 1) {
    badAccord(`${where}.version must be a positive integer, got ${received(s.version)}`);
  }
  if (m[2] !== String(s.version)) badAccord(`${where}.version ${s.version} does not match the version in ${where}.id (${describeValue(s.id)})`);
  checkNonEmptyString(s.title, `${where}.title`);
  if (typeof s.preamble !== 'string') badAccord(`${where}.preamble must be a string, got ${received(s.preamble)}`);
  const ps = s.principles;
  if (!Array.isArray(ps) || ps.length === 0) badAccord(`${where}.principles must be a non-empty array, got ${received(ps)}`);
  ps.forEach((p: unknown, i) => {
    const w = `${where}.principles[${i}]`;
    const po = requireObject(p, w, 'STATEMENT_BAD_ACCORD_TEXT');
    checkMembers(po, ['number', 'title', 'text'], [], w, { unknown: 'STATEMENT_BAD_ACCORD_TEXT', missing: 'STATEMENT_BAD_ACCORD_TEXT' });
    if (po.number !== i + 1) badAccord(`${w}.number must be ${i + 1} (principles are numbered 1..n in order), got ${received(po.number)}`);
    checkNonEmptyString(po.title, `${w}.title`);
    checkNonEmptyString(po.text, `${w}.text`);
  });
}

function badAttestation(message: string): never {
  fail('STATEMENT_BAD_ATTESTATION', message);
}

function checkAttestationSubject(s: Obj, where: string): void {
  checkMembers(s, ['id', 'url', 'observedAt', 'documentDigest', 'verificationMethods'], [], where);
  const did = checkDidWeb(s.id, `${where}.id`);
  // https://<domain>/.well-known/did.json, or the operator-mapped URL (DESIGN 4), which may be http.
  const url = s.url;
  if (typeof url !== 'string' || codePointLength(url, MAX_URL_CODE_POINTS) > MAX_URL_CODE_POINTS) {
    badAttestation(`${where}.url must be a URL string of at most ${MAX_URL_CODE_POINTS} code points, got ${received(url)}`);
  }
  const parsed = parseWhatwgUrl(url);
  if (parsed === null || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) badAttestation(`${where}.url must be an https (or operator-mapped http) URL, got ${describeValue(url)}`);
  checkTimestamp(s.observedAt, `${where}.observedAt`);
  checkDigest(s.documentDigest, `${where}.documentDigest`);
  const methods = s.verificationMethods;
  if (!Array.isArray(methods) || methods.length === 0) badAttestation(`${where}.verificationMethods must be a non-empty array, got ${received(methods)}`);
  const seen = new Set<string>();
  methods.forEach((m: unknown, i) => {
    const w = `${where}.verificationMethods[${i}]`;
    const mo = requireObject(m, w, 'STATEMENT_BAD_ATTESTATION');
    checkMembers(mo, ['id', 'publicKeyMultibase'], [], w, { unknown: 'STATEMENT_BAD_ATTESTATION', missing: 'STATEMENT_BAD_ATTESTATION' });
    if (!isDidWebMethodOf(mo.id, did)) badAttestation(`${w}.id must be a method of ${did} in full form (${did}#<fragment>), got ${received(mo.id)}`);
    if (seen.has(mo.id)) badAttestation(`${w}.id ${describeValue(mo.id)} is listed twice`);
    seen.add(mo.id);
    try {
      decodePublicMultikey(mo.publicKeyMultibase);
    } catch (cause) {
      throw new AccordError('STATEMENT_BAD_ATTESTATION', `${w}.publicKeyMultibase must be an Ed25519 Multikey (z6Mk...), got ${received(mo.publicKeyMultibase)}`, { cause });
    }
  });
}

function checkNoticeSubject(s: Obj, where: string): void {
  checkMembers(s, ['id', 'action', 'reason'], [], where);
  checkDidWeb(s.id, `${where}.id`);
  if (s.action !== 'delist' && s.action !== 'relist') fail('STATEMENT_BAD_NOTICE', `${where}.action must be "delist" or "relist", got ${received(s.action)}`);
  if (typeof s.reason !== 'string' || s.reason.length === 0) fail('STATEMENT_BAD_NOTICE', `${where}.reason must be a non-empty string, got ${received(s.reason)}`);
  checkReasonLength(s.reason, `${where}.reason`);
}

const SUBJECT_CHECKS: Record<StatementType, (s: Obj, where: string) => void> = {
  AccordPledge: checkPledgeSubject,
  AccordWithdrawal: checkWithdrawalSubject,
  AccordText: checkAccordTextSubject,
  DomainAttestation: checkAttestationSubject,
  RegistryNotice: checkNoticeSubject,
};

// ---- the proof's shape (its signature is proof.ts's business) ----

function checkProofShape(v: unknown, issuer: string, type: StatementType): void {
  const proof = requireObject(v, 'proof', 'STATEMENT_BAD_PROOF_SHAPE');
  checkMembers(proof, PROOF_MEMBERS, [], 'proof', { unknown: 'STATEMENT_BAD_PROOF_SHAPE', missing: 'STATEMENT_BAD_PROOF_SHAPE' });
  if (proof.type !== PROOF_TYPE) fail('STATEMENT_BAD_PROOF_TYPE', `proof.type must be "${PROOF_TYPE}", got ${received(proof.type)}`);
  if (proof.cryptosuite !== CRYPTOSUITE) fail('STATEMENT_WRONG_CRYPTOSUITE', `proof.cryptosuite must be "${CRYPTOSUITE}", got ${received(proof.cryptosuite)}`);
  checkTimestamp(proof.created, 'proof.created');
  if (proof.proofPurpose !== PROOF_PURPOSE) fail('STATEMENT_BAD_PROOF_PURPOSE', `proof.proofPurpose must be "${PROOF_PURPOSE}", got ${received(proof.proofPurpose)}`);
  // DESIGN 2: "in this registry the proof's @context must equal the document's" (and the
  // document's is already known to be exactly [VC_CONTEXT]).
  checkContext(proof['@context'], "proof['@context'] (equal to the document's)", 'STATEMENT_PROOF_CONTEXT_MISMATCH');
  if (decodeProofValue(proof.proofValue) === null) {
    fail('STATEMENT_BAD_PROOF_VALUE', `proof.proofValue must be base58-btc multibase ("z...") of a 64-byte Ed25519 signature, got ${received(proof.proofValue)}`);
  }
  const method = proof.verificationMethod;
  const ok = isRegistryType(type) ? method === didKeyMethodOf(issuer) : isDidWebMethodOf(method, issuer);
  if (!ok) {
    const expected = isRegistryType(type) ? didKeyMethodOf(issuer) : `${issuer}#<fragment>`;
    fail('STATEMENT_METHOD_NOT_ISSUER', `proof.verificationMethod must be a method of the issuer (${expected}), got ${received(method)}`);
  }
}

// ---- I-JSON strings everywhere (RFC 7493 2.1) ----

/**
 * True if no string and no member name in `v` holds a UTF-16 code unit from U+D800 up. Every
 * surrogate and every noncharacter lies there (U+D800-U+DFFF, U+FDD0 and above, and the planes
 * beyond the first through surrogate pairs), so for such a value, nearly every statement, the
 * checks of checkStrings cannot fail and its per-member work is skipped.
 */
// Without the u flag a character class matches UTF-16 code units, so this finds any unit >= U+D800.
const FROM_SURROGATES_RE = /[\uD800-\uFFFF]/;

function allBelowSurrogates(v: unknown): boolean {
  if (typeof v === 'string') return !FROM_SURROGATES_RE.test(v);
  if (typeof v !== 'object' || v === null) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!allBelowSurrogates(v[i])) return false;
    return true;
  }
  const keys = Object.keys(v);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i] as string;
    if (FROM_SURROGATES_RE.test(k) || !allBelowSurrogates((v as Obj)[k])) return false;
  }
  return true;
}

function checkStrings(v: unknown, where: string): void {
  if (allBelowSurrogates(v)) return;
  checkEachString(v, where);
}

function checkEachString(v: unknown, where: string): void {
  const check = (s: string, w: string): void => {
    if (hasNoncharacter(s)) fail('STATEMENT_NONCHARACTER', `${w} holds a Unicode noncharacter (forbidden by I-JSON, RFC 7493 2.1)`);
    if (hasLoneSurrogate(s)) fail('STATEMENT_LONE_SURROGATE', `${w} holds an unpaired surrogate (forbidden by I-JSON, RFC 7493 2.1)`);
  };
  if (typeof v === 'string') check(v, where);
  else if (Array.isArray(v)) v.forEach((x: unknown, i) => checkEachString(x, `${where}[${i}]`));
  else if (isObject(v)) {
    for (const [k, x] of Object.entries(v)) {
      check(k, `a member name in ${where}`);
      checkEachString(x, `${where}.${k}`);
    }
  }
}

// ---- the document ----

const DOCUMENT_MEMBERS = ['@context', 'type', 'issuer', 'validFrom', 'credentialSubject'] as const;

function checkDocument(doc: unknown, withProof: boolean): void {
  const d = requireObject(doc, 'a statement');
  checkMembers(d, withProof ? [...DOCUMENT_MEMBERS, 'proof'] : DOCUMENT_MEMBERS, [], 'the document');
  checkContext(d['@context'], '@context', 'STATEMENT_BAD_CONTEXT');

  const t = d.type;
  if (!Array.isArray(t) || t.length !== 2 || t[0] !== 'VerifiableCredential') {
    fail('STATEMENT_UNKNOWN_TYPE', `type must be ["VerifiableCredential", <statement type>], got ${received(t)}`);
  }
  const type: unknown = t[1];
  if (!isStatementType(type)) {
    fail('STATEMENT_UNKNOWN_TYPE', `unknown statement type ${received(type)}; known: AccordPledge, AccordWithdrawal, AccordText, DomainAttestation, RegistryNotice`);
  }

  const issuer = d.issuer;
  if (typeof issuer !== 'string') fail('STATEMENT_BAD_ISSUER', `issuer must be a string, got ${received(issuer)}`);
  if (isRegistryType(type)) {
    // DESIGN 2 and 6: registry statements are issued by the did:key of its attestation key.
    if (!isDidKey(issuer)) fail('STATEMENT_BAD_ISSUER', `${withArticle(type)} is issued by the registry's did:key (did:key:z6Mk...), got ${describeValue(issuer)}`);
  } else {
    checkDidWeb(issuer, 'issuer');
  }

  checkTimestamp(d.validFrom, 'validFrom');
  const subject = requireObject(d.credentialSubject, 'credentialSubject');
  SUBJECT_CHECKS[type](subject, 'credentialSubject');
  if (!isRegistryType(type) && subject.id !== issuer) {
    fail('STATEMENT_ISSUER_NOT_SUBJECT', `${withArticle(type)} is issued by its signatory: issuer ${describeValue(issuer)} differs from credentialSubject.id ${received(subject.id)}`);
  }
  if (withProof) checkProofShape(d.proof, issuer, type);
  checkStrings(d, 'the document');
}

/** Checks a secured statement against DESIGN 2 and returns it typed. Throws STATEMENT_* codes. */
export function validateStatement(doc: unknown): Statement {
  checkDocument(doc, true);
  return doc as Statement;
}

/** The same rules for a document not yet signed (what the builders produce). */
export function validateUnsecuredStatement(doc: unknown): UnsecuredStatement {
  checkDocument(doc, false);
  return doc as UnsecuredStatement;
}

/** Checks an AccordText subject on its own (the accord file, accord-file.ts). */
export function validateAccordTextSubject(subject: unknown, where = 'the accord'): AccordTextSubject {
  checkAccordTextSubject(requireObject(subject, where, 'STATEMENT_BAD_ACCORD_TEXT'), where);
  checkStrings(subject, where);
  return subject as AccordTextSubject;
}

/**
 * DESIGN 2: a pledge lists every principle number of the accord it names, each once. Known only
 * once the accord is looked up, so the state machine calls this, not validateStatement.
 */
export function checkPrinciplesCover(principles: readonly number[], accordPrincipleNumbers: readonly number[]): void {
  const have = new Set(principles);
  const want = new Set(accordPrincipleNumbers);
  const missing = [...want].filter((n) => !have.has(n));
  const extra = [...have].filter((n) => !want.has(n));
  if (missing.length > 0 || extra.length > 0 || principles.length !== have.size) {
    const parts = [];
    if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
    if (extra.length > 0) parts.push(`not in the accord: ${extra.join(', ')}`);
    if (principles.length !== have.size) parts.push('a number listed twice');
    fail('STATEMENT_PRINCIPLES_INCOMPLETE', `a pledge must list every principle of its accord (${[...want].join(', ')}): ${parts.join('; ')}`);
  }
}

/** DESIGN 5 and 7: the canonical entry is at most 16 KiB. */
export function checkEntrySize(canonical: Uint8Array): void {
  if (canonical.length > MAX_ENTRY_BYTES) {
    fail('STATEMENT_TOO_LARGE', `the canonical statement is ${canonical.length} bytes; the registry admits at most ${MAX_ENTRY_BYTES}`);
  }
}

export interface ParsedStatement {
  statement: Statement;
  /** RFC 8785 bytes: what the log stores (DESIGN 2). */
  canonical: Uint8Array;
  /** `sha256:` + hex of `canonical`. */
  digest: string;
}

/**
 * Strict JSON (RFC 8259 + I-JSON, JSON_* codes), then the schema, then the canonical form and its
 * digest (DESIGN 7 admission order). `maxBytes` caps the input (the 64 KiB body limit by default);
 * the canonical form is capped at 16 KiB.
 */
export function parseStatementBytes(bytes: Uint8Array, opts: { maxBytes?: number } = {}): ParsedStatement {
  const value = parseStrictJson(bytes, { maxBytes: opts.maxBytes ?? MAX_JSON_BYTES });
  const statement = validateStatement(value);
  const canonical = canonicalBytes(statement);
  checkEntrySize(canonical);
  return { statement, canonical, digest: statementDigest(canonical) };
}
