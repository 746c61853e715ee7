/**
 * Runs the auditor (core/audit/auditor.ts) over a source (source.ts): the well-known file, the
 * signed checkpoint, the upper hash tiles, then every entry bundle with its level-0 tile in index
 * order. Tiles are fetched ahead with bounded concurrency and prepared in checking threads
 * (verify-pool.ts); one thread applies the ordered rules. At most `window` tiles are in flight
 * and signatures waiting for a verdict are bounded the same way, so memory stays flat whatever the
 * log's size.
 *
 * With worker threads and a source that can be opened again from its target (a mirror directory
 * or a registry URL, as openSource makes them), the audit runs in an audit thread
 * (audit-worker.ts) rather than in the caller's: the ordered part allocates for every entry, and
 * the audit thread's young generation is capped (AUDIT_THREAD_LIMITS), while the caller's would
 * grow to its maximum and stay there. Its result is the same: the same code, given the same bytes.
 */
import { availableParallelism } from 'node:os';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { AuditResult } from '../core/audit/auditor.ts';
import { AccordError } from '../core/errors.ts';
import type { Source } from './source.ts';
import type { PoolRequest } from './verify-protocol.ts';
import { workerScripts } from './worker-bundle.ts';

export const WELL_KNOWN_PATH = '.well-known/accord-registry.json';
/** The audit thread's heap: a small young generation (the V8 default grows to 48 MB under load). */
export const AUDIT_THREAD_LIMITS = { maxYoungGenerationSizeMb: 6 };

export interface RunAuditOptions {
  /** Pinned log verifier key (--log-key); null: taken unpinned from the well-known file or bundle. */
  logKey: string | null;
  /** Last verified checkpoint note (--state), null on a first run. */
  stateCheckpoint: string | null;
  /** Worker threads; default os.availableParallelism(). 0 runs inline. */
  workers?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface RunAuditResult extends AuditResult {
  keyPinned: boolean;
  /** Where the log key came from, for the summary. */
  keySource: string;
  /** Worker threads actually used. */
  workers: number;
  sourceKind: Source['kind'];
}

/** What audit-worker.ts is started with. */
export interface AuditThreadData {
  target: string;
  logKey: string | null;
  stateCheckpoint: string | null;
  workers: number;
  progress: boolean;
  /** URL of the checking threads' script. */
  verifyScript: string;
  /** The caller's thread, answering checking jobs (check-jobs.ts), when a core is left for it. */
  helper: MessagePort | null;
}

export type AuditThreadMessage =
  | { kind: 'progress'; done: number; total: number }
  | { kind: 'result'; result: RunAuditResult }
  /** code null: not an AccordError (a bug), reported as AUDIT_WORKER_FAILED. */
  | { kind: 'error'; code: string | null; message: string; details: Record<string, unknown> | null };

export async function runAudit(source: Source, opts: RunAuditOptions): Promise<RunAuditResult> {
  if (source.kind !== 'bundle' && source.target !== undefined && (opts.workers ?? availableParallelism()) > 0) {
    return auditInThread(source.target, opts);
  }
  // Loaded on demand: a caller whose audit runs in the audit thread needs none of it.
  const { auditHere } = await import('./audit-stream.ts');
  return auditHere(source, opts);
}

/** runAudit in an audit thread (audit-worker.ts), which opens `target` itself. */
async function auditInThread(target: string, opts: RunAuditOptions): Promise<RunAuditResult> {
  const scripts = await workerScripts();
  const workers = opts.workers ?? availableParallelism();
  // The audit thread counts as one of the `workers` threads; this one, idle otherwise, prepares
  // bundles and checks signatures too when the machine has a core more (with --workers 1: two
  // threads on two cores).
  const channel = availableParallelism() > workers ? new MessageChannel() : null;
  if (channel !== null) {
    const { answerJob } = await import('./check-jobs.ts');
    const port = channel.port1;
    port.on('message', (req: PoolRequest) => {
      const { reply, transfer } = answerJob(req);
      port.postMessage(reply, transfer);
    });
  }
  const data: AuditThreadData = {
    target,
    logKey: opts.logKey,
    stateCheckpoint: opts.stateCheckpoint,
    workers,
    progress: opts.onProgress !== undefined,
    verifyScript: scripts.verify.href,
    helper: channel?.port2 ?? null,
  };
  // No inherited execArgv: a parent started with `--import tsx` would register tsx in the thread.
  const worker = new Worker(scripts.audit, {
    workerData: data,
    transferList: channel === null ? [] : [channel.port2],
    execArgv: [],
    resourceLimits: AUDIT_THREAD_LIMITS,
  });
  return new Promise<RunAuditResult>((resolve, reject) => {
    let settled = false;
    const settle = (f: () => void): void => {
      if (settled) return;
      settled = true;
      channel?.port1.close();
      f();
      void worker.terminate();
    };
    worker.on('message', (m: AuditThreadMessage) => {
      if (m.kind === 'progress') opts.onProgress?.(m.done, m.total);
      else if (m.kind === 'result') settle(() => resolve(m.result));
      else {
        const error =
          m.code === null
            ? new AccordError('AUDIT_WORKER_FAILED', `the audit thread failed: ${m.message}`)
            : new AccordError(m.code, m.message, m.details === null ? undefined : { details: m.details });
        settle(() => reject(error));
      }
    });
    worker.on('error', (e) => settle(() => reject(new AccordError('AUDIT_WORKER_FAILED', `the audit thread failed: ${e.message}`, { cause: e }))));
    worker.on('exit', (code) => settle(() => reject(new AccordError('AUDIT_WORKER_FAILED', `the audit thread exited with code ${code} before reporting`))));
  });
}

