/**
 * Crash safety, proven (DESIGN 5: "a crash at any instant leaves a log that verifies and contains
 * every acknowledged entry"; DESIGN 7: the served checkpoint never goes back). A real registry
 * process appends continuously and prints every receipt it hands out; we SIGKILL it at random
 * moments (during start-up, between and inside transactions), restart, and audit the storage as
 * accord-verify would, after every single crash.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/core/bytes.ts';
import { DEFAULT_ACCORDS_DIR, openRegistry } from '../../src/registry.ts';
import { findIndexesByDigest } from '../../src/storage/entries-repo.ts';
import type { Receipt } from '../../src/log/sequencer.ts';
import { useTempDirs } from '../storage/engines.ts';
import { auditStorage } from './audit-storage.ts';
import { bundleScript } from './fixtures/bundle.ts';
import { expectConsistentWithLatest, verifyReceipt } from './receipts.ts';

const ORIGIN = 'crash.test/log';
const CRASHES = 50;
const CHILD = fileURLToPath(new URL('./fixtures/append-child.ts', import.meta.url));
const tempDir = useTempDirs();
let child: Awaited<ReturnType<typeof bundleScript>>;
beforeAll(async () => {
  child = await bundleScript(CHILD);
});
afterAll(async () => {
  await child?.remove();
});

interface Run {
  receipts: (Receipt & { bytes: string })[];
  ready: boolean;
}

/** Starts the appender and SIGKILLs it: `afterStartMs` after spawn, or `afterFirstMs` after its first receipt. */
function crashRun(dataDir: string, tag: string, kill: { afterStartMs: number } | { afterFirstMs: number }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [child.file, dataDir, ORIGIN, '0', '4', tag, DEFAULT_ACCORDS_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const killNow = () => p.kill('SIGKILL');
    // A child that never gets going must not hang the test.
    const guard = setTimeout(killNow, 15_000);
    if ('afterStartMs' in kill) timer = setTimeout(killNow, kill.afterStartMs);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if ('afterFirstMs' in kill && timer === undefined && out.includes('{"index"')) timer = setTimeout(killNow, kill.afterFirstMs);
    });
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(guard);
      if (signal !== 'SIGKILL') return reject(new Error(`the appender exited by itself (code ${code}): ${stderr}`));
      // Only complete lines: a line being written at the instant of the kill was never handed out.
      const lines = out.split('\n').slice(0, -1);
      resolve({
        ready: lines.some((l) => l === '{"ready":true}'),
        receipts: lines.filter((l) => l.startsWith('{"index"')).map((l) => JSON.parse(l) as Receipt & { bytes: string }),
      });
    });
  });
}

describe('a registry process killed at random moments', () => {
  it(`loses no acknowledged entry and serves a log that verifies, after each of ${CRASHES} crashes`, { timeout: 240_000 }, async () => {
    const dataDir = await tempDir();
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const acknowledged = new Map<string, number>(); // digest -> index
    const handedOut = new Set<string>(); // checkpoint notes in receipts
    let servedNote: string | null = null;
    let servedSize = 0;
    let runsWithReceipts = 0;

    for (let crash = 0; crash < CRASHES; crash++) {
      // One run in five dies during start-up (key creation, migrations, genesis, first batch).
      const kill = crash % 5 === 0 ? { afterStartMs: Math.floor(random() * 700) } : { afterFirstMs: Math.floor(random() * 120) };
      const run = await crashRun(dataDir, `c${crash}x`, kill);
      if (run.receipts.length > 0) runsWithReceipts++;

      // Restart: what a new registry process opens and serves.
      const reg = await openRegistry({ dataDir, origin: ORIGIN });
      try {
        for (const r of run.receipts) {
          verifyReceipt(r, fromBase64(r.bytes), reg.keys.logVerifierKey);
          acknowledged.set(r.digest, r.index);
          handedOut.add(r.checkpoint);
        }
        // Every acknowledged entry is there, at its index.
        const found = await findIndexesByDigest(reg.handle.db, [...acknowledged.keys()]);
        expect(found).toEqual(acknowledged);
        // The log verifies as accord-verify sees it, and is consistent with what was served before.
        const audit = await auditStorage(reg.reader, reg.keys, { stateCheckpoint: servedNote });
        expect(audit.findings).toEqual([]);
        expect(audit.ok).toBe(true);
        expect(audit.consistency).toBe(servedNote === null ? 'first-run' : 'proved');
        const latest = await reg.reader.latestCheckpoint();
        expect(latest!.size).toBeGreaterThanOrEqual(servedSize); // never goes back
        expect(latest!.size).toBeGreaterThan(Math.max(-1, ...acknowledged.values()));
        // Every checkpoint ever handed out is stored and consistent with the latest.
        await expectConsistentWithLatest(reg.reader, handedOut, reg.keys.logVerifierKey);
        servedNote = latest!.note;
        servedSize = latest!.size;
      } finally {
        await reg.close();
      }
    }
    // The crashes hit a busy appender, not only idle moments.
    expect(runsWithReceipts).toBeGreaterThanOrEqual(CRASHES / 2);
    expect(acknowledged.size).toBeGreaterThan(CRASHES);
  });
});
