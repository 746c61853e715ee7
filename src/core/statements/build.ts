/**
 * Builders for the five statement types (DESIGN 2), used by the command line, the server and the
 * tests. Each returns an unsecured document with members in the order DESIGN shows them, checked
 * against the same rules as a received statement, so a bad field fails at build time with the
 * code a registry would answer. secureStatement signs one.
 */
import type { KeyPair } from '../crypto/ed25519.ts';
import { parseAccordFile } from './accord-file.ts';
import { createProof } from './proof.ts';
import {
  LINK_KEYS,
  VC_CONTEXT,
  type AttestedMethod,
  type Links,
  type NoticeAction,
  type Statement,
  type StatementType,
  type SubjectByType,
  type UnsecuredStatementOf,
} from './types.ts';
import { validateStatement, validateUnsecuredStatement } from './validate.ts';

export { nowTimestamp } from './formats.ts';

function document<K extends StatementType>(type: K, issuer: string, validFrom: string, credentialSubject: SubjectByType[K]): UnsecuredStatementOf<K> {
  const doc: UnsecuredStatementOf<K> = {
    '@context': [VC_CONTEXT],
    type: ['VerifiableCredential', type],
    issuer,
    validFrom,
    credentialSubject,
  };
  validateUnsecuredStatement(doc);
  return doc;
}

/** Keeps the given links in LINK_KEYS order, dropping absent or empty ones; undefined if none. */
function cleanLinks(links: Links | undefined): Links | undefined {
  if (links === undefined || links === null) return undefined;
  const out: Links = {};
  for (const key of LINK_KEYS) {
    const v = links[key];
    if (v !== undefined && v !== '') out[key] = v;
  }
  // Anything else the caller passed is kept (after the known keys) so validation names it.
  for (const [k, v] of Object.entries(links)) if (!(LINK_KEYS as readonly string[]).includes(k)) (out as Record<string, unknown>)[k] = v;
  return Object.keys(out).length > 0 ? out : undefined;
}

export interface PledgeInput {
  /** The signatory, `did:web:<domain>`; also the issuer. */
  did: string;
  /** Self-declared; normalized to NFC here (DESIGN 2 requires NFC). */
  name: string;
  /** Digest of the AccordText entry. */
  accord: string;
  /** Every principle number of that accord (DESIGN 2). */
  principles: readonly number[];
  /** The signatory's head, null for its first statement. */
  previous: string | null;
  country?: string;
  links?: Links;
  validFrom: string;
}

export function buildPledge(input: PledgeInput): UnsecuredStatementOf<'AccordPledge'> {
  const subject: SubjectByType['AccordPledge'] = {
    id: input.did,
    name: typeof input.name === 'string' ? input.name.normalize('NFC') : input.name,
    accord: input.accord,
    principles: Array.isArray(input.principles) ? [...input.principles] : (input.principles as unknown as number[]),
    previous: input.previous,
  };
  if (input.country !== undefined) subject.country = input.country;
  const links = cleanLinks(input.links);
  if (links !== undefined) subject.links = links;
  return document('AccordPledge', input.did, input.validFrom, subject);
}

export interface WithdrawalInput {
  did: string;
  /** The accord of the signatory's latest pledge. */
  accord: string;
  previous: string | null;
  /** Omitted when undefined or empty. */
  reason?: string;
  validFrom: string;
}

export function buildWithdrawal(input: WithdrawalInput): UnsecuredStatementOf<'AccordWithdrawal'> {
  const subject: SubjectByType['AccordWithdrawal'] = { id: input.did, accord: input.accord, previous: input.previous };
  if (input.reason !== undefined && input.reason !== '') subject.reason = input.reason;
  return document('AccordWithdrawal', input.did, input.validFrom, subject);
}

/** An AccordText from the accord file's JSON (data/accords/*.json), issued by the registry. */
export function buildAccordText(accordFileJson: unknown, opts: { issuerDid: string; validFrom: string }): UnsecuredStatementOf<'AccordText'> {
  const a = parseAccordFile(accordFileJson);
  // DESIGN 2 member order: id, title, version, principles, preamble.
  const subject: SubjectByType['AccordText'] = {
    id: a.id,
    title: a.title,
    version: a.version,
    principles: a.principles.map((p) => ({ number: p.number, title: p.title, text: p.text })),
    preamble: a.preamble,
  };
  return document('AccordText', opts.issuerDid, opts.validFrom, subject);
}

export interface AttestationInput {
  /** The registry's did:key (its attestation key). */
  registryDid: string;
  /** The signatory's did:web. */
  did: string;
  /** The URL actually fetched. */
  url: string;
  observedAt: string;
  /** `sha256:` + hex of the did.json bytes served. */
  documentDigest: string;
  /** Ed25519 Multikey assertion methods, ids in full form. */
  verificationMethods: readonly AttestedMethod[];
  validFrom: string;
}

export function buildAttestation(input: AttestationInput): UnsecuredStatementOf<'DomainAttestation'> {
  const methods = Array.isArray(input.verificationMethods)
    ? input.verificationMethods.map((m: AttestedMethod) => ({ id: m.id, publicKeyMultibase: m.publicKeyMultibase }))
    : (input.verificationMethods as unknown as AttestedMethod[]);
  return document('DomainAttestation', input.registryDid, input.validFrom, {
    id: input.did,
    url: input.url,
    observedAt: input.observedAt,
    documentDigest: input.documentDigest,
    verificationMethods: methods,
  });
}

export interface NoticeInput {
  registryDid: string;
  did: string;
  action: NoticeAction;
  reason: string;
  validFrom: string;
}

export function buildNotice(input: NoticeInput): UnsecuredStatementOf<'RegistryNotice'> {
  return document('RegistryNotice', input.registryDid, input.validFrom, { id: input.did, action: input.action, reason: input.reason });
}

/**
 * Signs an unsecured statement (eddsa-jcs-2022, proof.ts) and checks the result against every
 * rule of DESIGN 2 (verification method of the issuer included) before returning it.
 */
export function secureStatement(
  unsecured: UnsecuredStatementOf<StatementType>,
  key: KeyPair | Uint8Array,
  verificationMethod: string,
  created: string,
): Statement {
  const secretKey = key instanceof Uint8Array ? key : key.secretKey;
  return validateStatement(createProof(unsecured, { secretKey, verificationMethod, created }));
}
