/**
 * Entry 0 (DESIGN 2, 6): every log begins with the first accord, an AccordText issued and signed
 * by the registry's attestation key. Appended on the registry's first start.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digestOf } from '../core/bytes.ts';
import { AccordError, isAccordError } from '../core/errors.ts';
import { canonicalBytes } from '../core/json/canonical.ts';
import { buildAccordText, nowTimestamp, secureStatement } from '../core/statements/build.ts';
import type { RegistryKeys } from '../storage/registry-keys.ts';
import type { Receipt, Sequencer } from './sequencer.ts';

/** The accord file of entry 0, in the accords directory. */
export const GENESIS_ACCORD_FILE = 'tech-sector-1.json';

export interface GenesisOptions {
  sequencer: Sequencer;
  keys: RegistryKeys;
  /** Directory holding GENESIS_ACCORD_FILE (data/accords in the checkout). */
  accordsDir: string;
  now?: () => Date;
}

/** The signed, canonical AccordText of the genesis accord file. */
export async function genesisEntry(keys: RegistryKeys, accordsDir: string, now: Date): Promise<{ bytes: Uint8Array; digest: string; id: string; validFrom: string }> {
  const path = join(accordsDir, GENESIS_ACCORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new AccordError('GENESIS_ACCORD_MISSING', `cannot read the first accord ${path}: ${(cause as Error).message}`, { cause });
  }
  const validFrom = nowTimestamp(now);
  const unsecured = buildAccordText(text, { issuerDid: keys.attestationDid, validFrom });
  const statement = secureStatement(unsecured, keys.attestationKey, keys.attestationMethod, validFrom);
  const bytes = canonicalBytes(statement);
  return { bytes, digest: digestOf(bytes), id: unsecured.credentialSubject.id, validFrom };
}

/**
 * Appends entry 0 if the log is empty; returns its receipt, or undefined if the log already had
 * entries (also when another process, starting at the same moment, appended it first).
 */
export async function appendGenesis(opts: GenesisOptions): Promise<Receipt | undefined> {
  const e = await genesisEntry(opts.keys, opts.accordsDir, (opts.now ?? (() => new Date()))());
  try {
    const [receipt] = await opts.sequencer.append({
      entries: [{ bytes: e.bytes, digest: e.digest, type: 'AccordText', subject: e.id, validFrom: e.validFrom }],
      // Decided under the write lock: only an empty log gets a genesis entry.
      admit: async (ctx) => {
        if (ctx.nextIndex !== 0) throw new AccordError('GENESIS_ALREADY_DONE', `the log already has ${ctx.nextIndex} entries`);
        return [];
      },
    });
    return receipt?.index === 0 ? receipt : undefined;
  } catch (err) {
    if (isAccordError(err, 'GENESIS_ALREADY_DONE')) return undefined;
    throw err;
  }
}
