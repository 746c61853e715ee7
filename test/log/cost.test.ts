/**
 * Cost that does not grow with the log (counts, not time): an append issues the same statements
 * and reads O(log n) rows whether the log holds 1,000 or 100,000 entries, none of its queries
 * scans a log table, and opening the registry reads a constant number of rows.
 */
import { CompiledQuery, type KyselyPlugin, type LogEvent, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { digestOf, utf8 } from '../../src/core/bytes.ts';
import type { AppendEntry } from '../../src/log/sequencer.ts';
import { openRegistry, type Registry } from '../../src/registry.ts';
import { useTempDirs } from '../storage/engines.ts';
import { attestation, groupOf, label } from './fixtures/statements.ts';
import { verifyReceipt } from './receipts.ts';

const ORIGIN = 'cost.test/log';
const tempDir = useTempDirs();

/**
 * Counts, while on: every statement sent to SQLite (kysely's query log sees them all, the
 * migrator's included) and the rows returned by the registry's own queries (a plugin sees every
 * query of the repositories; the migrator's look at sqlite_master reads schema rows, not data).
 */
class QueryCounter implements KyselyPlugin {
  on = false;
  rows = 0;
  queries: CompiledQuery[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    if (this.on) this.rows += args.result.rows.length;
    return args.result;
  }
  log = (e: LogEvent): void => {
    if (this.on) this.queries.push(e.query);
  };
  start(): void {
    Object.assign(this, { on: true, rows: 0, queries: [] });
  }
  stop(): { statements: number; rows: number; queries: CompiledQuery[] } {
    this.on = false;
    return { statements: this.queries.length, rows: this.rows, queries: this.queries };
  }
}

async function open(dataDir: string, counter: QueryCounter): Promise<Registry> {
  return openRegistry({ dataDir, origin: ORIGIN, plugins: [counter], log: counter.log, maxBatchEntries: 20_000 });
}

/** Fills the log to `size` entries through the sequencer's bulk path (same transaction and node-writing code). */
async function fill(reg: Registry, size: number): Promise<void> {
  let n = await reg.reader.size();
  while (n < size) {
    const k = Math.min(5000, size - n);
    const entries: AppendEntry[] = Array.from({ length: k }, (_, i) => {
      const bytes = utf8(`{"bulk":${n + i}}`);
      return { bytes, digest: digestOf(bytes), type: 'Test', subject: `did:web:s${(n + i) % 97}.example`, validFrom: '2026-12-01T00:00:00Z' };
    });
    await reg.sequencer.appendBulk(entries);
    n += k;
  }
}

/** Full scans of the log tables (SQLite EXPLAIN QUERY PLAN says SCAN; index lookups say SEARCH). */
async function scansIn(reg: Registry, queries: CompiledQuery[]): Promise<string[]> {
  const found: string[] = [];
  for (const q of queries.filter((x) => /^\s*select/i.test(x.sql))) {
    const plan = await reg.handle.db.executeQuery(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]));
    for (const row of plan.rows as { detail: string }[]) {
      if (/\bSCAN (entries|tree_nodes|checkpoints|signatories)\b/.test(row.detail)) found.push(`${row.detail} in: ${q.sql}`);
    }
  }
  return found;
}

interface Measured {
  size: number;
  append: { statements: number; rows: number; scans: string[] };
  statementAppend: { statements: number; rows: number; scans: string[] };
  startup: { statements: number; rows: number; scans: string[] };
}

async function measure(size: number): Promise<Measured> {
  const dataDir = await tempDir();
  const counter = new QueryCounter();
  let reg = await open(dataDir, counter);
  await fill(reg, size);

  // One entry, no admission rules.
  counter.start();
  const bytes = utf8(`{"measured":${size}}`);
  const [r] = await reg.sequencer.append({ entries: [{ bytes, digest: digestOf(bytes), type: 'Test', subject: 'did:web:m.example', validFrom: '2026-12-01T00:00:00Z' }] });
  const a = counter.stop();
  verifyReceipt(r!, bytes, reg.keys.logVerifierKey);
  expect(r!.index).toBe(size);

  // A real statement admitted by the registry's rules (signatory lookup and state upsert).
  const s = attestation(reg.keys, label('m'));
  counter.start();
  const [r2] = await reg.sequencer.append(groupOf(reg.keys, s));
  const b = counter.stop();
  verifyReceipt(r2!, s.bytes, reg.keys.logVerifierKey);

  await reg.close();
  counter.start();
  reg = await open(dataDir, counter);
  const c = counter.stop();
  expect(await reg.reader.size()).toBe(size + 2);
  const result: Measured = {
    size,
    append: { statements: a.statements, rows: a.rows, scans: await scansIn(reg, a.queries) },
    statementAppend: { statements: b.statements, rows: b.rows, scans: await scansIn(reg, b.queries) },
    startup: { statements: c.statements, rows: c.rows, scans: await scansIn(reg, c.queries) },
  };
  await reg.close();
  return result;
}

describe('the cost of appending and starting up', () => {
  let small: Measured;
  let large: Measured;
  beforeAll(async () => {
    small = await measure(1_000);
    large = await measure(100_000);
  }, 120_000);
  afterAll(() => undefined);

  it('an append issues the same statements at 1,000 and 100,000 entries, and reads O(log n) rows', () => {
    for (const kind of ['append', 'statementAppend'] as const) {
      expect(large[kind].statements).toBe(small[kind].statements);
      // 13: BEGIN IMMEDIATE and the two busy_timeout pragmas around it (write-transaction.ts asks
      // for the lock without SQLite waiting on this thread), the batch's reads and writes, COMMIT.
      expect(large[kind].statements).toBeLessThanOrEqual(13);
      for (const m of [small, large]) {
        // The right edge of the tree (at most log2 n nodes), the latest checkpoint, a few probes.
        expect(m[kind].rows).toBeLessThanOrEqual(2 * Math.log2(m.size) + 8);
      }
    }
  });

  it('no query of an append scans a log table: every lookup is an index search', () => {
    expect(small.append.scans).toEqual([]);
    expect(large.append.scans).toEqual([]);
    expect(large.statementAppend.scans).toEqual([]);
  });

  it('opening the registry reads the same few rows whatever the size of the log', () => {
    expect(large.startup.statements).toBe(small.startup.statements);
    expect(large.startup.rows).toBe(small.startup.rows);
    expect(large.startup.statements).toBeLessThanOrEqual(12);
    expect(large.startup.rows).toBeLessThanOrEqual(10);
    expect(large.startup.scans).toEqual([]);
  });
});
