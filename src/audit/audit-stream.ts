/**
 * The audit in the calling thread (DESIGN 8; run-audit.ts runs it in an audit thread, audit-worker.ts,
 * or here): the well-known file, the signed checkpoint, the upper hash tiles, then every entry
 * bundle with its level-0 tile in index order, fed to the auditor (core/audit/auditor.ts). Tiles
 * are read ahead into reusable buffers and prepared by the checking threads (verify-pool.ts); this
 * thread applies the ordered rules, and runs queued jobs itself while it would otherwise wait. At
 * most `window` tiles are in flight and signatures waiting for a verdict are bounded the same way,
 * so memory stays flat whatever the log's size.
 */
import { availableParallelism } from 'node:os';
import { type MessagePort } from 'node:worker_threads';
import { createAuditor, failedAudit, type Auditor, type Finding } from '../core/audit/auditor.ts';
import { auditProofBundle } from '../core/audit/bundle-audit.ts';
import { parseRegistryInfo, sameVerifierKey, type RegistryInfo } from '../core/audit/registry-info.ts';
import { AccordError, isAccordError } from '../core/errors.ts';
import { parseVerifierKey } from '../core/log/note.ts';
import { TILE_WIDTH, decodeHashTile, entriesPath, tilePath, tileWidth } from '../core/log/tiles.ts';
import { verifyFast } from '../node/ed25519-fast.ts';
import { nodeSha256 } from '../node/sha256.ts';
import { WELL_KNOWN_PATH, type RunAuditOptions, type RunAuditResult } from './run-audit.ts';
import type { FileFetcher, FileReader, Source } from './source.ts';
import { createVerifyPool, type PrepareResult, type VerifyPool } from './verify-pool.ts';

const UPPER_TILE_CONCURRENCY = 8;

/**
 * The audit in this thread (audit-worker.ts runs it in its own), which is one of the `workers`
 * checking threads; `helpers` answer signature chunks too. `verifyScript`: the worker threads'
 * script, when this thread cannot find it itself (inside a bundle).
 */
export async function auditHere(source: Source, opts: RunAuditOptions & { verifyScript?: URL; helpers?: MessagePort[] }): Promise<RunAuditResult> {
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
    sha256: nodeSha256,
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
  const pool = createVerifyPool({
    workers: Math.max(0, workers - 1),
    helpers: opts.helpers ?? [],
    lendThisThread: true,
    onVerdict: (index, valid) => auditor.signatureResult(index, valid),
    ...(opts.verifyScript === undefined ? {} : { script: opts.verifyScript }),
  });
  try {
    await loadUpperTiles(fetchFile, auditor, cp.size);
    await streamEntries(source, auditor, pool, cp.size, opts.onProgress);
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

type TileLoad = { kind: 'ok'; start: number; width: number; prepared: PrepareResult } | { kind: 'finding'; finding: Finding };

/** Lets pending I/O and worker messages run between two pieces of work on this thread. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Level-0 tiles and entry bundles, fetched and prepared ahead, applied strictly in index order. */
async function streamEntries(
  source: Extract<Source, { kind: 'registry' | 'mirror' }>,
  auditor: Auditor,
  pool: VerifyPool,
  size: number,
  onProgress: ((done: number, total: number) => void) | undefined,
): Promise<void> {
  const tiles = Math.ceil(size / TILE_WIDTH);
  // Bundles read and prepared ahead of the one being applied, and signatures waiting for a
  // verdict: enough to keep every core busy, bounded so memory stays flat whatever the log's size.
  const window = pool.threads * 2 + 4;
  const signatureLimit = (pool.threads + 2) * TILE_WIDTH;
  const read: FileReader =
    source.readInto ??
    (async (path, into) => {
      const bytes = await source.fetchFile(path);
      if (bytes === null) return null;
      const view = into(bytes.length);
      view.set(bytes);
      return view;
    });

  const load = async (k: number): Promise<TileLoad> => {
    const width = tileWidth(0, k, size);
    const start = k * TILE_WIDTH;
    const hashPath = tilePath(0, k, width);
    const bundlePath = entriesPath(k, width);
    const space = pool.tile();
    const missing = (path: string): TileLoad => {
      space.release();
      return { kind: 'finding', finding: { index: start, code: 'TILE_MISSING', message: `/log/${path} is missing (404)` } };
    };
    try {
      // Read into the pool's reusable space, the hash tile first, then the bundle.
      const hashTile = await read(`log/${hashPath}`, (n) => space.hashes(n));
      if (hashTile === null) return missing(hashPath);
      const bundle = await read(`log/${bundlePath}`, (n) => space.bundle(n));
      if (bundle === null) return missing(bundlePath);
      if (hashTile.length !== width * 32) {
        try {
          decodeHashTile(hashTile.slice(), width); // refuses it, with the reason
          throw new AccordError('TILE_BAD_HASH_TILE', `expected ${width} hashes`);
        } catch (e) {
          if (!isAccordError(e)) throw e;
          space.release();
          return { kind: 'finding', finding: { index: start, code: 'TILE_INVALID', message: `/log/${hashPath}: ${e.message}` } };
        }
      }
    } catch (e) {
      space.release();
      throw e;
    }
    return { kind: 'ok', start, width, prepared: await pool.prepare(start, space) };
  };

  const inFlight: { done: boolean; result: Promise<TileLoad> }[] = [];
  let nextTile = 0;
  const fill = (): void => {
    while (inFlight.length < window && nextTile < tiles) {
      const ahead = { done: false, result: load(nextTile++) };
      // Loads left behind after a finding stops the stream must not become unhandled rejections.
      ahead.result.then(
        () => (ahead.done = true),
        () => (ahead.done = true),
      );
      inFlight.push(ahead);
    }
  };
  /**
   * Waits for `done` (a promise that also sets `isDone`), running the pool's queued jobs on this
   * thread meanwhile: it is one of the checking threads, and may be the only one that prepares.
   */
  const helpUntil = async (isDone: () => boolean, done: Promise<unknown>): Promise<void> => {
    done.catch(() => undefined); // a rejection is raised by the await below, or by a later one
    while (!isDone()) {
      if (pool.helpInline()) await yieldToEventLoop();
      else await Promise.race([done, pool.whenWork()]);
    }
  };

  fill();
  while (inFlight.length > 0) {
    const head = inFlight[0] as { done: boolean; result: Promise<TileLoad> };
    await helpUntil(() => head.done, head.result);
    const r = await head.result;
    inFlight.shift();
    fill();
    if (r.kind === 'finding') {
      auditor.addFinding(r.finding.index, r.finding.code, r.finding.message);
      break;
    }
    const prepared = r.prepared;
    if (!prepared.ok) {
      auditor.addFinding(r.start, 'TILE_INVALID', `/log/${entriesPath(r.start / TILE_WIDTH, r.width)}: ${prepared.message}`);
      break;
    }
    const count = prepared.count;
    for (let j = 0; j < count && j < r.width; j++) {
      const task = auditor.pushPrepared(prepared.entry(j), prepared.tileHash(j));
      if (task !== null) pool.queueSignature(task);
    }
    // The tasks' bytes are packed: the tile's buffer can serve another tile.
    pool.flushSignatures();
    prepared.release();
    if (count !== r.width) {
      // Too few: name the first entry that is missing. Too many: the tile as a whole.
      const at = count < r.width ? r.start + count : -1;
      auditor.addFinding(at, 'TILE_INVALID', `/log/${entriesPath(r.start / TILE_WIDTH, r.width)} holds ${count} entries, expected ${r.width}`);
      break;
    }
    onProgress?.(r.start + r.width, size);
    if (pool.pendingSignatures > signatureLimit) await helpUntil(() => pool.pendingSignatures <= signatureLimit, pool.signaturesBelow(signatureLimit));
  }
  // Every signature handed out must come back before the auditor finishes.
  pool.flushSignatures();
  await helpUntil(() => pool.pendingSignatures === 0, pool.signaturesBelow(0));
}
