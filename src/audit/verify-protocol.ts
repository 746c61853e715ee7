/** Messages between verify-pool.ts and verify-worker.ts (structured clone). */
import type { PreparedEntry } from '../core/audit/entry-check.ts';
import type { SignatureTask } from '../core/audit/auditor.ts';

export type PoolRequest =
  /** Decode an entry bundle (tlog-tiles) whose first entry has index `start`, and prepare each entry. */
  | { id: number; kind: 'prepare'; start: number; bundle: Uint8Array }
  | { id: number; kind: 'verify'; tasks: SignatureTask[] };

export type PoolReply =
  | { id: number; kind: 'prepared'; entries: PreparedEntry[] }
  | { id: number; kind: 'bad-bundle'; code: string; message: string }
  /** One byte per task: 1 valid, 0 invalid. */
  | { id: number; kind: 'verified'; verdicts: Uint8Array }
  /** A bug in the worker, not a finding: the run cannot check (exit 2). */
  | { id: number; kind: 'failed'; message: string };
