/**
 * Runs the auditor (core/audit/auditor.ts) over a source (source.ts): the well-known file, the
 * signed checkpoint, the upper hash tiles, then every entry bundle with its level-0 tile in index
 * order. Tiles are fetched ahead with bounded concurrency and prepared in worker threads
 * (verify-pool.ts); the main thread applies the ordered rules. At most `window` tiles are in flight
 * and signature batches are bounded the same way, so memory stays flat whatever the log's size.
 */
import { availableParallelism } from 'node:os';
import { createAuditor, failedAudit, type AuditResult, type Auditor, type Finding, type SignatureTask } from '../core/audit/auditor.ts';
import { auditProofBundle } from '../core/audit/bundle-audit.ts';
import { parseRegistryInfo, sameVerifierKey, type RegistryInfo } from '../core/audit/registry-info.ts';
import { isAccordError } from '../core/errors.ts';
import { parseVerifierKey } from '../core/log/note.ts';
import { TILE_WIDTH, decodeHashTile, entriesPath, tilePath, tileWidth } from '../core/log/tiles.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import type { FileFetcher, Source } from './source.ts';
import { createVerifyPool, type PrepareResult, type VerifyPool } from './verify-pool.ts';

export const WELL_KNOWN_PATH = '.well-known/accord-registry.json';
const UPPER_TILE_CONCURRENCY = 8;

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

export async function runAudit(source: Source, opts: RunAuditOptions): Promise<RunAuditResult> {
  const keyPinned = opts.logKey !== null;
  if (source.kind === 'bundle') {
    const result = auditProofBundle(source.bytes, { logKey: opts.logKey, stateCheckpoint: opts.stateCheckpoint, verifyFn: verifyFast });
    return { ...result, keyPinned, keySource: keyPinned ? 'pinned with --log-key' : 'taken unpinned from the proof bundle', workers: 0, sourceKind: source.kind };
  }
  const fetchFile = source.fetchFile;
  const early: Finding[] = [];
  let info: RegistryInfo | null = null;
  const wellKnown = await fetchFile(WELL_KNOWN_PATH);
  if (wellKnown === null) {
    early.push({ index: -1, code: 'WELL_KNOWN_MISSING', message: `/${WELL_KNOWN_PATH} is missing (404)` });
  } else {
    try {
      info = parseRegistryInfo(wellKnown);
    } catch (e) {
      if (!isAccordError(e)) throw e;
      early.push({ index: -1, code: 'WELL_KNOWN_INVALID', message: e.message });
    }
  }
  if (opts.logKey !== null && info !== null && !sameVerifierKey(opts.logKey, info.logKey)) {
    early.push({ index: -1, code: 'LOG_KEY_MISMATCH', message: `/${WELL_KNOWN_PATH} publishes log key ${info.logKey}, not the pinned ${opts.logKey}` });
  }
  const logKey = opts.logKey ?? info?.logKey ?? null;
  const keySource = keyPinned ? 'pinned with --log-key' : `taken unpinned from /${WELL_KNOWN_PATH}`;
  if (logKey === null) {
    early.push({ index: -1, code: 'LOG_KEY_UNKNOWN', message: 'no log key: the well-known file is unusable and none was given with --log-key' });
    return { ...failedAudit(early), keyPinned, keySource, workers: 0, sourceKind: source.kind };
  }

  const auditor = createAuditor({
    logKey: parseVerifierKey(logKey),
    attestationDid: info?.attestationKey ?? null,
    stateCheckpoint: opts.stateCheckpoint,
    deferSignatures: true,
  });
  for (const f of early) auditor.addFinding(f.index, f.code, f.message);
  const note = await fetchFile('log/checkpoint');
  if (note === null) {
    auditor.addFinding(-1, 'CHECKPOINT_MISSING', '/log/checkpoint is missing (404)');
    return { ...auditor.finish(), keyPinned, keySource, workers: 0, sourceKind: source.kind };
  }
  const cp = auditor.checkCheckpoint(note);
  if (cp === null) return { ...auditor.finish(), keyPinned, keySource, workers: 0, sourceKind: source.kind };
  if (info !== null && info.origin !== cp.origin) {
    auditor.addFinding(-1, 'ORIGIN_MISMATCH', `/${WELL_KNOWN_PATH} names origin ${JSON.stringify(info.origin)}, the checkpoint ${JSON.stringify(cp.origin)}`);
  }

  const tiles = Math.ceil(cp.size / TILE_WIDTH);
  // More workers than tiles would only cost start-up time.
  const workers = Math.min(opts.workers ?? availableParallelism(), tiles);
  const pool = createVerifyPool(workers);
  try {
    await loadUpperTiles(fetchFile, auditor, cp.size);
    await streamEntries(fetchFile, auditor, pool, cp.size, opts.onProgress);
  } finally {
    await pool.close();
  }
  return { ...auditor.finish(), keyPinned, keySource, workers, sourceKind: source.kind };
}

/** Tiles of level 1 and up (1/256 of the level below), checked as the tree is rebuilt. */
async function loadUpperTiles(fetchFile: FileFetcher, auditor: Auditor, size: number): Promise<void> {
  // Generated lazily: an unverified checkpoint may claim any size, and the first 404 stops us.
  function* upperTiles(): Generator<{ level: number; index: number; width: number }> {
    for (let level = 1, perHash = TILE_WIDTH; Math.floor(size / perHash) > 0; level++, perHash *= TILE_WIDTH) {
      const n = Math.ceil(Math.floor(size / perHash) / TILE_WIDTH);
      for (let index = 0; index < n; index++) yield { level, index, width: tileWidth(level, index, size) };
    }
  }
  const wanted = upperTiles();
  let stop = false;
  const worker = async (): Promise<void> => {
    for (let it = wanted.next(); !stop && it.done !== true; it = wanted.next()) {
      const t = it.value;
      const path = tilePath(t.level, t.index, t.width);
      const bytes = await fetchFile(`log/${path}`);
      if (bytes === null) {
        if (!stop) auditor.addFinding(-1, 'TILE_MISSING', `/log/${path} is missing (404)`);
        stop = true;
        return;
      }
      try {
        auditor.addHashTile(t.level, t.index, decodeHashTile(bytes, t.width));
      } catch (e) {
        if (!isAccordError(e)) throw e;
        auditor.addFinding(-1, 'TILE_INVALID', `/log/${path}: ${e.message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: UPPER_TILE_CONCURRENCY }, worker));
}

type TileLoad =
  | { kind: 'ok'; start: number; width: number; hashes: Uint8Array[]; prepared: PrepareResult }
  | { kind: 'finding'; finding: Finding };

/** Level-0 tiles and entry bundles, fetched and prepared ahead, applied strictly in index order. */
async function streamEntries(
  fetchFile: FileFetcher,
  auditor: Auditor,
  pool: VerifyPool,
  size: number,
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<void> {
  const tiles = Math.ceil(size / TILE_WIDTH);
  const window = Math.max(4, pool.workers * 2);

  const load = async (k: number): Promise<TileLoad> => {
    const width = tileWidth(0, k, size);
    const start = k * TILE_WIDTH;
    const hashPath = tilePath(0, k, width);
    const bundlePath = entriesPath(k, width);
    const [hashTile, bundle] = await Promise.all([fetchFile(`log/${hashPath}`), fetchFile(`log/${bundlePath}`)]);
    for (const [bytes, path] of [[hashTile, hashPath], [bundle, bundlePath]] as const) {
      if (bytes === null) return { kind: 'finding', finding: { index: start, code: 'TILE_MISSING', message: `/log/${path} is missing (404)` } };
    }
    let hashes: Uint8Array[];
    try {
      hashes = decodeHashTile(hashTile as Uint8Array, width);
    } catch (e) {
      if (!isAccordError(e)) throw e;
      return { kind: 'finding', finding: { index: start, code: 'TILE_INVALID', message: `/log/${hashPath}: ${e.message}` } };
    }
    return { kind: 'ok', start, width, hashes, prepared: await pool.prepareBundle(start, bundle as Uint8Array) };
  };

  const inFlight: Promise<TileLoad>[] = [];
  let nextTile = 0;
  const fill = (): void => {
    while (inFlight.length < window && nextTile < tiles) {
      const p = load(nextTile++);
      // Loads left behind after a finding stops the stream must not become unhandled rejections.
      p.catch(() => undefined);
      inFlight.push(p);
    }
  };
  const verifying = new Set<Promise<void>>();
  const verify = (tasks: SignatureTask[]): Promise<void> => {
    const p = pool.verify(tasks).then((verdicts) => {
      for (const [i, t] of tasks.entries()) auditor.signatureResult(t.index, verdicts[i] === true);
    });
    verifying.add(p);
    void p.finally(() => verifying.delete(p)).catch(() => undefined);
    return p;
  };

  try {
    fill();
    while (inFlight.length > 0) {
      const r = await (inFlight.shift() as Promise<TileLoad>);
      fill();
      if (r.kind === 'finding') {
        auditor.addFinding(r.finding.index, r.finding.code, r.finding.message);
        break;
      }
      if (!r.prepared.ok) {
        auditor.addFinding(r.start, 'TILE_INVALID', `/log/${entriesPath(r.start / TILE_WIDTH, r.width)}: ${r.prepared.message}`);
        break;
      }
      const entries = r.prepared.entries;
      const tasks: SignatureTask[] = [];
      for (const [j, p] of entries.entries()) {
        if (j >= r.width) break;
        const task = auditor.pushPrepared(p, r.hashes[j] ?? null);
        if (task !== null) tasks.push(task);
      }
      if (tasks.length > 0) void verify(tasks);
      if (entries.length !== r.width) {
        // Too few: name the first entry that is missing. Too many: the tile as a whole.
        const at = entries.length < r.width ? r.start + entries.length : -1;
        auditor.addFinding(at, 'TILE_INVALID', `/log/${entriesPath(r.start / TILE_WIDTH, r.width)} holds ${entries.length} entries, expected ${r.width}`);
        break;
      }
      onProgress?.(r.start + r.width, size);
      while (verifying.size > window) await Promise.race(verifying);
    }
  } finally {
    // Every signature handed out must come back before the auditor finishes.
    await Promise.all(verifying);
  }
}
