/**
 * A RegistryView held in memory: one SignatoryState per DID and one AccordInfo per accord, which
 * is all the rules need (registry-state.ts). The auditor replays a log into it; tests and small
 * tools can too. Memory grows with signatories and accords, not with entries.
 */
import type { AccordInfo, AttestationState, RegistryView, SignatoryState, StateChange } from './registry-state.ts';

export interface MemoryRegistryOptions {
  /**
   * Keep only what the rules read back (registry-state.ts: membership, delisting, head, accord,
   * the attested methods, the indexes named in messages). The self-declared profile, dates, URLs
   * and reasons are dropped, so an audit of a large log keeps a few hundred bytes per signatory.
   * `signatory()` then returns states with those members null or empty.
   */
  compact?: boolean;
}

export class MemoryRegistry implements RegistryView {
  readonly #signatories = new Map<string, SignatoryState>();
  readonly #accords = new Map<string, AccordInfo>();
  readonly #accordIds = new Map<string, AccordInfo>();
  readonly #compact: boolean;

  constructor(
    public attestationDid: string,
    options: MemoryRegistryOptions = {},
  ) {
    this.#compact = options.compact === true;
  }

  signatory(did: string): SignatoryState | null {
    return this.#signatories.get(did) ?? null;
  }

  accord(digest: string): AccordInfo | null {
    return this.#accords.get(digest) ?? null;
  }

  accordById(id: string): AccordInfo | null {
    return this.#accordIds.get(id) ?? null;
  }

  /**
   * Commits the change applyStatement returned. The change is stored as a copy: its strings come
   * from parsed entries, and an engine may keep such a string as a slice of the whole entry text
   * (the strict parser's do), so storing them as they are would keep every entry's text alive.
   */
  commit(input: StateChange): void {
    if (this.#compact) {
      if (input.signatory !== undefined) {
        const state = this.#compactState(input.signatory);
        this.#signatories.set(state.did, state);
      }
      if (input.accord !== undefined) this.#addAccord(structuredClone(input.accord));
      return;
    }
    const change = structuredClone(input);
    if (change.signatory !== undefined) this.#signatories.set(change.signatory.did, change.signatory);
    if (change.accord !== undefined) this.#addAccord(change.accord);
  }

  #addAccord(accord: AccordInfo): void {
    this.#accords.set(accord.digest, accord);
    this.#accordIds.set(accord.id, accord);
  }

  /** The rule-relevant part of a state, strings copied; unchanged parts are shared with the old state. */
  #compactState(s: SignatoryState): SignatoryState {
    const prev = this.#signatories.get(s.did);
    let attestation: AttestationState | null = null;
    if (s.attestation !== null) {
      attestation =
        prev?.attestation !== undefined && prev.attestation !== null && prev.attestation.index === s.attestation.index
          ? prev.attestation
          : {
              index: s.attestation.index,
              digest: '',
              documentDigest: '',
              url: '',
              observedAt: '',
              methods: s.attestation.methods.map((m) => ({ id: copy(m.id), publicKeyMultibase: copy(m.publicKeyMultibase) })),
            };
    }
    return {
      did: prev?.did ?? copy(s.did),
      membership: s.membership,
      delisted: s.delisted,
      head: s.head === prev?.head ? prev.head : s.head === null ? null : copy(s.head),
      headIndex: s.headIndex,
      // The accord's own digest string, shared by every signatory that pledged to it.
      accord: s.accord === null ? null : (this.#accords.get(s.accord)?.digest ?? copy(s.accord)),
      name: null,
      country: null,
      links: null,
      since: null,
      updatedAt: null,
      attestation,
      notice: s.notice === null ? null : { action: s.notice.action, reason: '', index: s.notice.index },
    };
  }

  signatories(): IterableIterator<SignatoryState> {
    return this.#signatories.values();
  }

  accords(): IterableIterator<AccordInfo> {
    return this.#accords.values();
  }
}

/**
 * A copy of a string that shares no storage with the text it was cut from (an engine may keep a
 * substring as a slice of its parent). JSON.parse builds fresh flat strings.
 */
function copy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}
