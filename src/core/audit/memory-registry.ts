/**
 * A RegistryView held in memory: one SignatoryState per DID and one AccordInfo per accord, which
 * is all the rules need (registry-state.ts). The auditor replays a log into it; tests and small
 * tools can too. Memory grows with signatories and accords, not with entries.
 */
import type { AccordInfo, RegistryView, SignatoryState, StateChange } from './registry-state.ts';

export class MemoryRegistry implements RegistryView {
  readonly #signatories = new Map<string, SignatoryState>();
  readonly #accords = new Map<string, AccordInfo>();
  readonly #accordIds = new Map<string, AccordInfo>();

  constructor(public attestationDid: string) {}

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
   * Commits the change applyStatement returned. The change is stored as a structured clone: its
   * strings come from parsed entries, and an engine may keep such a string as a slice of the whole
   * entry text, so storing them as they are would keep every entry's text alive.
   */
  commit(input: StateChange): void {
    const change = structuredClone(input);
    if (change.signatory !== undefined) this.#signatories.set(change.signatory.did, change.signatory);
    if (change.accord !== undefined) {
      this.#accords.set(change.accord.digest, change.accord);
      this.#accordIds.set(change.accord.id, change.accord);
    }
  }

  signatories(): IterableIterator<SignatoryState> {
    return this.#signatories.values();
  }

  accords(): IterableIterator<AccordInfo> {
    return this.#accords.values();
  }
}
