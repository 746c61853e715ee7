/**
 * The statement formats of DESIGN section 2: W3C Verifiable Credentials (data model 2.0) secured
 * with an eddsa-jcs-2022 Data Integrity proof. Types only, plus the constants the rules name.
 * Runtime checks live in validate.ts; the TS types describe a document that passed them.
 */

/** VC data model 2.0 base context; the only `@context` a statement may carry (DESIGN 2). */
export const VC_CONTEXT = 'https://www.w3.org/ns/credentials/v2';

/** The canonical entry (JCS bytes of the secured document) may be at most 16 KiB (DESIGN 5, 7). */
export const MAX_ENTRY_BYTES = 16384;
/** Withdrawal and notice reasons: at most 1,000 Unicode code points (DESIGN 2). */
export const MAX_REASON_CODE_POINTS = 1000;
/** A signatory's self-declared name: 1 to 200 code points (DESIGN 2). */
export const MAX_NAME_CODE_POINTS = 200;
/** Each link: at most 2,048 code points (DESIGN 2). */
export const MAX_URL_CODE_POINTS = 2048;

/** The members `links` may hold, in the order the builders write them (DESIGN 2). */
export const LINK_KEYS = ['website', 'securityTxt', 'disclosurePolicy', 'patchPolicy'] as const;
export type LinkKey = (typeof LINK_KEYS)[number];
export type Links = Partial<Record<LinkKey, string>>;

export const STATEMENT_TYPES = ['AccordPledge', 'AccordWithdrawal', 'AccordText', 'DomainAttestation', 'RegistryNotice'] as const;
export type StatementType = (typeof STATEMENT_TYPES)[number];

/** Issued by the registry's attestation key (a did:key). */
export const REGISTRY_TYPES = ['AccordText', 'DomainAttestation', 'RegistryNotice'] as const;
export type RegistryType = (typeof REGISTRY_TYPES)[number];
/** Issued by a signatory (a did:web equal to credentialSubject.id). */
export const SIGNATORY_TYPES = ['AccordPledge', 'AccordWithdrawal'] as const;
export type SignatoryType = (typeof SIGNATORY_TYPES)[number];

// W3C vc-di-eddsa 3.3 (eddsa-jcs-2022) and VC Data Integrity 2.1.
export const PROOF_TYPE = 'DataIntegrityProof';
export const CRYPTOSUITE = 'eddsa-jcs-2022';
export const PROOF_PURPOSE = 'assertionMethod';

/** The seven members of a statement's proof, in the order of the W3C vector signedJCS.json. */
export const PROOF_MEMBERS = ['type', 'cryptosuite', 'created', 'verificationMethod', 'proofPurpose', '@context', 'proofValue'] as const;

export interface Proof {
  type: typeof PROOF_TYPE;
  cryptosuite: typeof CRYPTOSUITE;
  created: string;
  verificationMethod: string;
  proofPurpose: typeof PROOF_PURPOSE;
  '@context': string[];
  /** Multibase base58-btc ('z') of the 64-byte Ed25519 signature. */
  proofValue: string;
}

/** The proof configuration of vc-di-eddsa 3.3.5: the proof without `proofValue`. */
export type ProofConfig = Omit<Proof, 'proofValue'>;

export interface PledgeSubject {
  /** did:web of the signatory, equal to the issuer. */
  id: string;
  name: string;
  /** Digest of the AccordText entry pledged to. */
  accord: string;
  /** Every principle number of that accord, ascending, each once. */
  principles: number[];
  /** Digest of the signatory's previous statement, null for its first. */
  previous: string | null;
  country?: string;
  links?: Links;
}

export interface WithdrawalSubject {
  id: string;
  /** The accord of the signatory's latest pledge. */
  accord: string;
  previous: string | null;
  reason?: string;
}

export interface AccordPrinciple {
  number: number;
  title: string;
  text: string;
}

export interface AccordTextSubject {
  /** `urn:accord:<slug>:<version>`, e.g. `urn:accord:tech-sector:1`. */
  id: string;
  title: string;
  version: number;
  /** Numbered 1..n in order. */
  principles: AccordPrinciple[];
  preamble: string;
}

export interface AttestedMethod {
  /** Full form, `did:web:example.com#key-1`. */
  id: string;
  /** Ed25519 Multikey, `z6Mk...`. */
  publicKeyMultibase: string;
}

export interface AttestationSubject {
  /** The signatory's did:web. */
  id: string;
  /** The URL actually fetched. */
  url: string;
  observedAt: string;
  /** `sha256:` + hex of the did.json bytes served. */
  documentDigest: string;
  verificationMethods: AttestedMethod[];
}

export type NoticeAction = 'delist' | 'relist';

export interface NoticeSubject {
  id: string;
  action: NoticeAction;
  reason: string;
}

export interface SubjectByType {
  AccordPledge: PledgeSubject;
  AccordWithdrawal: WithdrawalSubject;
  AccordText: AccordTextSubject;
  DomainAttestation: AttestationSubject;
  RegistryNotice: NoticeSubject;
}

/** A statement before it is signed (what the builders return). */
export interface UnsecuredStatementOf<K extends StatementType> {
  '@context': string[];
  type: ['VerifiableCredential', K];
  issuer: string;
  validFrom: string;
  credentialSubject: SubjectByType[K];
}

/** A secured statement of one kind. */
export interface StatementOf<K extends StatementType> extends UnsecuredStatementOf<K> {
  proof: Proof;
}

export type UnsecuredStatement = { [K in StatementType]: UnsecuredStatementOf<K> }[StatementType];

/** The secured document: what a log entry holds. */
export type Statement = { [K in StatementType]: StatementOf<K> }[StatementType];

/**
 * A statement with its kind lifted to a top-level discriminant, so `switch (t.kind)` narrows both
 * `doc` and `subject` (TypeScript does not narrow on `doc.type[1]`).
 */
export type TypedStatement = { [K in StatementType]: { kind: K; doc: StatementOf<K>; subject: SubjectByType[K] } }[StatementType];

export function statementType(doc: Statement | UnsecuredStatement): StatementType {
  return doc.type[1];
}

/** Lifts a validated statement into its discriminated form. */
export function typedStatement(doc: Statement): TypedStatement {
  // The mapped union cannot be rebuilt generically without a cast; validateStatement guarantees
  // that credentialSubject matches type[1].
  return { kind: doc.type[1], doc, subject: doc.credentialSubject } as TypedStatement;
}

export function isRegistryType(type: unknown): type is RegistryType {
  return (REGISTRY_TYPES as readonly unknown[]).includes(type);
}

export function isSignatoryType(type: unknown): type is SignatoryType {
  return (SIGNATORY_TYPES as readonly unknown[]).includes(type);
}

export function isStatementType(type: unknown): type is StatementType {
  return (STATEMENT_TYPES as readonly unknown[]).includes(type);
}
