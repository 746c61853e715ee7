/**
 * Admission of a submitted statement: `POST /api/v1/statements` (DESIGN section 7), in the order
 * the design fixes, each refusal its own code, and a refusal writes nothing:
 *
 *  1. content type `application/json` (415 UNSUPPORTED_MEDIA_TYPE)        - the HTTP handler
 *  2. size cap, 64 KiB (413 BODY_TOO_LARGE)                                - the HTTP handler
 *  3. strict JSON (JSON_*, BAD_UTF8)
 *  4. canonical form (at most 16 KiB, STATEMENT_TOO_LARGE) and digest; a digest already in the
 *     log answers 200 with the existing entry's receipt at once (idempotent retries)
 *  5. schema and formats (STATEMENT_*), which include issuer = credentialSubject.id = the DID of
 *     the verification method (STATEMENT_ISSUER_NOT_SUBJECT, STATEMENT_METHOD_NOT_ISSUER)
 *  6. only signatory statements over HTTP (REGISTRY_STATEMENT_FORBIDDEN)
 *  7. time window: validFrom and proof.created within 5 minutes of our clock (STATEMENT_TIME_WINDOW)
 *  8. fetch the did:web document (DID_WEB_*), find the method (KEY_NOT_IN_DID_DOCUMENT)
 *  9. verify the proof with that key (PROOF_*)
 * 10. inside the sequencer's write transaction, serialized with every other writer: the registry's
 *     rules (core/audit/registry-state.ts): key attested, accord known (ACCORD_UNKNOWN), principles
 *     (STATEMENT_PRINCIPLES_INCOMPLETE), previous (409 PREVIOUS_MISMATCH with `head`), withdrawal
 *     and delisting rules (NOT_A_SIGNATORY, WITHDRAWAL_ACCORD_MISMATCH, SIGNATORY_DELISTED).
 *
 * DESIGN 4: when the fetched document's digest differs from the signatory's latest
 * DomainAttestation, a new attestation (signed by the registry's attestation key, recording the URL
 * actually fetched) goes into the SAME append group immediately before the statement, so it is
 * logged only if the statement is admitted, and the key check runs against it.
 */
import type { Logger } from 'pino';
import { applyStatement, type AccordInfo, type RegistryView, type SignatoryState } from '../core/audit/registry-state.ts';
import { toBase64 } from '../core/bytes.ts';
import { decodePublicMultikey } from '../core/crypto/multikey.ts';
import { AccordError, describeValue, isAccordError } from '../core/errors.ts';
import { canonicalBytes } from '../core/json/canonical.ts';
import { parseIfCanonical } from '../core/json/canonical-scan.ts';
import { MAX_JSON_BYTES, parseStrictJson } from '../core/json/strict-parse.ts';
import { buildAttestation, secureStatement } from '../core/statements/build.ts';
import { statementDigest } from '../core/statements/digest.ts';
import { nowTimestamp, timestampMillis } from '../core/statements/formats.ts';
import { isRegistryType, MAX_ENTRY_BYTES, type Statement } from '../core/statements/types.ts';
import { checkEntrySize, validateStatement } from '../core/statements/validate.ts';
import type { StoredLogReader } from '../log/log-reader.ts';
import type { AdmitContext, AppendEntry, AppendGroup, Receipt } from '../log/sequencer.ts';
import { digestOfNode } from '../node/sha256.ts';
import type { Registry } from '../registry.ts';
import { findEntryIndex } from '../storage/entries-repo.ts';
import { getSignatory } from '../storage/signatories-repo.ts';
import type { DidWebFetch } from './did-web.ts';
import { LruMap } from './lru-map.ts';
import { inlineProofVerifier, type ProofVerifier } from './proof-verifier.ts';

/** DESIGN 7: a body over 64 KiB gets 413. */
export const MAX_BODY_BYTES = MAX_JSON_BYTES;
/** DESIGN 7: validFrom and proof.created within 5 minutes of the registry's clock, either way. */
export const TIME_WINDOW_MS = 5 * 60 * 1000;
/** Tries when a concurrent writer changed the signatory's attestation between our read and our turn. */
const MAX_ATTEMPTS = 3;

/** What admission needs of the registry (src/registry.ts). */
export type AdmissionRegistry = Pick<Registry, 'handle' | 'keys' | 'sequencer' | 'reader'>;

export interface AdmissionDeps {
  registry: AdmissionRegistry;
  didWebFetch: DidWebFetch;
  /** The registry's clock (tests move it). */
  now: () => Date;
  logger?: Logger;
  /** Where proofs are checked (step 9); default: on the calling thread. */
  proofVerifier?: ProofVerifier;
}

const INLINE_PROOFS = inlineProofVerifier();

export interface AdmissionResult {
  /** 201: appended now; 200: the same bytes were already logged (DESIGN 7). */
  status: 200 | 201;
  receipt: Receipt;
}

/** Marks a group whose attestation decision went stale under a concurrent writer: try again. */
class StaleAttestation extends Error {}

/** DIDs whose latest attested document digest this process remembers (per registry). */
export const ATTESTATION_HINTS = 10_000;

/**
 * The document digest of each DID's latest DomainAttestation, as this process last committed or
 * read it: a hint that saves reading the signatory before every statement. It is only a guess:
 * the decision it feeds (append a new attestation or not) is taken again inside the write
 * transaction, against the stored state, and a wrong guess (another process attested since) is
 * retried with the stored value. A rotated key therefore still counts at once (DESIGN 4, 7).
 */
const hintsByRegistry = new WeakMap<object, LruMap<string, string | null>>();

/**
 * The public key (multibase) each verification method had in the DID document this process last
 * fetched for its DID. The proof check (step 9) starts with it while the document is fetched
 * again (step 8), so the two overlap instead of adding up: about half the time of an admission
 * under load. Its verdict is used only if the fetched document lists the same key for the
 * method; otherwise the check runs again with the listed key. Either way the verdict is the one
 * of the listed key, and refusals keep DESIGN 7's order (fetch and method first, then the proof).
 */
const keyHintsByRegistry = new WeakMap<object, LruMap<string, string>>();

function perRegistry<V>(maps: WeakMap<object, LruMap<string, V>>, registry: object): LruMap<string, V> {
  let h = maps.get(registry);
  if (h === undefined) {
    h = new LruMap(ATTESTATION_HINTS);
    maps.set(registry, h);
  }
  return h;
}

/** The receipt of an entry already in the log, against the latest checkpoint. */
export async function receiptFor(reader: StoredLogReader, index: number, digest: string): Promise<Receipt> {
  const cp = await reader.latestCheckpoint();
  if (cp === undefined || index >= cp.size) {
    // A committed entry is always covered by the latest checkpoint (they commit together).
    throw new AccordError('LOG_STATE_INCONSISTENT', `entry ${index} is stored but no checkpoint covers it`);
  }
  const proof = await reader.inclusionProof(index, cp.size);
  return { index, digest, checkpoint: cp.note, inclusionProof: proof.map(toBase64) };
}

function checkTimeWindow(statement: Statement, now: Date): void {
  const t = now.getTime();
  for (const [what, value] of [
    ['validFrom', statement.validFrom],
    ['proof.created', statement.proof.created],
  ] as const) {
    const ms = timestampMillis(value) as number; // validated already
    if (Math.abs(ms - t) > TIME_WINDOW_MS) {
      throw new AccordError(
        'STATEMENT_TIME_WINDOW',
        `${what} ${value} is more than 5 minutes ${ms < t ? 'before' : 'after'} the registry's clock (${nowTimestamp(now)}); sign with the current time`,
        { details: { serverTime: nowTimestamp(now) } },
      );
    }
  }
}

function entryOf(bytes: Uint8Array, digest: string, statement: Statement): AppendEntry {
  return { bytes, digest, type: statement.type[1], subject: statement.credentialSubject.id, validFrom: statement.validFrom };
}

/**
 * Runs admission on a body that passed the content-type and size checks; returns the receipt or
 * throws the AccordError of the first rule the statement breaks.
 */
export async function admitStatement(deps: AdmissionDeps, body: Uint8Array): Promise<AdmissionResult> {
  // Tell the sequencer a group is on its way, so the batch it is about to commit can wait for it
  // (group commit, src/log/arrivals.ts); said again (no-op) once appended or refused.
  const arrived = deps.registry.sequencer.willAppend();
  try {
    return await admit(deps, body, arrived);
  } finally {
    arrived();
  }
}

/**
 * Steps 3 and 4: the body's value, as the strict parser reads it, and its canonical form. A body
 * that is already canonical (what accord-sign sends) is checked on its bytes instead
 * (core/json/canonical-scan.ts), which gives the same value, and the same refusals, for less.
 */
function parseBody(body: Uint8Array): { value: unknown; canonical: Uint8Array } {
  const fast = body.length <= MAX_ENTRY_BYTES ? parseIfCanonical(body) : null;
  // A copy: the body may be a view into a larger buffer of the HTTP layer.
  if (fast !== null) return { value: fast.value, canonical: new Uint8Array(body) };
  const value = parseStrictJson(body, { maxBytes: MAX_BODY_BYTES });
  return { value, canonical: canonicalBytes(value) };
}

async function admit(deps: AdmissionDeps, body: Uint8Array, arrived: () => void): Promise<AdmissionResult> {
  const { registry } = deps;
  // 3. Strict JSON (RFC 8259 + I-JSON); 4. the canonical form is what the log holds (DESIGN 2, 7)
  // and what the digest names.
  const { value, canonical } = parseBody(body);
  checkEntrySize(canonical);
  // DESIGN 2 digest (core statementDigest), hashed by node:crypto.
  const digest = digestOfNode(canonical);
  const existing = await findEntryIndex(registry.handle.db, digest);
  if (existing !== undefined) {
    return { status: 200, receipt: await receiptFor(registry.reader, existing, digest) };
  }
  // 5. Schema and formats, issuer = subject = the method's DID.
  const statement = validateStatement(value);
  // 6. The registry's own statement types are made by the operator, never submitted.
  const kind = statement.type[1];
  if (isRegistryType(kind)) {
    throw new AccordError('REGISTRY_STATEMENT_FORBIDDEN', `a ${kind} is issued by the registry itself and cannot be submitted; submit an AccordPledge or AccordWithdrawal`);
  }
  // 7. No backdating, no post-dating.
  const now = deps.now();
  checkTimeWindow(statement, now);
  // 8. The did:web document, fetched for every statement (no cache: a rotated key stops at once).
  // Meanwhile, step 9 starts with the key the method had last time (keyHintsByRegistry).
  const did = statement.issuer;
  const method = statement.proof.verificationMethod;
  const verifier = deps.proofVerifier ?? INLINE_PROOFS;
  const checkProof = async (publicKeyMultibase: string): Promise<void> => verifier.verify(canonical, decodePublicMultikey(publicKeyMultibase));
  const keyHints = perRegistry(keyHintsByRegistry, registry);
  const hintedKey = keyHints.get(method);
  // The request goes out first: a check on this thread (no worker) then runs while it is on the wire.
  const fetching = deps.didWebFetch(did);
  const early = hintedKey === undefined ? undefined : checkProof(hintedKey);
  // Its verdict may never be asked for (the fetch fails, the key changed): not an unhandled rejection.
  early?.catch(() => {});
  const doc = await fetching;
  for (const m of doc.methods) keyHints.set(m.id, m.publicKeyMultibase);
  const listed = doc.methods.find((m) => m.id === method);
  if (listed === undefined) {
    throw new AccordError(
      'KEY_NOT_IN_DID_DOCUMENT',
      `${describeValue(method)} is not an Ed25519 Multikey assertion method of the DID document at ${doc.url}` +
        (doc.methods.length === 0 ? ' (it lists none)' : ` (it lists ${doc.methods.map((m) => m.id).join(', ')})`),
      { details: { url: doc.url, methods: doc.methods.map((m) => m.id) } },
    );
  }
  // 9. The proof, with the key the document lists (node:crypto, identical verdicts; perhaps on
  // another thread: proof-verifier.ts): the early check if it used that very key.
  await (early !== undefined && hintedKey === listed.publicKeyMultibase ? early : checkProof(listed.publicKeyMultibase));

  // 10. The registry's rules, serialized in the sequencer's write transaction.
  const statementEntry = entryOf(canonical, digest, statement);
  const hints = perRegistry(hintsByRegistry, registry);
  for (let attempt = 1; ; attempt++) {
    // First try: the remembered digest if any; after a stale decision: the stored one.
    let attested = attempt === 1 ? hints.get(did) : undefined;
    if (attested === undefined) {
      attested = (await getSignatory(registry.handle.db, did))?.state.attestation?.documentDigest ?? null;
      hints.set(did, attested);
    }
    const needsAttestation = attested !== doc.documentDigest;
    let attestation: { entry: AppendEntry; statement: Statement } | null = null;
    if (needsAttestation) {
      const observedAt = nowTimestamp(deps.now());
      const unsecured = buildAttestation({
        registryDid: registry.keys.attestationDid,
        did,
        url: doc.url,
        observedAt,
        documentDigest: doc.documentDigest,
        verificationMethods: doc.methods,
        validFrom: observedAt,
      });
      const signed = secureStatement(unsecured, registry.keys.attestationKey, registry.keys.attestationMethod, observedAt);
      const bytes = canonicalBytes(signed);
      attestation = { entry: entryOf(bytes, statementDigest(bytes), signed), statement: signed };
    }
    let admitted = false;
    const admit = async (ctx: AdmitContext): Promise<SignatoryState[]> => {
      let state = (await ctx.getSignatory(did)) ?? null;
      // The decision above was taken outside the lock; if another writer attested this DID since,
      // decide again rather than log a needless (or miss a needed) attestation.
      const current = state?.attestation?.documentDigest ?? null;
      if ((attestation !== null) !== (current !== doc.documentDigest)) throw new StaleAttestation();
      const accordDigest = (statement.credentialSubject as { accord: string }).accord;
      const accord: AccordInfo | undefined = await ctx.getAccord(accordDigest);
      const view: RegistryView = {
        attestationDid: registry.keys.attestationDid,
        signatory: (d) => (d === did ? state : undefined),
        accord: (dg) => (dg === accordDigest ? accord : undefined),
      };
      let index = ctx.nextIndex;
      if (attestation !== null) {
        state = applyStatement(view, { index, statement: attestation.statement, digest: attestation.entry.digest }).signatory ?? state;
        index++;
      }
      const change = applyStatement(view, { index, statement, digest });
      if (change.signatory === undefined) throw new AccordError('INTERNAL', 'a signatory statement changed no signatory state');
      admitted = true;
      return [change.signatory];
    };
    const group: AppendGroup = { entries: attestation === null ? [statementEntry] : [attestation.entry, statementEntry], admit };
    try {
      const appended = registry.sequencer.append(group);
      arrived();
      const receipts = await appended;
      const receipt = receipts[receipts.length - 1];
      if (receipt === undefined || receipt.digest !== digest) {
        throw new AccordError('INTERNAL', `the sequencer returned no receipt for ${digest}`);
      }
      // Admitted: the attestation in force for the DID is now the one of the document just fetched.
      if (admitted) hints.set(did, doc.documentDigest);
      // Not admitted here means the same bytes were logged by a concurrent submission: idempotent.
      return { status: admitted ? 201 : 200, receipt };
    } catch (e) {
      if (e instanceof StaleAttestation) hints.delete(did);
      const retry = e instanceof StaleAttestation || (isAccordError(e, 'LOG_DUPLICATE_ENTRY') && attestation !== null);
      if (!retry || attempt >= MAX_ATTEMPTS) {
        if (e instanceof StaleAttestation) throw new AccordError('SEQUENCER_CONTENTION', `the attestation of ${did} kept changing under concurrent submissions; try again`);
        throw e;
      }
      deps.logger?.debug({ did, attempt }, 'attestation decision went stale; deciding again');
      if (!(e instanceof StaleAttestation) && attempt >= 2) {
        // Decided again on stored state and still built the bytes of a logged attestation: the
        // same document was attested in this same second (it changed and changed back). Entries
        // appear once (DESIGN 5), so observe it again in the next second, which makes new bytes.
        await new Promise((r) => setTimeout(r, 1000 - (deps.now().getTime() % 1000)));
      }
    }
  }
}
