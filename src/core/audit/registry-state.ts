/**
 * The registry's rules as a pure state machine (DESIGN sections 2, 4, 7, 8). The sequencer uses it
 * to admit statements and the auditor uses it to re-check the whole log, so both apply exactly the
 * same rules. CONTRACT (types fixed by the lead; the rules are implemented by the audit helper).
 */

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
  /** Latest RegistryNotice reason, if any. */
  notice: { action: 'delist' | 'relist'; reason: string; index: number } | null;
}

export type SignatoryStatus = 'signatory' | 'withdrawn' | 'delisted';

export function signatoryStatus(s: SignatoryState): SignatoryStatus | null {
  if (s.delisted) return 'delisted';
  return s.membership;
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
