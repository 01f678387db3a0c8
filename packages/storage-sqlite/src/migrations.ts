import { type RuntimeIndexSpec, type StorageSchema } from '@crmkit/core/storage';
import { sql } from 'kysely';
import type { SqlDialect, SqlFragment } from './sql-dialect.js';
import { storageFailure } from './storage-errors.js';
import { columnNameOf, LAYOUT_VERSION, OBSOLETE_INDEXES, shortIdentifier, type EntityTable, type RuntimeColumn, type ScalarType, type StorageLayout, type TableName } from './table-layout.js';

/** What migrations need from an engine: run statements inside the migration transaction. */
export interface MigrationExecutor {
  readonly adapter: string;
  readonly dialect: SqlDialect;
  /** Runs a statement; its result is ignored. */
  run(query: SqlFragment): Promise<void>;
  /** Runs a query and returns its rows as arrays. */
  all(query: SqlFragment): Promise<unknown[][]>;
}

/** What one `open` did to the database, also written to the migration log. */
export interface MigrationReport {
  readonly fromSchemaVersion: number | null;
  readonly toSchemaVersion: number;
  readonly actions: readonly string[];
}

function ref(dialect: SqlDialect, table: TableName): SqlFragment {
  return dialect.table(table);
}

async function columnsOf(exec: MigrationExecutor, table: TableName): Promise<Set<string> | undefined> {
  const rows = await exec.all(exec.dialect.columnsQuery(table));
  return rows.length === 0 ? undefined : new Set(rows.map((r) => String(r[0])));
}

/**
 * Gathers planner statistics for the indexes of a table that has statistics but not for them (SQLite):
 * else the planner takes such an index for a very selective one and may sort the whole table through
 * it — schema 9's deal `lead` index, unanalyzed, turned a 1M-deal newest-first page from 1 ms into 7 s.
 */
async function analyzeNewIndexes(exec: MigrationExecutor, t: EntityTable, actions: string[]): Promise<void> {
  const stats = exec.dialect.indexStatistics;
  if (!stats || (await exec.all(stats.kept)).length === 0) return;
  const analyzed = new Set((await exec.all(stats.analyzed(t.table))).map((r) => String(r[0])));
  if (analyzed.size === 0) return; // never analyzed: every index gets the planner's defaults alike
  const missing = t.indexes.map((i) => i.name).filter((name) => !analyzed.has(name));
  for (const name of missing) await exec.run(stats.gather(name));
  if (missing.length) actions.push(`analyze ${missing.join(', ')}`);
}

async function createEntity(exec: MigrationExecutor, t: EntityTable): Promise<void> {
  const { dialect } = exec;
  const columns: SqlFragment[] = [
    sql`"tenant_id" ${dialect.columnType('id')}`,
    sql`"id" ${dialect.columnType('id')}`,
    sql`"version" ${dialect.columnType('version')}`,
    sql`"doc" ${dialect.columnType('doc')}`,
    ...t.columns.map((c) => sql`${sql.id(c.column)} ${dialect.columnType(c.type)}`),
    ...(t.ownerKey ? [sql`${sql.id(t.ownerKey.column)} ${dialect.columnType('string')}`] : []),
    sql`PRIMARY KEY ("tenant_id", "id")`,
  ];
  await exec.run(sql`CREATE TABLE IF NOT EXISTS ${ref(dialect, t.table)} (${sql.join(columns)})`);
}

async function createList(exec: MigrationExecutor, t: EntityTable, field: string): Promise<void> {
  const { dialect } = exec;
  const list = t.lists.get(field)!;
  const id = dialect.columnType('id');
  await exec.run(
    sql`CREATE TABLE IF NOT EXISTS ${ref(dialect, list.table)} ("tenant_id" ${id}, "value" ${id}, "id" ${id}, PRIMARY KEY ("tenant_id", "value", "id"))${dialect.sideTableOptions}`,
  );
  await exec.run(sql`CREATE INDEX IF NOT EXISTS ${sql.id(list.rowIndex)} ON ${ref(dialect, list.table)} ("tenant_id", "id")`);
  // A unique list (external ids): the engine itself refuses a second holder of a value, even from another process.
  if (list.uniqueIndex) await exec.run(sql`CREATE UNIQUE INDEX IF NOT EXISTS ${sql.id(list.uniqueIndex)} ON ${ref(dialect, list.table)} ("tenant_id", "value")`);
}

/**
 * Brings the database to `schema`, forward only, inside the caller's exclusive transaction:
 *
 * 1. creates `crmkit_meta` (versions, the fields each table maintains), `crmkit_migrations` (the log)
 *    and `crmkit_sequences` (the counters of `nextSequence`);
 * 2. refuses a database written by newer code (stored layout or schema version above ours): `STORAGE`,
 *    not retryable — older code must not write tables it does not understand;
 * 3. creates missing entity tables and side tables; adds a column for every newly declared field and
 *    fills it from the stored documents (`doc`), so old rows are filterable at once; does the same
 *    when a field comes back after a schema dropped it (its column may hold stale values);
 * 4. creates missing indexes (`IF NOT EXISTS`; sparse fields make them partial, `WHERE c IS NOT NULL`:
 *    an existing index keeps its definition); columns and indexes a schema no longer declares stay,
 *    unused, so an older reader is never broken by a drop (but `OBSOLETE_INDEXES` are dropped);
 * 5. records the versions and, when anything changed, appends a log entry.
 *
 * Idempotent: a second run with the same schema changes nothing and logs nothing.
 */
export async function migrate(exec: MigrationExecutor, layout: StorageLayout, schema: StorageSchema, now: string): Promise<MigrationReport> {
  const { dialect } = exec;
  const meta = ref(dialect, layout.meta);
  const log = ref(dialect, layout.migrations);
  const id = dialect.columnType('id');
  await exec.run(sql`CREATE TABLE IF NOT EXISTS ${meta} ("key" ${id}, "value" ${dialect.columnType('id')}, PRIMARY KEY ("key"))`);
  await exec.run(
    sql`CREATE TABLE IF NOT EXISTS ${log} ("seq" ${dialect.columnType('version')}, "applied_at" ${id}, "schema_version" ${dialect.columnType('version')}, "layout_version" ${dialect.columnType('version')}, "actions" ${id}, PRIMARY KEY ("seq"))`,
  );
  const stored = new Map<string, string>();
  for (const [key, value] of await exec.all(sql`SELECT "key", "value" FROM ${meta}`)) stored.set(String(key), String(value));
  loadRuntimeColumns(layout, stored);
  // A database already at this exact layout needs no DDL. Skipping it matters on PostgreSQL: CREATE INDEX
  // IF NOT EXISTS locks the table even when the index exists, and a process starting while others write
  // would then wait for them (and they for it: a deadlock).
  const fingerprint = layoutFingerprint(layout, schema);
  if (stored.get('layout_fingerprint') === fingerprint) return { fromSchemaVersion: schema.version, toSchemaVersion: schema.version, actions: [] };
  // nextSequence's counters: one row per (tenant, name), updated in place so the row lock orders writers.
  await exec.run(
    sql`CREATE TABLE IF NOT EXISTS ${ref(dialect, layout.sequences)} ("tenant_id" ${id}, "name" ${id}, "value" ${dialect.columnType('version')}, PRIMARY KEY ("tenant_id", "name"))`,
  );

  const storedLayout = stored.has('layout_version') ? Number(stored.get('layout_version')) : null;
  const storedSchema = stored.has('schema_version') ? Number(stored.get('schema_version')) : null;
  if (storedLayout !== null && storedLayout > LAYOUT_VERSION) {
    throw storageFailure(exec.adapter, 'open', `The database was written by a newer @crmkit/storage-sqlite (layout ${storedLayout}, this code knows ${LAYOUT_VERSION}); upgrade the package`);
  }
  if (storedSchema !== null && storedSchema > schema.version) {
    throw storageFailure(exec.adapter, 'open', `The database has crmkit schema version ${storedSchema}, newer than this code's ${schema.version}; upgrade @crmkit/core`);
  }

  const actions: string[] = [];
  // Owner keys (`StorageTx.setOwnerKeys`): rows added here carry none until the first call stamps them.
  if ([...layout.entities.values()].some((t) => t.ownerKey)) {
    await exec.run(sql`CREATE TABLE IF NOT EXISTS ${ref(dialect, layout.ownerKeys)} ("tenant_id" ${id}, "user_id" ${id}, "key" ${id}, PRIMARY KEY ("tenant_id", "user_id"))`);
  }
  for (const t of layout.entities.values()) {
    const maintainedKey = `fields:${t.entity}`;
    const maintained = new Set<string>(stored.has(maintainedKey) ? (JSON.parse(stored.get(maintainedKey)!) as string[]) : []);
    const existing = await columnsOf(exec, t.table);
    if (!existing) {
      await createEntity(exec, t);
      actions.push(`create table ${t.table.name}`);
    } else {
      for (const c of t.columns) {
        const missing = !existing.has(c.column);
        if (!missing && maintained.has(c.field)) continue;
        if (missing) await exec.run(sql`ALTER TABLE ${ref(dialect, t.table)} ADD COLUMN ${sql.id(c.column)} ${dialect.columnType(c.type)}`);
        await exec.run(sql`UPDATE ${ref(dialect, t.table)} AS "t" SET ${sql.id(c.column)} = ${dialect.customValue(c.segments, c.type)}`);
        actions.push(`${missing ? 'add' : 'refill'} column ${t.table.name}.${c.column}`);
      }
      // Filled by the first `setOwnerKeys` of each tenant (crmkit's: the next directory change or reindex).
      if (t.ownerKey && !existing.has(t.ownerKey.column)) {
        await exec.run(sql`ALTER TABLE ${ref(dialect, t.table)} ADD COLUMN ${sql.id(t.ownerKey.column)} ${dialect.columnType('string')}`);
        actions.push(`add column ${t.table.name}.${t.ownerKey.column}`);
      }
    }
    for (const [field, list] of t.lists) {
      const sideExists = existing ? (await columnsOf(exec, list.table)) !== undefined : false;
      if (sideExists && maintained.has(field)) continue;
      await createList(exec, t, field);
      if (existing) {
        if (sideExists) await exec.run(sql`DELETE FROM ${ref(dialect, list.table)}`);
        await exec.run(dialect.backfillList(list.table, t.table, list.segments));
        actions.push(`fill list table ${list.table.name}`);
      } else actions.push(`create list table ${list.table.name}`);
    }
    for (const index of t.indexes) {
      const columns = [sql`"tenant_id"`, ...index.columns.map((c) => dialect.indexColumn(c)), index.idDesc ? sql`"id" DESC` : sql`"id"`, ...(index.trailing ?? []).map((c) => sql.id(c))];
      const partial = index.sparse?.length ? sql` WHERE ${sql.join(index.sparse.map((c) => sql`${sql.id(c)} IS NOT NULL`), sql` AND `)}` : sql``;
      await exec.run(sql`CREATE INDEX IF NOT EXISTS ${sql.id(index.name)} ON ${ref(dialect, t.table)} (${sql.join(columns)})${partial}`);
    }
    if (existing) await analyzeNewIndexes(exec, t, actions);
    for (const name of OBSOLETE_INDEXES[t.entity] ?? []) {
      const obsolete = shortIdentifier(`${t.table.name}__${columnNameOf(name)}`);
      if (t.indexes.some((i) => i.name === obsolete)) continue;
      const qualified = t.table.schema ? sql`${sql.id(t.table.schema)}.${sql.id(obsolete)}` : sql.id(obsolete);
      await exec.run(sql`DROP INDEX IF EXISTS ${qualified}`);
    }
    const fields = JSON.stringify([...t.columns.map((c) => c.field), ...t.lists.keys()].sort());
    if (stored.get(maintainedKey) !== fields) await upsert(exec, meta, maintainedKey, fields);
  }

  await upsert(exec, meta, 'layout_fingerprint', fingerprint);
  const versionChanged = storedSchema !== schema.version || storedLayout !== LAYOUT_VERSION;
  if (versionChanged) {
    await upsert(exec, meta, 'schema_version', String(schema.version));
    await upsert(exec, meta, 'layout_version', String(LAYOUT_VERSION));
  }
  if (versionChanged || actions.length > 0) {
    const summary = JSON.stringify({ from: storedSchema, to: schema.version, actions });
    await exec.run(
      sql`INSERT INTO ${log} ("seq", "applied_at", "schema_version", "layout_version", "actions") SELECT COALESCE(MAX("seq"), 0) + 1, ${now}, ${schema.version}, ${LAYOUT_VERSION}, ${summary} FROM ${log}`,
    );
  }
  return { fromSchemaVersion: storedSchema, toSchemaVersion: schema.version, actions };
}

async function upsert(exec: MigrationExecutor, meta: SqlFragment, key: string, value: string): Promise<void> {
  await exec.run(sql`INSERT INTO ${meta} ("key", "value") VALUES (${key}, ${value}) ON CONFLICT ("key") DO UPDATE SET "value" = excluded."value"`);
}

/**
 * Identifies everything `migrate` creates for a layout and schema (tables, columns, side tables,
 * indexes, versions): equal fingerprints mean the database already has all of it.
 */
function layoutFingerprint(layout: StorageLayout, schema: StorageSchema): string {
  const tables = [...layout.entities.values()].map((t) => ({
    table: t.table,
    columns: t.columns.map((c) => [c.column, c.type, c.field]),
    lists: [...t.lists.values()].map((l) => [l.table, l.field, l.rowIndex, ...(l.uniqueIndex ? [l.uniqueIndex] : [])]),
    indexes: t.indexes,
    ...(t.ownerKey ? { ownerKey: t.ownerKey } : {}),
  }));
  const text = JSON.stringify({ v: [schema.version, LAYOUT_VERSION], meta: layout.meta, migrations: layout.migrations, sequences: layout.sequences, ownerKeys: layout.ownerKeys, tables });
  // FNV-1a over the text, twice with different offsets: a short, stable key.
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    a = Math.imul(a ^ text.charCodeAt(i), 0x01000193) >>> 0;
    b = Math.imul(b ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}:${text.length}`;
}

const RUNTIME_TYPES: readonly ScalarType[] = ['string', 'number', 'boolean'];

/**
 * The name of the runtime index over a custom field of one type: `<table>__rt__custom__<key>__<type>`
 * (shortened past 63 characters). The type is part of the name because the index is (SQLite) or
 * covers (PostgreSQL) the field's *typed* value: a field redefined with another type needs another
 * index, and an untyped name made `CREATE INDEX IF NOT EXISTS` keep the old type's one silently.
 */
export function runtimeIndexName(t: EntityTable, field: string, type: ScalarType): string {
  return shortIdentifier(`${t.table.name}__rt__${columnNameOf(field)}__${type}`);
}

/** The stored generated column of a runtime index on PostgreSQL: `rt__custom__<key>__<type>`. */
export function runtimeColumnName(field: string, type: ScalarType): string {
  return shortIdentifier(`rt__${columnNameOf(field)}__${type}`);
}

/** The untyped name earlier versions gave a runtime index: dropped when the field's index is ensured. */
function legacyRuntimeIndexName(t: EntityTable, field: string): string {
  return shortIdentifier(`${t.table.name}__rt__${columnNameOf(field)}`);
}

/** `crmkit_meta` key of an entity's runtime columns (a list of field, type and column), read on open. */
const runtimeKey = (t: EntityTable) => `runtime:${t.entity}`;

/** The key of a runtime column in `EntityTable.runtimeColumns`: a field may have one per type. */
export function runtimeColumnKey(field: string, type: ScalarType): string {
  return `${field}:${type}`;
}

interface RuntimeEntry extends RuntimeColumn {
  readonly field: string;
}

/** Reads the runtime columns recorded in `crmkit_meta` into the layout (`EntityTable.runtimeColumns`). */
function loadRuntimeColumns(layout: StorageLayout, stored: ReadonlyMap<string, string>): void {
  for (const t of layout.entities.values()) {
    t.runtimeColumns.clear();
    const text = stored.get(runtimeKey(t));
    if (!text) continue;
    for (const { field, type, column } of JSON.parse(text) as RuntimeEntry[]) t.runtimeColumns.set(runtimeColumnKey(field, type), { type, column });
  }
}

function indexRef(t: EntityTable, name: string): SqlFragment {
  return t.table.schema ? sql`${sql.id(t.table.schema)}.${sql.id(name)}` : sql.id(name);
}

/**
 * Creates the runtime index of one custom field and type (`ensureIndexes`) unless it exists, inside the
 * engine's DDL transaction, running only the statements that change something (the catalog is read
 * first: on PostgreSQL even `… IF NOT EXISTS` takes a table lock):
 *
 * - SQLite: an expression index `(tenant_id, <the typed value>, id)`, the expression being exactly the
 *   one queries use (`customValue`), so every connection's planner picks it up by itself;
 * - PostgreSQL (and PGlite): a `STORED` generated column holding that same expression, and a plain
 *   index `(tenant_id, column, id)` on it, recorded in `crmkit_meta` so every adapter that opens
 *   later queries the column. PostgreSQL never answers an aggregate from an expression index alone (no
 *   index-only scan), so grouping by the field visited every row. Adding the column rewrites the
 *   table under an ACCESS EXCLUSIVE lock: on a big table, run it in a maintenance window
 *   (docs/querying.md).
 *
 * Names carry the type: a field redefined with another type (or the same key with another type in
 * another tenant: indexes are per table, definitions per tenant) gets its own index, and the other
 * type's stays, like every index crmkit made. The untyped index of earlier versions is dropped: its type
 * is unknown, and each tenant's start-up ensures the typed one it needs.
 *
 * Plain `CREATE INDEX` (not `CONCURRENTLY`): it runs in the migration transaction; on a big
 * PostgreSQL table create it `CONCURRENTLY` beforehand under the same name and this does nothing.
 *
 * @returns The column now serving the field with this type (PostgreSQL), or `undefined` (SQLite).
 */
export async function createRuntimeIndex(exec: MigrationExecutor, layout: StorageLayout, t: EntityTable, spec: RuntimeIndexSpec): Promise<RuntimeColumn | undefined> {
  const { dialect } = exec;
  const table = ref(dialect, t.table);
  const indexes = new Set((await exec.all(dialect.indexesQuery(t.table))).map((r) => String(r[0])));
  const name = runtimeIndexName(t, spec.field, spec.type);
  const legacy = legacyRuntimeIndexName(t, spec.field);
  if (indexes.has(legacy) && !RUNTIME_TYPES.some((type) => runtimeIndexName(t, spec.field, type) === legacy)) {
    await exec.run(sql`DROP INDEX ${indexRef(t, legacy)}`);
  }
  const expr = dialect.customValue(spec.field.split('.'), spec.type, sql.id('doc'));
  if (!dialect.storedRuntimeColumns) {
    if (!indexes.has(name)) await exec.run(sql`CREATE INDEX ${sql.id(name)} ON ${table} ("tenant_id", ${dialect.indexExpression(expr)}, "id")`);
    return undefined;
  }
  const columns = (await columnsOf(exec, t.table)) ?? new Set<string>();
  const column = runtimeColumnName(spec.field, spec.type);
  if (!columns.has(column)) await exec.run(sql`ALTER TABLE ${table} ADD COLUMN ${sql.id(column)} ${dialect.columnType(spec.type)} GENERATED ALWAYS AS (${expr}) STORED`);
  if (!indexes.has(name)) await exec.run(sql`CREATE INDEX ${sql.id(name)} ON ${table} ("tenant_id", ${dialect.indexColumn(column)}, "id")`);
  // The registry every adapter reads on open: read it here, under the DDL lock, so concurrent ensures merge.
  const meta = ref(dialect, layout.meta);
  const rows = await exec.all(sql`SELECT "value" FROM ${meta} WHERE "key" = ${runtimeKey(t)}`);
  const registry = rows.length ? (JSON.parse(String(rows[0]![0])) as RuntimeEntry[]) : [];
  if (!registry.some((e) => e.field === spec.field && e.type === spec.type && e.column === column)) {
    const next = [...registry.filter((e) => !(e.field === spec.field && e.type === spec.type)), { field: spec.field, type: spec.type, column }];
    await upsert(exec, meta, runtimeKey(t), JSON.stringify(next));
  }
  return { type: spec.type, column };
}
