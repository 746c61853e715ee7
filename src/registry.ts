/**
 * The registry's durable core, composed: database (migrated), registry keys, sequencer and log
 * reader; on first start, entry 0. The HTTP server and the operator's command line build on this.
 *
 * Start-up reads a bounded number of rows (schema version, identity, latest checkpoint), never the
 * whole log, so a registry of any size starts at once.
 */
import { join } from 'node:path';
import type { KyselyPlugin, LogConfig } from 'kysely';
import { appendGenesis } from './log/genesis.ts';
import { createLogReader, type StoredLogReader } from './log/log-reader.ts';
import { createSequencer, type Sequencer } from './log/sequencer.ts';
import { createCheckpointSigner } from './node/ed25519-sign.ts';
import { openDatabase, type DatabaseHandle } from './storage/db.ts';
import { loadRegistryKeys, type RegistryKeys } from './storage/registry-keys.ts';

export interface RegistryOptions {
  /** DATA_DIR: SQLite database (unless databaseUrl) and the registry key files. */
  dataDir: string;
  /** DATABASE_URL: a postgres:// URL, or unset for SQLite. */
  databaseUrl?: string | null | undefined;
  /** REGISTRY_ORIGIN: checkpoint origin and log key name. */
  origin: string;
  /** Where the accord texts live (default `data/accords` of the checkout, whatever dataDir is). */
  accordsDir?: string;
  now?: () => Date;
  /** Extra kysely plugins (tests count queries with one). */
  plugins?: KyselyPlugin[];
  /** kysely's query log (instrumentation). */
  log?: LogConfig;
  /** Soft cap on entries per sequencer batch. */
  maxBatchEntries?: number;
  /** How long a batch waits for announced submissions (SequencerOptions.lingerMs). */
  lingerMs?: number;
}

export interface Registry {
  handle: DatabaseHandle;
  keys: RegistryKeys;
  sequencer: Sequencer;
  reader: StoredLogReader;
  /** Waits for queued appends, then closes the database. */
  close(): Promise<void>;
}

export const DEFAULT_ACCORDS_DIR = join(import.meta.dirname, '..', 'data', 'accords');

export async function openRegistry(opts: RegistryOptions): Promise<Registry> {
  const handle = await openDatabase({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, plugins: opts.plugins ?? [], ...(opts.log === undefined ? {} : { log: opts.log }) });
  try {
    const keys = await loadRegistryKeys(handle.db, { dataDir: opts.dataDir, origin: opts.origin });
    const sequencer = createSequencer({
      handle,
      origin: keys.origin,
      logKey: keys.logKey,
      // OpenSSL signs the checkpoint of each batch (same bytes as the core signer, checked once here).
      signCheckpoint: createCheckpointSigner(keys.origin, keys.logKey.secretKey),
      ...(opts.now === undefined ? {} : { now: opts.now }),
      ...(opts.maxBatchEntries === undefined ? {} : { maxBatchEntries: opts.maxBatchEntries }),
      ...(opts.lingerMs === undefined ? {} : { lingerMs: opts.lingerMs }),
    });
    const reader = createLogReader(handle.db);
    if ((await reader.latestCheckpoint()) === undefined) {
      await appendGenesis({ sequencer, keys, accordsDir: opts.accordsDir ?? DEFAULT_ACCORDS_DIR, ...(opts.now === undefined ? {} : { now: opts.now }) });
    }
    return {
      handle,
      keys,
      sequencer,
      reader,
      async close() {
        await sequencer.close();
        await handle.close();
      },
    };
  } catch (e) {
    await handle.close();
    throw e;
  }
}
