import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from '../../src/audit/run-audit.ts';
import { openSource } from '../../src/audit/source.ts';
import { generateMirror, type GeneratedMirror } from '../../scripts/bench/generate-mirror.ts';

let dir: string;
let mirror: GeneratedMirror;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'accord-bench-mirror-'));
  mirror = await generateMirror({ dir, entries: 600, seed: 7 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

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
});
