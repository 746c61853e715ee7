/**
 * Group commit, made to gather: groups announced as on their way (an admission that has started:
 * it still has to fetch a DID document and check a proof) are waited for, briefly, before a batch
 * is committed, so that submissions made at the same time share one transaction, one fsync of
 * the write-ahead log and one checkpoint signature instead of going through a few at a time.
 *
 * Announcements belong to generations. When a batch starts gathering, it closes the current
 * generation and waits for the announcements of the closed generations only: a submission that
 * starts later goes into the next batch, so a steady stream of new submissions never keeps a
 * batch open. The wait ends when they have all arrived (or given up) or after `maxWaitMs`,
 * whichever is first; announcements still open then are forgotten, so one slow submission (a DID
 * document host that takes seconds) delays at most one batch, by at most `maxWaitMs`. Without
 * announcements (the operator's command line, one submission at a time) nothing waits.
 */
export class Arrivals {
  /** Open announcements by generation. */
  readonly #open = new Map<number, number>();
  #generation = 0;
  /** The gathering under way: it waits for generations up to `upTo`. */
  #waiting: { upTo: number; done: () => void } | undefined;

  /** Announces a group on its way; call the returned function (once is enough) when it was appended or given up. */
  announce(): () => void {
    const gen = this.#generation;
    this.#open.set(gen, (this.#open.get(gen) ?? 0) + 1);
    let settled = false;
    return () => {
      if (settled) return;
      settled = true;
      const n = this.#open.get(gen);
      // Absent: a gathering forgot this generation already (it waited long enough).
      if (n === undefined) return;
      if (n <= 1) this.#open.delete(gen);
      else this.#open.set(gen, n - 1);
      const w = this.#waiting;
      if (w !== undefined && !this.#anyOpen(w.upTo)) w.done();
    };
  }

  /** Groups announced and not yet arrived. */
  get pending(): number {
    let n = 0;
    for (const c of this.#open.values()) n += c;
    return n;
  }

  #anyOpen(upTo: number): boolean {
    for (const gen of this.#open.keys()) if (gen <= upTo) return true;
    return false;
  }

  /** Waits until every group announced so far has arrived or been given up, at most `maxWaitMs`. */
  async gather(maxWaitMs: number): Promise<void> {
    const upTo = this.#generation++;
    if (maxWaitMs > 0 && this.#anyOpen(upTo)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => finish(), maxWaitMs);
        const finish = (): void => {
          clearTimeout(timer);
          this.#waiting = undefined;
          resolve();
        };
        this.#waiting = { upTo, done: finish };
      });
    }
    for (const gen of [...this.#open.keys()]) if (gen <= upTo) this.#open.delete(gen);
  }
}
