/**
 * Group commit that waits for announced submissions (src/log/arrivals.ts, Sequencer.willAppend):
 * a batch waits for the groups announced before it started, never for later ones, and at most
 * its linger time, so one slow submission cannot hold every batch back.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Arrivals } from '../../src/log/arrivals.ts';
import { openRegistry, type Registry } from '../../src/registry.ts';
import { attestation, groupOf, label } from './fixtures/statements.ts';
import { verifyReceipt } from './receipts.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('Arrivals', () => {
  it('does not wait when nothing was announced', async () => {
    const a = new Arrivals();
    const started = Date.now();
    await a.gather(10_000);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('waits until every announced group arrived', async () => {
    const a = new Arrivals();
    const first = a.announce();
    const second = a.announce();
    let done = false;
    const gathering = a.gather(10_000).then(() => (done = true));
    first();
    await tick();
    expect(done).toBe(false);
    second();
    await gathering;
    expect(a.pending).toBe(0);
  });

  it('does not wait for groups announced after it started', async () => {
    const a = new Arrivals();
    const early = a.announce();
    const gathering = a.gather(10_000);
    a.announce(); // the next batch's: never arrives in this test
    early();
    await gathering;
    expect(a.pending).toBe(1);
  });

  it('stops waiting after maxWaitMs and does not wait for that group again', async () => {
    const a = new Arrivals();
    const slow = a.announce();
    await a.gather(30);
    expect(a.pending).toBe(0);
    const started = Date.now();
    await a.gather(10_000);
    expect(Date.now() - started).toBeLessThan(1000);
    slow(); // arriving late changes nothing
    expect(a.pending).toBe(0);
  });

  it('counts a group that arrives twice (or gives up after arriving) once', async () => {
    const a = new Arrivals();
    const one = a.announce();
    a.announce();
    one();
    one();
    expect(a.pending).toBe(1);
  });
});

describe('Sequencer.willAppend', () => {
  const open: Registry[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });
  async function registry(lingerMs?: number): Promise<Registry> {
    const dir = await mkdtemp(join(tmpdir(), 'accord-group-commit-'));
    dirs.push(dir);
    const reg = await openRegistry({ dataDir: dir, origin: 'group-commit.test/log', ...(lingerMs === undefined ? {} : { lingerMs }) });
    open.push(reg);
    return reg;
  }

  it('puts groups announced before a batch started into that batch, under one checkpoint', async () => {
    const reg = await registry(10_000);
    const all = Array.from({ length: 5 }, () => attestation(reg.keys, label('gc')));
    const arrived = all.map(() => reg.sequencer.willAppend());
    const receipts = [];
    // They arrive one at a time, each after the previous one's batch could have started.
    for (const [i, s] of all.entries()) {
      receipts.push(reg.sequencer.append(groupOf(reg.keys, s)));
      arrived[i]!();
      await tick();
    }
    const done = await Promise.all(receipts);
    expect(new Set(done.map((r) => r[0]!.checkpoint)).size).toBe(1);
    for (const [i, s] of all.entries()) verifyReceipt(done[i]![0]!, s.bytes, reg.keys.logVerifierKey);
  });

  it('commits after lingerMs when an announced group never arrives', async () => {
    const reg = await registry(50);
    reg.sequencer.willAppend(); // a submission that hangs (a slow DID document host)
    const s = attestation(reg.keys, label('gc'));
    const [receipt] = await reg.sequencer.append(groupOf(reg.keys, s));
    verifyReceipt(receipt!, s.bytes, reg.keys.logVerifierKey);
    // The next batch does not wait for it again.
    const t = attestation(reg.keys, label('gc'));
    const started = Date.now();
    await reg.sequencer.append(groupOf(reg.keys, t));
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('never waits with lingerMs 0', async () => {
    const reg = await registry(0);
    reg.sequencer.willAppend();
    const s = attestation(reg.keys, label('gc'));
    const [receipt] = await reg.sequencer.append(groupOf(reg.keys, s));
    expect(receipt!.digest).toBe(s.digest);
  });
});
