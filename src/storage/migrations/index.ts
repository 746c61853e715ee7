/**
 * The migrations, listed statically (no directory scan: the list is part of the code and works the
 * same under tsx, vitest and a bundle). Names are dated; kysely runs them in name order. A released
 * migration is never edited: add a new one.
 */
import type { Kysely, Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-12-01-initial.ts';
import * as noticeDates from './2026-12-02-notice-dates.ts';
import type { Engine } from './2026-12-01-initial.ts';

export type { Engine };

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Up = (db: Kysely<any>, engine: Engine) => Promise<void>;

const MIGRATIONS: ReadonlyArray<readonly [name: string, up: Up]> = [
  ['2026-12-01-initial', initial.up],
  ['2026-12-02-notice-dates', (db) => noticeDates.up(db)],
];

export function migrationProvider(engine: Engine): MigrationProvider {
  return {
    async getMigrations(): Promise<Record<string, Migration>> {
      const out: Record<string, Migration> = {};
      for (const [name, up] of MIGRATIONS) out[name] = { up: (db) => up(db, engine) };
      return out;
    },
  };
}
