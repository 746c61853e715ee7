import { verify } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { generateMirror, SIGNATURE_RECORD_BYTES, type GeneratedMirror } from '../../scripts/bench/generate-mirror.ts';
import { signatureBound } from '../../scripts/bench/signature-bound.ts';
import { decodeEntryBundle } from '../../src/core/log/tiles.ts';
import { decodeProofValue } from '../../src/core/statements/proof.ts';

let dir: string;
let mirror: GeneratedMirror;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'accord-bench-mirror-'));
  mirror = await generateMirror({ dir, entries: 600, seed: 7 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await rm(mirror.signatures, { force: true });
});

/** Every entry of the mirror, in log order. */
async function entries(): Promise<Uint8Array[]> {
  const root = join(dir, 'log', 'tile', 'entries');
  const names = (await readdir(root, { recursive: true, withFileTypes: true })).filter((d) => d.isFile());
  const paths = names.map((d) => join(d.parentPath, d.name).slice(root.length + 1)).sort((a, b) => tileNumber(a) - tileNumber(b));
  const all: Uint8Array[] = [];
  for (const p of paths) all.push(...decodeEntryBundle(await readFile(join(root, p))));
  return all;
}
/** "x001/234.p/17" -> 1234 (tlog-tiles path elements). */
const tileNumber = (path: string): number => Number(path.split('.p/')[0]!.replace(/[x/]/g, ''));

describe("the benchmark's generated mirror", () => {
  it('holds every kind of statement', () => {
    expect(mirror.size).toBe(600);
    expect(Object.keys(mirror.byType).sort()).toEqual(['AccordPledge', 'AccordText', 'AccordWithdrawal', 'DomainAttestation', 'RegistryNotice']);
  });

  it("passes accord-verify's full audit with the pinned key", async () => {
    const result = await runAudit(await openSource(dir), { logKey: mirror.logKey, stateCheckpoint: null, workers: 0 });
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.stats.accords).toBe(2);
  });

  it("records each entry's signature check beside the mirror, for the signatures-only bound", async () => {
    const records = await readFile(mirror.signatures);
    expect(records.length).toBe(600 * SIGNATURE_RECORD_BYTES);
    expect(mirror.signatures).toBe(`${dir}.signatures`); // beside the mirror, not in it
    const logged = await entries();
    expect(logged).toHaveLength(600);
    for (let i = 0; i < 600; i++) {
      const r = records.subarray(i * SIGNATURE_RECORD_BYTES, (i + 1) * SIGNATURE_RECORD_BYTES);
      const statement = JSON.parse(new TextDecoder().decode(logged[i])) as { proof: { proofValue: string } };
      // The entry's own signature, and it verifies over the recorded hashData with the recorded key.
      expect(Buffer.from(r.subarray(32, 96)).equals(Buffer.from(decodeProofValue(statement.proof.proofValue)!))).toBe(true);
      const key = { key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(r.subarray(0, 32)).toString('base64url') }, format: 'jwk' } as const;
      expect(verify(null, r.subarray(96), key, r.subarray(32, 96))).toBe(true);
    }
  });

  it('the bound checks every signature on each thread count, and refuses a record that does not verify', async () => {
    // And a thread count that some thread gets no key at (it only helps): the case a list of
    // length 0 must not turn into a check of record 0.
    const firstBytes = new Set((await keysOf(mirror.signatures)).map((k) => parseInt(k.slice(0, 2), 16)));
    const sparse = [8, 16, 24, 32, 48, 64].find((t) => new Set([...firstBytes].map((b) => b % t)).size < t);
    expect(sparse).toBeDefined();
    for (const threads of [1, 2, sparse!]) {
      const run = await signatureBound(mirror.signatures, threads);
      expect(run.perS).toBeGreaterThan(0);
      expect(run.imports).toBeGreaterThanOrEqual(new Set(await keysOf(mirror.signatures)).size);
    }
    const broken = `${dir}/broken.signatures`;
    const records = await readFile(mirror.signatures);
    records[300 * SIGNATURE_RECORD_BYTES + 40]! ^= 1; // a byte of entry 300's signature
    await writeFile(broken, records);
    await expect(signatureBound(broken, 2)).rejects.toThrow('599 of 600 checks valid');
  });
});

async function keysOf(file: string): Promise<string[]> {
  const records = await readFile(file);
  const keys: string[] = [];
  for (let o = 0; o < records.length; o += SIGNATURE_RECORD_BYTES) keys.push(records.subarray(o, o + 32).toString('hex'));
  return keys;
}
