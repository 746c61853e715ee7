/**
 * The registry's rules as a pure state machine (DESIGN sections 2, 4, 7, 8). The sequencer uses it
 * to admit statements and the auditor uses it to re-check the whole log, so both apply exactly the
 * same rules. CONTRACT (types fixed by the lead; the rules are implemented by the audit helper).
 */
import { decodePublicMultikey, didKeyVerificationMethod, publicKeyFromDidKey } from '../crypto/multikey.ts';
import { AccordError, describeValue, withArticle } from '../errors.ts';
import { isRegistryType, typedStatement, type Statement } from '../statements/types.ts';
import { checkPrinciplesCover } from '../statements/validate.ts';

/** A DomainAttestation as the state keeps it. */
export interface AttestationState {
  /** Log index of the DomainAttestation entry. */
  index: number;
  /** Digest of the DomainAttestation entry itself. */
  digest: string;
  /** `documentDigest` of the attested did.json bytes. */
  documentDigest: string;
  url: string;
  observedAt: string;
  methods: { id: string; publicKeyMultibase: string }[];
}

export interface SignatoryState {
  /** did:web:<domain> */
  did: string;
  /** null: attested or noticed but never pledged. */
  membership: 'signatory' | 'withdrawn' | null;
  /** Set by a RegistryNotice delist, cleared by a relist. */
  delisted: boolean;
  /** Digest of the latest AccordPledge/AccordWithdrawal: what the next `previous` must name. */
  head: string | null;
  headIndex: number | null;
  /** Accord digest of the latest pledge. */
  accord: string | null;
  /** Self-declared profile from the latest pledge. */
  name: string | null;
  country: string | null;
  links: Record<string, string> | null;
  /** validFrom of the pledge that began the current membership (re-joining resets it). */
  since: string | null;
  /** validFrom of the latest pledge or withdrawal. */
  updatedAt: string | null;
  attestation: AttestationState | null;
  /**
   * Latest RegistryNotice, if any. `validFrom` is the notice's date (absent from states stored by
   * versions before it was kept).
   */
  notice: { action: 'delist' | 'relist'; reason: string; index: number; validFrom?: string } | null;
}

export type SignatoryStatus = 'signatory' | 'withdrawn' | 'delisted';

export function signatoryStatus(s: SignatoryState): SignatoryStatus | null {
  if (s.delisted) return 'delisted';
  return s.membership;
}

/**
 * Since when the signatory has had its present status: its delisting; a relisting after its latest
 * pledge or withdrawal (listed again since then); or else the pledge that began its membership, or
 * its withdrawal. Null where the state does not know.
 */
export function statusSince(s: SignatoryState): string | null {
  if (s.delisted) return s.notice?.validFrom ?? null;
  const relist = s.notice?.action === 'relist' && s.notice.index > (s.headIndex ?? -1) ? (s.notice.validFrom ?? null) : null;
  if (relist !== null) return relist;
  if (s.membership === 'withdrawn') return s.updatedAt;
  return s.since;
}

export interface AccordInfo {
  digest: string;
  index: number;
  /** e.g. urn:accord:tech-sector:1 */
  id: string;
  version: number;
  title: string;
  principleNumbers: number[];
}

// ---------------------------------------------------------------------------------------------
// The rules. Pure and synchronous: the caller owns the state and commits the returned change.
// ---------------------------------------------------------------------------------------------


/**
 * What the rules need to know about the log so far (entries at lower indexes only). Lookups are
 * synchronous: the sequencer pre-loads the few rows a batch touches, the auditor keeps it in memory.
 */
export interface RegistryView {
  /** `did:key:z6Mk...` of the registry's attestation key (DESIGN 6). */
  readonly attestationDid: string;
  /** The state of a DID that an earlier entry named, or null/undefined if none did. */
  signatory(did: string): SignatoryState | null | undefined;
  /** The AccordText whose entry has this digest, or null/undefined. */
  accord(digest: string): AccordInfo | null | undefined;
  /**
   * The AccordText with this `id` (e.g. urn:accord:tech-sector:1), or null/undefined. Optional so a
   * view can be written against the first contract; without it, ACCORD_DUPLICATE only catches a
   * repeated digest (the caller then owns the id check).
   */
  accordById?(id: string): AccordInfo | null | undefined;
}

/** The new state of the one DID and/or accord an entry changes; the caller commits it. */
export interface StateChange {
  signatory?: SignatoryState;
  accord?: AccordInfo;
}

export interface LogEntryRef {
  /** 0-based leaf index the entry has (or will have) in the log. */
  index: number;
  statement: Statement;
  /** DESIGN 2 digest of the canonical entry bytes. */
  digest: string;
}

/** A DID that no entry named yet. */
export function emptySignatory(did: string): SignatoryState {
  return {
    did,
    membership: null,
    delisted: false,
    head: null,
    headIndex: null,
    accord: null,
    name: null,
    country: null,
    links: null,
    since: null,
    updatedAt: null,
    attestation: null,
    notice: null,
  };
}

function refuse(code: string, message: string, details?: Record<string, unknown>): never {
  throw new AccordError(code, message, details === undefined ? undefined : { details });
}

/** The AccordText an `accord` member names, known at a lower index (DESIGN 8), else ACCORD_UNKNOWN. */
function knownAccord(view: RegistryView, digest: string, index: number): AccordInfo {
  const accord = view.accord(digest);
  if (accord === null || accord === undefined || accord.index >= index) {
    refuse('ACCORD_UNKNOWN', `accord ${describeValue(digest)} names no AccordText earlier in the log`);
  }
  return accord;
}

function copyMethods(methods: readonly { id: string; publicKeyMultibase: string }[]): { id: string; publicKeyMultibase: string }[] {
  const out: { id: string; publicKeyMultibase: string }[] = [];
  for (const m of methods) out.push({ id: m.id, publicKeyMultibase: m.publicKeyMultibase });
  return out;
}

function principleNumbersOf(principles: readonly { number: number }[]): number[] {
  const out: number[] = [];
  for (const p of principles) out.push(p.number);
  return out;
}

/**
 * Applies one statement to the registry's state, or throws an AccordError naming the rule it
 * breaks (DESIGN 2, 4, 7 admission order, 8 "Precisely"). Signatures are not checked here: the
 * caller verifies the proof with `signingKeyFor(view, statement)` (before admission, or in bulk).
 * The statement must have passed validateStatement.
 */
export function applyStatement(view: RegistryView, entry: LogEntryRef): StateChange {
  const { index, digest } = entry;
  const t = typedStatement(entry.statement);
  // DESIGN 2: entry 0 of every log is the first accord.
  if (index === 0 && t.kind !== 'AccordText') {
    refuse('FIRST_ENTRY_NOT_ACCORD', `entry 0 must be an AccordText, got ${t.kind}`);
  }
  if (isRegistryType(t.kind)) checkRegistryIssuer(view, entry.statement);

  switch (t.kind) {
    case 'AccordText': {
      const s = t.subject;
      const sameDigest = view.accord(digest);
      const sameId = view.accordById?.(s.id);
      if ((sameDigest !== null && sameDigest !== undefined) || (sameId !== null && sameId !== undefined)) {
        const at = (sameId ?? sameDigest) as AccordInfo;
        refuse('ACCORD_DUPLICATE', `accord ${describeValue(s.id)} is already in the log at index ${at.index}`);
      }
      return {
        accord: {
          digest,
          index,
          id: s.id,
          version: s.version,
          title: s.title,
          principleNumbers: principleNumbersOf(s.principles),
        },
      };
    }

    case 'DomainAttestation': {
      const s = t.subject;
      const prev = view.signatory(s.id) ?? emptySignatory(s.id);
      return {
        signatory: {
          ...prev,
          attestation: {
            index,
            digest,
            documentDigest: s.documentDigest,
            url: s.url,
            observedAt: s.observedAt,
            methods: copyMethods(s.verificationMethods),
          },
        },
      };
    }

    case 'RegistryNotice': {
      const s = t.subject;
      const prev = view.signatory(s.id);
      // A notice is moderation of a listed organisation: it must have pledged at some point.
      if (prev === null || prev === undefined || prev.membership === null) {
        refuse('UNKNOWN_SIGNATORY', `a RegistryNotice names ${describeValue(s.id)}, which never pledged`);
      }
      if (s.action === 'delist' && prev.delisted) {
        refuse('ALREADY_DELISTED', `${s.id} is already delisted (notice at index ${prev.notice?.index ?? '?'})`);
      }
      if (s.action === 'relist' && !prev.delisted) {
        refuse('NOT_DELISTED', `a relist must follow a delist, and ${s.id} is not delisted`);
      }
      return {
        signatory: { ...prev, delisted: s.action === 'delist', notice: { action: s.action, reason: s.reason, index, validFrom: entry.statement.validFrom } },
      };
    }

    case 'AccordPledge':
    case 'AccordWithdrawal': {
      const s = t.subject;
      const did = entry.statement.issuer;
      const prev = view.signatory(did) ?? emptySignatory(did);
      // Admission order of DESIGN 7: key, accord known, previous, then the withdrawal and
      // delisting rules. The signature itself is the caller's (signingKeyFor + verifyProof).
      attestedKey(prev, entry.statement.proof.verificationMethod);
      const accord = knownAccord(view, s.accord, index);
      if (t.kind === 'AccordPledge') checkPrinciplesCover(t.subject.principles, accord.principleNumbers);
      if (s.previous !== prev.head) {
        refuse(
          'PREVIOUS_MISMATCH',
          `previous is ${describeValue(s.previous)}, but the latest statement of ${did} is ${prev.head === null ? 'none (expected null)' : prev.head}`,
          { head: prev.head },
        );
      }
      if (prev.delisted) {
        refuse('SIGNATORY_DELISTED', `${did} is delisted (notice at index ${prev.notice?.index ?? '?'}) and cannot submit until relisted`);
      }
      const validFrom = entry.statement.validFrom;
      if (t.kind === 'AccordWithdrawal') {
        if (prev.membership !== 'signatory') {
          refuse('NOT_A_SIGNATORY', `only a current signatory can withdraw, and ${did} is ${prev.membership === 'withdrawn' ? 'withdrawn' : 'not a signatory'}`);
        }
        if (s.accord !== prev.accord) {
          refuse('WITHDRAWAL_ACCORD_MISMATCH', `a withdrawal must name the accord of the latest pledge (${prev.accord}), got ${describeValue(s.accord)}`);
        }
        return { signatory: { ...prev, membership: 'withdrawn', head: digest, headIndex: index, updatedAt: validFrom } };
      }
      const p = t.subject;
      return {
        signatory: {
          ...prev,
          membership: 'signatory',
          head: digest,
          headIndex: index,
          accord: p.accord,
          // A pledge carries the whole profile: members it leaves out are cleared.
          name: p.name,
          country: p.country ?? null,
          links: p.links === undefined ? null : { ...(p.links as Record<string, string>) },
          // DESIGN 2: a later pledge by a current signatory keeps its date; re-joining resets it.
          since: prev.membership === 'signatory' ? prev.since : validFrom,
          updatedAt: validFrom,
        },
      };
    }
  }
}

/** DESIGN 6, 8: registry statements are issued by the attestation key, in did:key method form. */
function checkRegistryIssuer(view: RegistryView, statement: Statement): void {
  const kind = statement.type[1];
  if (statement.issuer !== view.attestationDid) {
    refuse('ISSUER_NOT_REGISTRY', `${withArticle(kind)} must be issued by the registry's attestation key ${view.attestationDid}, got ${describeValue(statement.issuer)}`);
  }
  const method = statement.proof.verificationMethod;
  const expected = registryMethod(view);
  if (method !== expected) {
    refuse('ISSUER_NOT_REGISTRY', `${withArticle(kind)} must be signed with ${expected}, got ${describeValue(method)}`);
  }
}

/**
 * The registry's attestation key and its did:key method form, decoded once per attestation DID:
 * every registry statement needs both, and base58 is slow enough to show in a bulk audit.
 */
let registryKeyMemo: { did: string; key: Uint8Array; method: string } | null = null;

function registryKey(view: RegistryView): { key: Uint8Array; method: string } {
  const did = view.attestationDid;
  if (registryKeyMemo?.did !== did) {
    let key: Uint8Array;
    try {
      key = publicKeyFromDidKey(did);
    } catch (cause) {
      throw new AccordError('BAD_DID_KEY', `the registry's attestation key is not an Ed25519 did:key: ${describeValue(did)}`, { cause });
    }
    registryKeyMemo = { did, key, method: didKeyVerificationMethod(key) };
  }
  return registryKeyMemo;
}

function registryMethod(view: RegistryView): string {
  return registryKey(view).method;
}

/** DESIGN 4: the method must be listed in the DID's latest DomainAttestation. */
function attestedKey(state: SignatoryState, method: string): Uint8Array {
  const att = state.attestation;
  let found: { id: string; publicKeyMultibase: string } | undefined;
  if (att !== null) {
    for (const m of att.methods) {
      if (m.id === method) {
        found = m;
        break;
      }
    }
  }
  if (att === null || found === undefined) {
    refuse(
      'KEY_NOT_ATTESTED',
      att === null
        ? `no DomainAttestation for ${state.did} precedes this statement, so ${describeValue(method)} is not attested`
        : `${describeValue(method)} is not listed in the latest DomainAttestation of ${state.did} (index ${att.index})`,
    );
  }
  const memo = decodedKeys.get(found);
  // Keyed by the object, checked against its text: a method changed in place is decoded again.
  if (memo !== undefined && memo.multibase === found.publicKeyMultibase) return memo.key.slice(); // a copy: the caller may keep or change it
  let key: Uint8Array;
  try {
    key = decodePublicMultikey(found.publicKeyMultibase);
  } catch (cause) {
    throw new AccordError('KEY_NOT_ATTESTED', `the attested key of ${method} is not an Ed25519 Multikey`, { cause });
  }
  decodedKeys.set(found, { multibase: found.publicKeyMultibase, key });
  return key.slice();
}

/**
 * Attested keys already decoded, per method object of a state: a state kept in memory (the
 * auditor's) is asked for the same key once per statement its signatory makes, and base58 is slow
 * enough to show in a bulk audit. Weak: it lives as long as the state that holds the method.
 */
const decodedKeys = new WeakMap<object, { multibase: string; key: Uint8Array }>();

/**
 * The public key that must have made this statement's proof: the attestation key for registry
 * statements, the attested method's key for a signatory's. Throws ISSUER_NOT_REGISTRY or
 * KEY_NOT_ATTESTED; the sequencer (before admission) and the auditor (in bulk) both use it, so
 * they choose the key the same way.
 */
export function signingKeyFor(view: RegistryView, statement: Statement): Uint8Array {
  if (isRegistryType(statement.type[1])) {
    checkRegistryIssuer(view, statement);
    // A copy: the caller may keep or change it.
    return registryKey(view).key.slice();
  }
  const state = view.signatory(statement.issuer) ?? emptySignatory(statement.issuer);
  return attestedKey(state, statement.proof.verificationMethod);
}
