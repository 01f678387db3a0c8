import { CrmError } from '@crmkit/core';
import type { EntitySchema, FieldType, StorageSchema } from '@crmkit/core/storage';

/** A table name, optionally inside a PostgreSQL schema. Built only from schema names and validated options. */
export interface TableName {
  readonly schema?: string;
  readonly name: string;
}

/** Field types that live in a real column (lists live in side tables). */
export type ScalarType = Exclude<FieldType, 'string[]'>;

/** A declared scalar field stored in its own column. */
export interface FieldColumn {
  readonly field: string;
  readonly column: string;
  readonly type: ScalarType;
  /** `value.amount` → `['value', 'amount']`, read from the row to fill the column. */
  readonly segments: readonly string[];
  /** Fixed columns (`id`, `version`, `tenant_id`) are written separately and never added by migrations. */
  readonly fixed: boolean;
}

/** A declared `string[]` field: one side-table row per (tenant, value, row id), so `containsAny` is an index lookup. */
export interface ListTable {
  readonly field: string;
  readonly table: TableName;
  readonly segments: readonly string[];
  /** Name of the index over (tenant_id, id) that writes use to replace a row's values. */
  readonly rowIndex: string;
  /** For a unique field (`EntitySchema.unique`): the UNIQUE index over (tenant_id, value) that enforces it. */
  readonly uniqueIndex?: string;
}

/** An index over `tenant_id`, `columns` and `id` (so ties by id come from the index too), then `trailing`. */
export interface IndexLayout {
  readonly name: string;
  readonly columns: readonly string[];
  /** `id` descending: a backward scan then gives `columns DESC, id ASC`, the order of newest-first lists. */
  readonly idDesc?: boolean;
  /** Columns after `id`: never used to seek, only to evaluate filters inside the index (access scopes). */
  readonly trailing?: readonly string[];
  /**
   * Columns of sparse fields (`IndexSpec.sparse`): a partial index `WHERE c IS NOT NULL` for each, so
   * rows without a value cost no entry; the planner uses it only for queries that imply a value.
   */
  readonly sparse?: readonly string[];
}

/** An index the SQL layout adds for crmkit's hot queries (see `COVERING`). */
interface CoveringIndex {
  readonly entity: string;
  readonly name: string;
  readonly fields: readonly string[];
  readonly idDesc?: boolean;
  readonly trailing?: readonly string[];
  /** The schema index this one serves instead of (same leading columns): that one is not created. */
  readonly replaces?: string;
}

/** Everything the adapter stores for one entity. */
export interface EntityTable {
  readonly entity: string;
  readonly table: TableName;
  /** Declared scalar fields with their own column (not the fixed ones). */
  readonly columns: readonly FieldColumn[];
  /** Every queryable scalar field by name, `id` included. */
  readonly scalars: ReadonlyMap<string, FieldColumn>;
  readonly lists: ReadonlyMap<string, ListTable>;
  readonly indexes: readonly IndexLayout[];
  /**
   * Custom fields served by a stored generated column (PostgreSQL runtime indexes, `ensureIndexes`):
   * `<field path>:<type>` (`runtimeColumnKey`) → the column. Filled on open from `crmkit_meta` and by `ensureIndexes`; a query
   * on the field with that type reads the column, which its plain index serves (index-only scans).
   */
  readonly runtimeColumns: Map<string, RuntimeColumn>;
  /**
   * Where rows carry their owner's key (`StorageTx.setOwnerKeys`): the column (`ownerKey` in `scalars`,
   * not in `columns`: no document field fills it) and the position of `ownerId` in `columns`.
   */
  readonly ownerKey?: { readonly column: string; readonly owner: number };
}

/** A stored generated column holding a custom field's typed value (see `EntityTable.runtimeColumns`). */
export interface RuntimeColumn {
  readonly type: ScalarType;
  readonly column: string;
}

/** The physical layout derived from a `StorageSchema`. */
export interface StorageLayout {
  readonly entities: ReadonlyMap<string, EntityTable>;
  /** Key/value table holding the schema and layout versions. */
  readonly meta: TableName;
  /** Append-only log of applied migrations. */
  readonly migrations: TableName;
  /** Counters of `nextSequence`: (tenant_id, name) → last number handed out. */
  readonly sequences: TableName;
  /** SQLite's journal of committed change lists, read by other connections (external changes). */
  readonly changes: TableName;
  /** Owner keys (`StorageTx.setOwnerKeys`): (tenant_id, user_id) → key. */
  readonly ownerKeys: TableName;
  /** SQLite's connections that read the journal (origin → last heartbeat): writers journal only while one does. */
  readonly watchers: TableName;
}

/** Options that shape names. */
export interface LayoutOptions {
  /** PostgreSQL schema holding every table (validated identifier). */
  readonly schema?: string;
  /** Prefix of every table name (validated identifier). */
  readonly tablePrefix?: string;
  /** Adapter name for errors. */
  readonly adapter?: string;
  /** Whether deals carry their owner's key (`StorageCapabilities.ownerKeys`): a column and its index. */
  readonly ownerKeys?: boolean;
}

/** Entities whose rows carry their owner's key, when the layout keeps owner keys. */
export const OWNER_KEYED: readonly string[] = ['deal'];

const NEWEST_OWNER = 'newestOwner:createdAt,-id+ownerId';

/**
 * Extra covering indexes the adapter adds for crmkit's hot queries when the schema has the fields.
 * The pipeline board's per-stage totals (`deals.board`) group deals of a pipeline by stage and currency
 * and sum two amounts: with every column in the index, SQLite and PostgreSQL answer it from the index alone.
 *
 * They are listed by entity, in the compact notation of core's schema (`name:field,field …`),
 * extended with `-id` (`id` descending: a backward scan then gives `columns DESC, id ASC`, the order
 * of newest-first lists), `+field,…` (trailing columns after `id`, never used to seek, only to check
 * filters such as access scopes inside the index) and `/index` (the schema index this one replaces).
 */
const COVERING: Readonly<Record<string, string>> = {
  // The board's totals with `ownerId` last, so an access scope (`owner_id IN (…)`) is checked inside the
  // index; the board's cards with the owner too, so a team's page scans index entries, not rows.
  // `newestOwner`: newest-first lists in index order, so a LIMIT stops the scan early even with an
  // access scope; without it the planner sorts every row an `owner_id IN (…)` filter selects.
  // `teamNewest`: a team's newest deals (`ownerKey = ? AND owner_id IN (…)`), only that team's entries
  // walked; the board's indexes end with the owner key too, so such a scope stays inside them.
  deal: `teamNewest:ownerKey,createdAt,-id+ownerId boardTotalsTeam:pipelineId,stageKey,value.currency,value.amount,weightedValue.amount+ownerId,ownerKey boardTeam:pipelineId,stageKey,stageEnteredAt+ownerId,ownerKey/board ${NEWEST_OWNER}`,
  lead: NEWEST_OWNER,
  contact: NEWEST_OWNER,
  company: NEWEST_OWNER,
};

/** Parses one entity's covering indexes (see `COVERING`). */
function coveringIndexes(entity: string): CoveringIndex[] {
  const spec = COVERING[entity];
  if (!spec) return [];
  return spec.split(' ').map((item) => {
    const [head, replaces] = item.split('/');
    const [named, trailing] = head!.split('+');
    const [name, on] = named!.split(':');
    const fields = on!.split(',');
    const idDesc = fields.includes('-id');
    return {
      entity,
      name: name!,
      fields: fields.filter((f) => f !== '-id'),
      ...(idDesc ? { idDesc } : {}),
      ...(trailing ? { trailing: trailing.split(',') } : {}),
      ...(replaces ? { replaces } : {}),
    };
  });
}

/** Indexes earlier layouts created that a covering index now replaces: dropped on open. */
export const OBSOLETE_INDEXES: Readonly<Record<string, readonly string[]>> = {
  deal: ['boardTotals', 'board', 'boardTotalsOwner', 'boardOwner'],
  // Schema 12's: pull reads on by position and prune through the sparse `tombstone` index since 13.
  syncChange: ['tx', 'tomb'],
};

/** The layout version of this code: bump it (and add a step in `migrations.ts`) when the physical layout changes. */
export const LAYOUT_VERSION = 2;

const SEGMENT = /^[A-Za-z][A-Za-z0-9_]*$/;
const RESERVED = new Set(['tenant_id', 'id', 'version', 'doc']);
const MAX_IDENTIFIER = 63; // PostgreSQL truncates longer names; we shorten them ourselves, deterministically.

let currentAdapter = 'sql';

function schemaError(message: string): CrmError<'STORAGE'> {
  return new CrmError('STORAGE', `Invalid storage schema: ${message}`, { adapter: currentAdapter, retryable: false, operation: 'open' });
}

/** `weightedValue.amount` → `weighted_value__amount`: readable SQL names from schema paths. */
export function columnNameOf(path: string): string {
  return path
    .split('.')
    .map((segment) => segment.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase())
    .join('__');
}

function hash8(text: string): string {
  // FNV-1a, enough to keep shortened names distinct.
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** Shortens identifiers over 63 characters to a stable `prefix_hash` form. */
export function shortIdentifier(name: string): string {
  return name.length <= MAX_IDENTIFIER ? name : `${name.slice(0, MAX_IDENTIFIER - 9)}_${hash8(name)}`;
}

function checkSegments(path: string, what: string): string[] {
  const segments = path.split('.');
  if (!segments.every((s) => SEGMENT.test(s))) throw schemaError(`${what} "${path.slice(0, 80)}" must be dotted identifiers`);
  return segments;
}

function entityLayout(entity: EntitySchema, options: LayoutOptions, taken: Set<string>): EntityTable {
  const [entityName] = checkSegments(entity.name, 'entity name');
  if (entity.name.includes('.')) throw schemaError(`entity name "${entity.name}" must not contain dots`);
  const table: TableName = { ...(options.schema ? { schema: options.schema } : {}), name: shortIdentifier(`${options.tablePrefix ?? ''}${columnNameOf(entityName!)}`) };
  const claim = (name: string) => {
    if (taken.has(name)) throw schemaError(`two tables or indexes would be named "${name}"`);
    taken.add(name);
  };
  claim(table.name);

  const scalars = new Map<string, FieldColumn>();
  scalars.set('id', { field: 'id', column: 'id', type: 'string', segments: ['id'], fixed: true });
  const columns: FieldColumn[] = [];
  const lists = new Map<string, ListTable>();
  const usedColumns = new Set(RESERVED);
  for (const [field, type] of Object.entries(entity.fields)) {
    const segments = checkSegments(field, 'field');
    if (type === 'string[]') {
      const name = shortIdentifier(`${table.name}__${columnNameOf(field)}`);
      claim(name);
      const rowIndex = shortIdentifier(`${name}__by_row`);
      claim(rowIndex);
      let uniqueIndex: string | undefined;
      if (entity.unique?.includes(field)) claim((uniqueIndex = shortIdentifier(`${name}__unique`)));
      lists.set(field, { field, table: { ...table, name }, segments, rowIndex, ...(uniqueIndex ? { uniqueIndex } : {}) });
      continue;
    }
    if (type !== 'string' && type !== 'number' && type !== 'boolean') throw schemaError(`field "${field}" has unknown type "${String(type)}"`);
    if (field === 'id' || field === 'tenantId' || field === 'version') {
      // Same value as the fixed column: reuse it.
      const column = field === 'tenantId' ? 'tenant_id' : field;
      scalars.set(field, { field, column, type, segments, fixed: true });
      continue;
    }
    const column = shortIdentifier(columnNameOf(field));
    if (usedColumns.has(column)) throw schemaError(`field "${field}" of ${entity.name} maps to column "${column}", which is taken`);
    usedColumns.add(column);
    const layout: FieldColumn = { field, column, type, segments, fixed: false };
    columns.push(layout);
    scalars.set(field, layout);
  }

  const owner = columns.findIndex((c) => c.field === 'ownerId' && c.type === 'string');
  const keyed = options.ownerKeys && OWNER_KEYED.includes(entity.name) && owner >= 0 && !scalars.has('ownerKey');
  if (keyed) scalars.set('ownerKey', { field: 'ownerKey', column: 'owner_key', type: 'string', segments: ['ownerKey'], fixed: true });

  const indexes: IndexLayout[] = [];
  const covering = coveringIndexes(entity.name).filter((c) => [...c.fields, ...(c.trailing ?? [])].every((f) => scalars.has(f)));
  const replaced = new Set(covering.map((c) => c.replaces));
  const specs: { name: string; fields: readonly string[]; idDesc?: boolean; trailing?: readonly string[]; sparse?: readonly string[] }[] = [...entity.indexes.filter((i) => !replaced.has(i.name)), ...covering];
  // Core's lists default to newest first (`createdAt desc`): without this index a page sorts the tenant's whole table.
  if (scalars.get('createdAt')?.type === 'string' && !entity.indexes.some((i) => i.fields[0] === 'createdAt')) {
    specs.push({ name: 'crmkitCreated', fields: ['createdAt'] });
  }
  for (const index of specs) {
    checkSegments(index.name, 'index name');
    // List fields are served by their side table; the rest of the index still helps sorting.
    const cols = index.fields.filter((f) => !lists.has(f)).map((f) => {
      const column = scalars.get(f);
      if (!column) throw schemaError(`index "${index.name}" of ${entity.name} names unknown field "${f}"`);
      return column.column;
    });
    if (cols.length === 0) continue;
    const name = shortIdentifier(`${table.name}__${columnNameOf(index.name)}`);
    claim(name);
    const trailing = (index.trailing ?? []).map((f) => scalars.get(f)!.column);
    const sparse = (index.sparse ?? []).filter((f) => scalars.has(f)).map((f) => scalars.get(f)!.column);
    indexes.push({ name, columns: cols.filter((c) => c !== 'id'), ...(index.idDesc ? { idDesc: true } : {}), ...(trailing.length ? { trailing } : {}), ...(sparse.length ? { sparse } : {}) });
  }
  return { entity: entity.name, table, columns, scalars, lists, indexes, runtimeColumns: new Map(), ...(keyed ? { ownerKey: { column: 'owner_key', owner } } : {}) };
}

/**
 * Derives table, column, side-table and index names from a schema. Names come from the schema only
 * (never from query input) and must be identifiers, so they are safe to quote into SQL.
 *
 * @throws CrmError `STORAGE` (not retryable) when the schema has names that are not identifiers or collide.
 */
export function buildLayout(schema: StorageSchema, options: LayoutOptions = {}): StorageLayout {
  currentAdapter = options.adapter ?? 'sql';
  const taken = new Set<string>();
  const prefix = options.tablePrefix ?? '';
  const base = options.schema ? { schema: options.schema } : {};
  const meta: TableName = { ...base, name: `${prefix}crmkit_meta` };
  const migrations: TableName = { ...base, name: `${prefix}crmkit_migrations` };
  const sequences: TableName = { ...base, name: `${prefix}crmkit_sequences` };
  const changes: TableName = { ...base, name: `${prefix}crmkit_changes` };
  const watchers: TableName = { ...base, name: `${prefix}crmkit_watchers` };
  const ownerKeys: TableName = { ...base, name: `${prefix}crmkit_owner_keys` };
  for (const table of [meta, migrations, sequences, changes, watchers, ownerKeys]) taken.add(table.name);
  const entities = new Map<string, EntityTable>();
  for (const entity of schema.entities) {
    if (entities.has(entity.name)) throw schemaError(`entity "${entity.name}" appears twice`);
    entities.set(entity.name, entityLayout(entity, options, taken));
  }
  return { entities, meta, migrations, sequences, changes, watchers, ownerKeys };
}
