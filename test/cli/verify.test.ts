/**
 * accord-verify as a real child process (`node bin/accord-verify.js`), DESIGN 8: the vector
 * mirrors verify; tampered copies fail with exit 1 and a finding that names the entry; a source it
 * cannot read is exit 2. Content tampers that need valid signatures use logs built here with
 * generated keys, so exactly the intended rule fails.
 */
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/core/bytes.ts';
import { generateKeyPair } from '../../src/core/crypto/ed25519.ts';
import { makeVerifierKey } from '../../src/core/log/note.ts';
import { encodeEntryBundle } from '../../src/core/log/tiles.ts';
import { LogBuilder, proofBundle } from '../audit/log-builder.ts';
import { serveDirectory } from '../audit/static-server.ts';
import { entryText, readMirror, writeFileAt, writeMirror, writeTiles } from '../helpers/mirror.ts';
import { runTool, type ToolResult } from './run-tool.ts';

const VECTORS = new URL('../../../shared/vectors/registry-mirrors/', import.meta.url).pathname;
const HOLDOUT_KEY = 'holdout.accord.example/log+d8761c85+AWrxEOMrpToy6O3mGuYU48K0I0ldpSNZrJ9WNF/7IC6Q';

interface JsonReport {
  ok: boolean;
  origin: string | null;
  size: number | null;
  root: string | null;
  findings: { index: number; code: string; message: string }[];
}

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'accord-verify-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function fresh(name: string): string {
  return join(tmp, `${name}-${n++}`);
}

/** A copy of a vector mirror to tamper with. */
async function copyOf(name: string): Promise<string> {
  const dir = fresh(name);
  await cp(join(VECTORS, name), dir, { recursive: true });
  return dir;
}

async function verifyJson(args: string[]): Promise<{ run: ToolResult; report: JsonReport }> {
  const run = await runTool('verify', [...args, '--json', '--workers', '0']);
  let report: JsonReport;
  try {
    report = JSON.parse(run.stdout) as JsonReport;
  } catch {
    throw new Error(`accord-verify printed no JSON (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  }
  return { run, report };
}

function findings(report: JsonReport): string[] {
  return report.findings.map((f) => `${f.index}:${f.code}`);
}

/** Writes entries over the genesis copy's single entry bundle only (its level-0 tile unchanged). */
async function writeBundleOnly(dir: string, entries: Uint8Array[]): Promise<void> {
  await writeFileAt(dir, 'log/tile/entries/000.p/15', encodeEntryBundle(entries));
}

describe('accord-verify', () => {
  describe.each(['genesis', 'variants', 'large'])('on the vector mirror %s', (name) => {
    it('exits 0 with the pinned key, prints { ok, origin, size, root, findings } with --json and the summary on stderr', async () => {
      const run = await runTool('verify', [join(VECTORS, name), '--log-key', HOLDOUT_KEY, '--json']);
      expect(run.code).toBe(0);
      const [origin, size, root] = (await readFile(join(VECTORS, name, 'log', 'checkpoint'), 'utf8')).split('\n');
      expect(JSON.parse(run.stdout)).toEqual({ ok: true, origin, size: Number(size), root, findings: [] });
      expect(run.stderr).toMatch(/^accord-verify: OK, holdout\.accord\.example\/log verified at size \d+/);
      expect(run.stderr).toContain('pinned with --log-key');
    });
  });

  it('says the key was taken unpinned when --log-key is not given', async () => {
    const run = await runTool('verify', [join(VECTORS, 'genesis'), '--workers', '0']);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^accord-verify: OK, holdout\.accord\.example\/log verified at size 15\n/);
    expect(run.stdout).toMatch(/log key: +taken unpinned from \/\.well-known\/accord-registry\.json/);
  });

  it('works from another working directory with worker threads', async () => {
    const run = await runTool('verify', [join(VECTORS, 'large'), '--log-key', HOLDOUT_KEY, '--workers', '2'], { cwd: tmpdir() });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('765 signatures');
    expect(run.stdout).toContain('(2 worker threads)');
    expect(run.stdout).not.toContain('not that none is');
  });

  describe('could not check (exit 2)', () => {
    it('exits 2 on usage errors, an unreadable key and a missing path', async () => {
      const none = await runTool('verify', []);
      expect(none.code).toBe(2);
      expect(none.stderr).toContain('usage: accord-verify');
      expect((await runTool('verify', [join(VECTORS, 'genesis'), '--bogus'])).code).toBe(2);
      expect((await runTool('verify', [join(VECTORS, 'genesis'), '--workers', 'many'])).code).toBe(2);
      const badKey = await runTool('verify', [join(VECTORS, 'genesis'), '--log-key', 'not-a-key']);
      expect(badKey.code).toBe(2);
      expect(badKey.stderr).toContain('--log-key');
      const missing = await runTool('verify', [join(tmp, 'no-such-mirror')]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('SOURCE_UNAVAILABLE');
    });
  });

  describe('with a wrong --log-key', () => {
    it('exits 1 with LOG_KEY_MISMATCH and CHECKPOINT_INVALID', async () => {
      const wrong = makeVerifierKey('holdout.accord.example/log', generateKeyPair().publicKey);
      const { run, report } = await verifyJson([join(VECTORS, 'genesis'), '--log-key', wrong]);
      expect(run.code).toBe(1);
      expect(report.ok).toBe(false);
      expect(findings(report)).toEqual(['-1:LOG_KEY_MISMATCH', '-1:CHECKPOINT_INVALID']);
      const quiet = await runTool('verify', [join(VECTORS, 'genesis'), '--log-key', wrong, '--quiet', '--workers', '0']);
      expect(quiet.code).toBe(1);
      expect(quiet.stdout.split('\n').filter(Boolean).map((l) => l.split(':').slice(0, 2).join(':'))).toEqual(['  log: LOG_KEY_MISMATCH', '  log: CHECKPOINT_INVALID']);
    });
  });

  describe('on a tampered copy of genesis', () => {
    it('names an entry with a flipped byte (LEAF_HASH_MISMATCH at its index)', async () => {
      const dir = await copyOf('genesis');
      const { entries } = await readMirror(dir);
      const e = entries[4] as Uint8Array;
      const at = entryText(e).indexOf('Beta Systems');
      e[at] = (e[at] as number) ^ 0x20; // "beta Systems": still valid JSON, another name
      await writeBundleOnly(dir, entries);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      const entryFindings = report.findings.filter((f) => f.index >= 0);
      expect(entryFindings.slice(0, 2).map((f) => `${f.index}:${f.code}`)).toEqual(['4:LEAF_HASH_MISMATCH', '4:SIGNATURE_INVALID']);
      // Beta's later pledge names the digest of the original entry 4: a consequence, later in the log.
      expect(entryFindings.slice(2).map((f) => `${f.index}:${f.code}`)).toEqual(['14:PREVIOUS_MISMATCH']);
    });

    it('names both entries of a swapped pair (LEAF_HASH_MISMATCH)', async () => {
      const dir = await copyOf('genesis');
      const { entries } = await readMirror(dir);
      [entries[5], entries[6]] = [entries[6] as Uint8Array, entries[5] as Uint8Array];
      await writeBundleOnly(dir, entries);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      const leafs = report.findings.filter((f) => f.code === 'LEAF_HASH_MISMATCH').map((f) => f.index);
      expect(leafs).toEqual([5, 6]);
    });

    it('names a swapped pair whose tiles were re-encoded by the rule it breaks and the root', async () => {
      const dir = await copyOf('genesis');
      const { entries } = await readMirror(dir);
      // Alpha's pledge (2) now precedes the attestation (1) that covers its key.
      [entries[1], entries[2]] = [entries[2] as Uint8Array, entries[1] as Uint8Array];
      await writeTiles(dir, entries);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      // Alpha's later pledges then name a statement the rules refused: consequences, later in the log.
      expect(findings(report)).toEqual(['-1:ROOT_MISMATCH', '1:KEY_NOT_ATTESTED', '7:PREVIOUS_MISMATCH', '9:PREVIOUS_MISMATCH']);
    });

    it('names the place of a removed entry (LEAF_HASH_MISMATCH) and the short bundle', async () => {
      const dir = await copyOf('genesis');
      const { entries } = await readMirror(dir);
      entries.splice(10, 1);
      await writeBundleOnly(dir, entries);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      expect(report.findings[0]).toMatchObject({ index: 10, code: 'LEAF_HASH_MISMATCH' });
      expect(report.findings).toContainEqual(expect.objectContaining({ index: 14, code: 'TILE_INVALID' }));
    });

    it('names an entry re-encoded non-canonically (ENTRY_NOT_CANONICAL and LEAF_HASH_MISMATCH)', async () => {
      const dir = await copyOf('genesis');
      const { entries } = await readMirror(dir);
      entries[7] = utf8(JSON.stringify(JSON.parse(entryText(entries[7] as Uint8Array)), null, 1));
      await writeBundleOnly(dir, entries);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['-1:ROOT_MISMATCH', '7:LEAF_HASH_MISMATCH', '7:ENTRY_NOT_CANONICAL']);
    });

    it('names a non-canonical entry whose level-0 tile was recomputed (only ENTRY_NOT_CANONICAL and the root)', async () => {
      const dir = await copyOf('genesis');
      const { entries } = await readMirror(dir);
      entries[7] = utf8(JSON.stringify(JSON.parse(entryText(entries[7] as Uint8Array)), null, 1));
      await writeTiles(dir, entries);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['-1:ROOT_MISMATCH', '7:ENTRY_NOT_CANONICAL']);
    });

    it('refuses a forged checkpoint signature (CHECKPOINT_INVALID)', async () => {
      const dir = await copyOf('genesis');
      const note = await readFile(join(dir, 'log', 'checkpoint'), 'utf8');
      const sigAt = note.lastIndexOf(' ') + 10;
      const forged = note.slice(0, sigAt) + (note[sigAt] === 'A' ? 'B' : 'A') + note.slice(sigAt + 1);
      await writeFile(join(dir, 'log', 'checkpoint'), forged);
      const { run, report } = await verifyJson([dir, '--log-key', HOLDOUT_KEY]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['-1:CHECKPOINT_INVALID']);
    });
  });

  describe('with --state', () => {
    it('creates the state on a first run and advances it when the log grows consistently', async () => {
      const dir = fresh('state');
      await mkdir(dir);
      const state = join(dir, 'accord.state');
      const keyFile = join(dir, 'log-key.txt');
      await writeFile(keyFile, `${HOLDOUT_KEY}\n`);
      const first = await runTool('verify', [join(VECTORS, 'genesis'), '--log-key', keyFile, '--state', state, '--workers', '0']);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain('first run');
      expect(await readFile(state, 'utf8')).toBe(await readFile(join(VECTORS, 'genesis', 'log', 'checkpoint'), 'utf8'));
      const second = await runTool('verify', [join(VECTORS, 'variants'), '--log-key', HOLDOUT_KEY, '--state', state, '--workers', '0']);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('consistent with the saved checkpoint');
      expect(await readFile(state, 'utf8')).toBe(await readFile(join(VECTORS, 'variants', 'log', 'checkpoint'), 'utf8'));
    });

    it('refuses a state file in a folder that does not exist before checking anything (exit 2)', async () => {
      const state = join(tmp, 'no-such-folder', 'accord.state');
      const r = await runTool('verify', [join(VECTORS, 'genesis'), '--log-key', HOLDOUT_KEY, '--state', state, '--workers', '0']);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`the folder ${join(tmp, 'no-such-folder')} does not exist (FILE_UNWRITABLE)`);
      expect(r.stdout).toBe('');
    });

    it('finds a ROLLBACK and leaves the state file untouched', async () => {
      const state = join(tmp, `rollback-${n++}.state`);
      const saved = await readFile(join(VECTORS, 'variants', 'log', 'checkpoint'), 'utf8');
      await writeFile(state, saved);
      const { run, report } = await verifyJson([join(VECTORS, 'genesis'), '--log-key', HOLDOUT_KEY, '--state', state]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['-1:ROLLBACK']);
      expect(await readFile(state, 'utf8')).toBe(saved);
    });

    it('finds a FORK against a saved checkpoint of another tree', async () => {
      const { log } = LogBuilder.basic();
      const a = await writeMirror(fresh('fork-a'), log.bytes, log.mirrorKeys);
      // The same first five entries, then another (valid) profile update than the saved tree's.
      const forked = log.pledge(log.companies.get('alpha.test')!, log.entries[0]!.digest, { name: 'Alpha Forked', append: false, previous: log.entries[2]!.digest });
      const dir = fresh('fork-b');
      await writeMirror(dir, [...log.bytes.slice(0, 5), forked.bytes], log.mirrorKeys);
      const state = join(tmp, `fork-${n++}.state`);
      await writeFile(state, a.checkpoint);
      const { run, report } = await verifyJson([dir, '--state', state]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['-1:FORK']);
      expect(await readFile(state, 'utf8')).toBe(a.checkpoint);
    });
  });

  describe('on a log built with keys of the test', () => {
    it('finds a checkpoint whose root does not match the entries (ROOT_MISMATCH)', async () => {
      const { log } = LogBuilder.basic();
      const dir = fresh('root');
      const m = await writeMirror(dir, log.bytes, log.mirrorKeys, { root: new Uint8Array(32).fill(9) });
      const { run, report } = await verifyJson([dir, '--log-key', m.logKey]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['-1:ROOT_MISMATCH']);
    });

    it('names a broken previous link (PREVIOUS_MISMATCH)', async () => {
      const { log, accord, b } = LogBuilder.basic();
      log.pledge(b, accord, { previous: log.entries[2]!.digest });
      const dir = fresh('previous');
      const m = await writeMirror(dir, log.bytes, log.mirrorKeys);
      const { run, report } = await verifyJson([dir, '--log-key', m.logKey]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['6:PREVIOUS_MISMATCH']);
    });

    it('names a signature by a key no attestation covers (KEY_NOT_ATTESTED)', async () => {
      const { log, accord, a } = LogBuilder.basic();
      log.addKey(a);
      log.pledge(a, accord);
      const dir = fresh('unattested');
      const m = await writeMirror(dir, log.bytes, log.mirrorKeys);
      const { run, report } = await verifyJson([dir, '--log-key', m.logKey]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['6:KEY_NOT_ATTESTED']);
    });

    it('names a statement naming an unknown accord (ACCORD_UNKNOWN)', async () => {
      const { log, b } = LogBuilder.basic();
      log.withdraw(b, { accord: `sha256:${'ab'.repeat(32)}` });
      const dir = fresh('accord');
      const m = await writeMirror(dir, log.bytes, log.mirrorKeys);
      const { run, report } = await verifyJson([dir, '--log-key', m.logKey]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['6:ACCORD_UNKNOWN']);
    });

    it('verifies a proof bundle file and names a tampered one', async () => {
      const { log } = LogBuilder.basic();
      const file = join(tmp, `bundle-${n++}.json`);
      await writeFile(file, proofBundle(log, [0, 1, 2, 5]));
      const good = await runTool('verify', [file, '--log-key', makeVerifierKey(log.origin, log.logKey.publicKey)]);
      expect(good.code).toBe(0);
      expect(good.stdout).toContain('inclusion proofs');
      expect(good.stdout).toContain('signatories: 1 (1 current, 0 withdrawn, 0 delisted)');
      // What a bundle leaves out is not proven absent, and the summary says so.
      expect(good.stdout).toContain('not that none is');
      await writeFile(file, proofBundle(log, [0, 1, 5]));
      const { run, report } = await verifyJson([file]);
      expect(run.code).toBe(1);
      expect(findings(report)).toEqual(['5:PREVIOUS_MISMATCH']);
    });
  });

  describe('over HTTP', () => {
    it('exits 0 on a served mirror, 1 on a 404 for a tile and 2 on a 500', async () => {
      const server = await serveDirectory(join(VECTORS, 'genesis'));
      try {
        expect((await runTool('verify', [server.url, '--log-key', HOLDOUT_KEY, '--workers', '0'])).code).toBe(0);
        server.override('/log/tile/entries/000.p/15', 404);
        const { run, report } = await verifyJson([server.url, '--log-key', HOLDOUT_KEY]);
        expect(run.code).toBe(1);
        expect(findings(report)).toEqual(['0:TILE_MISSING']);
        server.override('/log/tile/entries/000.p/15', 500);
        const failed = await runTool('verify', [server.url, '--log-key', HOLDOUT_KEY, '--json']);
        expect(failed.code).toBe(2);
        expect(failed.stdout).toBe('');
        expect(failed.stderr).toContain('HTTP 500');
      } finally {
        await server.close();
      }
    });
  });
});
