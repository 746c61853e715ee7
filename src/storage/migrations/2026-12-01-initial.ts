/**
 * The initial schema. RELEASED: never edit this file; change the schema with a new dated
 * migration (kysely Migrator runs them in name order, once each).
 *
 * Append-only is enforced by the database itself, on both engines, so it holds whatever code (or
 * operator at a SQL prompt) touches the tables:
 * - UPDATE and DELETE on entries, tree_nodes and checkpoints raise an error (PostgreSQL also
 *   refuses TRUNCATE);
 * - SQLite's INSERT OR REPLACE deletes a conflicting row WITHOUT firing delete triggers (unless
 *   recursive_triggers is on), so inserts that collide with an existing row are refused by a
 *   BEFORE INSERT trigger too;
 * - entries are contiguous (the next index is always max + 1), and a checkpoint's size must grow
 *   and equal the number of stored entries: a checkpoint always covers exactly what is stored.
 */
import { sql, type Kysely } from 'kysely';

export type Engine = 'sqlite' | 'postgres';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations are frozen against the schema of their day, not today's types
export async function up(db: Kysely<any>, engine: Engine): Promise<void> {
  const int64 = engine === 'sqlite' ? 'integer' : 'bigint';
  const blob = engine === 'sqlite' ? 'blob' : 'bytea';
  const bytes = (col: string) => (engine === 'sqlite' ? sql`length(${sql.ref(col)})` : sql`octet_length(${sql.ref(col)})`);

  await db.schema
    .createTable('meta')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();

  // SQLite: `integer primary key` makes idx the rowid, so the entries table is one B-tree by index.
  await db.schema
    .createTable('entries')
    .addColumn('idx', int64, (c) => c.primaryKey().check(sql`idx >= 0`))
    .addColumn('digest', 'text', (c) => c.notNull().unique())
    .addColumn('bytes', blob, (c) => c.notNull().check(sql`${bytes('bytes')} between 1 and 65535`))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('valid_from', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('entries_subject_idx').on('entries').columns(['subject', 'idx']).execute();
  await db.schema.createIndex('entries_type_idx').on('entries').columns(['type', 'idx']).execute();

  let treeNodes = db.schema
    .createTable('tree_nodes')
    .addColumn('level', 'integer', (c) => c.notNull().check(sql`level between 0 and 63`))
    .addColumn('idx', int64, (c) => c.notNull().check(sql`idx >= 0`))
    .addColumn('hash', blob, (c) => c.notNull().check(sql`${bytes('hash')} = 32`))
    .addPrimaryKeyConstraint('tree_nodes_pk', ['level', 'idx']);
  // SQLite: a WITHOUT ROWID table is the primary-key B-tree itself, so a tile is one range scan.
  if (engine === 'sqlite') treeNodes = treeNodes.modifyEnd(sql`without rowid`);
  await treeNodes.execute();

  await db.schema
    .createTable('checkpoints')
    .addColumn('size', int64, (c) => c.primaryKey().check(sql`size >= 1`))
    .addColumn('root', blob, (c) => c.notNull().check(sql`${bytes('root')} = 32`))
    .addColumn('note', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('signatories')
    .addColumn('did', 'text', (c) => c.primaryKey())
    .addColumn('domain', 'text', (c) => c.notNull())
    .addColumn('name', 'text')
    .addColumn('status', 'text')
    .addColumn('since', 'text')
    .addColumn('updated_idx', int64, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('signatories_domain_idx').on('signatories').column('domain').execute();
  await db.schema.createIndex('signatories_status_idx').on('signatories').columns(['status', 'domain']).execute();

  if (engine === 'sqlite') await sqliteTriggers(db);
  else await postgresTriggers(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function sqliteTriggers(db: Kysely<any>): Promise<void> {
  for (const table of ['entries', 'tree_nodes', 'checkpoints']) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
         BEGIN SELECT RAISE(ABORT, '${table} is append-only: UPDATE refused'); END`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
         BEGIN SELECT RAISE(ABORT, '${table} is append-only: DELETE refused'); END`,
      )
      .execute(db);
  }
  await sql
    .raw(
      `CREATE TRIGGER entries_append_in_order BEFORE INSERT ON entries
       WHEN NEW.idx IS NOT COALESCE((SELECT MAX(idx) FROM entries), -1) + 1
       BEGIN SELECT RAISE(ABORT, 'entries is append-only: a new entry must take the next index'); END`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER entries_no_replace BEFORE INSERT ON entries
       WHEN EXISTS (SELECT 1 FROM entries WHERE digest = NEW.digest)
       BEGIN SELECT RAISE(ABORT, 'entries is append-only: these bytes are already logged'); END`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER tree_nodes_no_replace BEFORE INSERT ON tree_nodes
       WHEN EXISTS (SELECT 1 FROM tree_nodes WHERE level = NEW.level AND idx = NEW.idx)
       BEGIN SELECT RAISE(ABORT, 'tree_nodes is append-only: this node is already stored'); END`,
    )
    .execute(db);
  await sql
    .raw(
      `CREATE TRIGGER checkpoints_grow BEFORE INSERT ON checkpoints
       WHEN NEW.size <= COALESCE((SELECT MAX(size) FROM checkpoints), 0)
         OR NEW.size IS NOT COALESCE((SELECT MAX(idx) FROM entries), -1) + 1
       BEGIN SELECT RAISE(ABORT, 'checkpoints is append-only: a new checkpoint must be larger than the last and cover exactly the stored entries'); END`,
    )
    .execute(db);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function postgresTriggers(db: Kysely<any>): Promise<void> {
  await sql
    .raw(
      `CREATE FUNCTION accord_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
           USING ERRCODE = 'restrict_violation';
       END $$`,
    )
    .execute(db);
  for (const table of ['entries', 'tree_nodes', 'checkpoints']) {
    await sql
      .raw(
        `CREATE TRIGGER ${table}_append_only BEFORE UPDATE OR DELETE ON ${table}
         FOR EACH ROW EXECUTE FUNCTION accord_refuse_change()`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TRIGGER ${table}_no_truncate BEFORE TRUNCATE ON ${table}
         FOR EACH STATEMENT EXECUTE FUNCTION accord_refuse_change()`,
      )
      .execute(db);
  }
  // A row-level BEFORE trigger sees the rows an earlier part of the same INSERT wrote, so a
  // multi-row insert of consecutive indexes passes and anything else is refused.
  await sql
    .raw(
      `CREATE FUNCTION accord_entries_in_order() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE expected bigint;
       BEGIN
         SELECT COALESCE(MAX(idx), -1) + 1 INTO expected FROM entries;
         IF NEW.idx IS DISTINCT FROM expected THEN
           RAISE EXCEPTION 'entries is append-only: a new entry must take index %, got %', expected, NEW.idx
             USING ERRCODE = 'restrict_violation';
         END IF;
         RETURN NEW;
       END $$`,
    )
    .execute(db);
  await sql
    .raw(`CREATE TRIGGER entries_append_in_order BEFORE INSERT ON entries FOR EACH ROW EXECUTE FUNCTION accord_entries_in_order()`)
    .execute(db);
  await sql
    .raw(
      `CREATE FUNCTION accord_checkpoints_grow() RETURNS trigger LANGUAGE plpgsql AS $$
       DECLARE last_size bigint; stored bigint;
       BEGIN
         SELECT COALESCE(MAX(size), 0) INTO last_size FROM checkpoints;
         SELECT COALESCE(MAX(idx), -1) + 1 INTO stored FROM entries;
         IF NEW.size <= last_size OR NEW.size IS DISTINCT FROM stored THEN
           RAISE EXCEPTION 'checkpoints is append-only: a new checkpoint must be larger than % and cover the % stored entries, got size %', last_size, stored, NEW.size
             USING ERRCODE = 'restrict_violation';
         END IF;
         RETURN NEW;
       END $$`,
    )
    .execute(db);
  await sql
    .raw(`CREATE TRIGGER checkpoints_grow BEFORE INSERT ON checkpoints FOR EACH ROW EXECUTE FUNCTION accord_checkpoints_grow()`)
    .execute(db);
}
