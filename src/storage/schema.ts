/**
 * The tables, typed once (kysely). Migrations in ./migrations create them; repositories in this
 * folder hold all SQL that reads or writes them.
 *
 * The log tables (`entries`, `tree_nodes`, `checkpoints`) are append-only: the database itself
 * refuses UPDATE and DELETE on them (triggers, see the initial migration), so a bug or an operator
 * slip cannot rewrite history (DESIGN 5: "Stored log rows are never updated or deleted").
 * `signatories` is derived state, recomputable from the log, and is updated in place.
 *
 * Integers are JS numbers on both engines (PostgreSQL int8 is parsed to a safe integer in db.ts);
 * blobs come back as Buffers (a Uint8Array subclass).
 */
import type { ColumnType } from 'kysely';

/** Written once, read as is, never updated: UPDATE is refused by a trigger anyway. */
type Immutable<T> = ColumnType<T, T, never>;

/** Registry identity (DESIGN 6): `origin`, `log_public_key`, `attestation_public_key`. */
export interface MetaTable {
  key: string;
  value: string;
}

/** One row per log entry (leaf). */
export interface EntriesTable {
  /** 0-based leaf index; contiguous (a trigger refuses gaps). */
  idx: Immutable<number>;
  /** DESIGN 2 digest of `bytes`; unique, so each entry's bytes appear in the log once (DESIGN 5). */
  digest: Immutable<string>;
  /** The canonical statement bytes exactly as logged (the leaf data). */
  bytes: Immutable<Uint8Array>;
  /** The statement type, e.g. `AccordPledge`. */
  type: Immutable<string>;
  /** What the statement is about: a signatory DID, or the accord URN for an AccordText. */
  subject: Immutable<string>;
  valid_from: Immutable<string>;
}

/**
 * Every COMPLETE subtree hash of the tree: (level, idx) covers leaves [idx * 2^level,
 * (idx + 1) * 2^level). Level 0 holds the leaf hashes. A tlog-tiles tile at tile level L, index N
 * is the row range level 8L, idx N*256 .. N*256+W-1, and any proof needs O(log n) of these rows.
 */
export interface TreeNodesTable {
  level: Immutable<number>;
  idx: Immutable<number>;
  hash: Immutable<Uint8Array>;
}

/** Every signed checkpoint handed out, by size (a trigger keeps sizes strictly growing). */
export interface CheckpointsTable {
  size: Immutable<number>;
  root: Immutable<Uint8Array>;
  /** The full C2SP signed note text. */
  note: Immutable<string>;
  created_at: Immutable<string>;
}

/** Derived, mutable: the latest SignatoryState of each DID the log names (for listings). */
export interface SignatoriesTable {
  did: string;
  /** The bare domain of a did:web DID. */
  domain: string;
  name: string | null;
  /** `signatory`, `withdrawn`, `delisted`, or null (attested but never pledged). */
  status: string | null;
  since: string | null;
  /** Index of the log entry that last changed this row. */
  updated_idx: number;
  /** JSON of SignatoryState (src/core/audit/registry-state.ts). */
  state: string;
}

export interface Database {
  meta: MetaTable;
  entries: EntriesTable;
  tree_nodes: TreeNodesTable;
  checkpoints: CheckpointsTable;
  signatories: SignatoriesTable;
}
