import { CrmError } from '../../errors/crm-error.js';
import { getPath } from '../../query/path.js';
import type { Row } from '../storage-adapter.js';
import type { AggregateViewSpec, EntitySchema, FieldType, StorageSchema } from '../storage-schema.js';
import { encodeValue, MISSING } from './key-encoding.js';

/** Runtime indexes (custom fields, `ensureIndexes`) are named `$` + the field path. */
export const RUNTIME_INDEX = '$';

/**
 * What an ordered key-value engine with key-path indexes (IndexedDB) stores for a row: the row itself whenever its indexed values are already
 * order-faithful keys (strings below U+D800, finite numbers) — the common case — else a copy in which
 * - an absent top-level indexed field holds `MISSING` (`-Infinity`), and
 * - any other replaced value (null, boolean, text with code units ≥ U+D800, an object, a nested path)
 *   has its original top-level value kept in `$` (`[]`: absent),
 * except that a missing or `null` sparse field (`StoreLayout.sparse`) stays as it is.
 * So a top-level `MISSING` without a `$` entry is always a placeholder (a row's own `-Infinity` is kept
 * in `$`), every row is in every compound index but the sparse ones it has no value for, and
 * `fromStored` gives back exactly what was written.
 * Indexed list fields are indexed multi-entry as they are (their values are compared only for equality).
 */
export type StoredRecord = Row & { $?: Record<string, [] | [unknown]> };

/** One key source of a store: the object store itself (`name` undefined) or one of its indexes. */
export interface KeySource {
  /** Index name in the engine; `undefined` for the primary key `[tenantId, id]`. */
  readonly name: string | undefined;
  /**
   * Fields whose encoded values follow the tenant in each key. Compound sources end with `id`
   * (unique keys, so batched reads can resume after the last key); a multi-entry source has one list field.
   */
  readonly fields: readonly string[];
  readonly multi: boolean;
  readonly keyPath: string | string[];
  /**
   * Its sparse fields (`IndexSpec.sparse`): rows without a value (missing or `null`) at one of them are
   * not in it, so read it only when the filter requires each to hold a value. The engine name is the
   * index name plus `?` and these fields, so that changing them makes a new index (built from the rows again).
   */
  readonly sparse?: readonly string[];
}

export interface StoreLayout {
  readonly entity: string;
  readonly primary: KeySource;
  readonly indexes: readonly KeySource[];
  /** Declared field types, plus `id`. */
  readonly types: Readonly<Record<string, FieldType>>;
  /** Indexed scalar fields (and `id`): their stored values must be encoded keys. */
  readonly scalars: readonly string[];
  /** Top-level fields that are sparse in every index over them: missing or `null`, they stay as they are (no placeholder). */
  readonly sparse: ReadonlySet<string>;
  /** The entity's schema (its materialized aggregates are answered from `VIEWS`). */
  readonly schema: EntitySchema;
  /** Materialized aggregates, with their key in `VIEWS` (`entity.name`). */
  readonly views: readonly { readonly key: string; readonly view: AggregateViewSpec }[];
}

/** A source over one runtime-indexed field: keys `[tenantId, value, id]`. */
const runtimeSource = (field: string): KeySource => ({ name: RUNTIME_INDEX + field, fields: [field, 'id'], multi: false, keyPath: ['tenantId', field, 'id'] });

/** `store` with runtime indexes over `fields` too (those it has already are kept once). */
export function withRuntimeIndexes(store: StoreLayout, fields: Iterable<string>): StoreLayout {
  const add = [...new Set(fields)].filter((f) => !store.indexes.some((ix) => ix.name === RUNTIME_INDEX + f));
  if (!add.length) return store;
  return {
    ...store,
    indexes: [...store.indexes, ...add.map(runtimeSource)],
    types: { ...store.types, ...Object.fromEntries(add.map((f) => [f, 'string' as const])) },
    scalars: [...store.scalars, ...add],
  };
}

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const own = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key);

/**
 * Derives stores, key sources and key paths from a storage schema: one store per entity keyed
 * `[tenantId, id]`, one compound key source per index (`[tenantId, …fields, id]`), one multi-entry
 * source per indexed list field. A field stays sparse only when it is top-level, not a list, and sparse in
 * every index over it (one placeholder rule per field).
 *
 * @param schema The storage schema.
 * @param adapter The adapter name for errors.
 * @returns The layout of every store, by entity name.
 * @throws CrmError `STORAGE` when an index cannot be a key path (a field that is not a dotted
 *   identifier, a list field indexed together with others).
 */
export function buildStoreLayouts(schema: StorageSchema, adapter: string): Map<string, StoreLayout> {
  const stores = new Map<string, StoreLayout>();
  for (const entity of schema.entities) {
    const types: Record<string, FieldType> = { ...entity.fields, id: 'string' };
    const scalars = new Set(['id']);
    const sparse = new Set(entity.indexes.flatMap((i) => i.sparse ?? []).filter((f) => !f.includes('.') && types[f] !== 'string[]'));
    for (const spec of entity.indexes) for (const f of spec.fields) if (!spec.sparse?.includes(f)) sparse.delete(f);
    const indexes = entity.indexes.map((spec): KeySource => {
      for (const field of spec.fields) {
        // Key paths are dotted identifiers; a list field can only be indexed alone (multi-entry).
        if (!FIELD_PATH.test(field) || (types[field] === 'string[]' && spec.fields.length > 1)) {
          throw new CrmError('STORAGE', `${adapter} cannot build index "${spec.name}" of ${entity.name}`, { adapter, retryable: false, operation: 'open' });
        }
      }
      const [first] = spec.fields;
      if (types[first!] === 'string[]') return { name: spec.name, fields: spec.fields, multi: true, keyPath: first! };
      const fields = spec.fields[spec.fields.length - 1] === 'id' ? spec.fields : [...spec.fields, 'id'];
      fields.forEach((f) => scalars.add(f));
      const mine = fields.filter((f) => sparse.has(f));
      const source: KeySource = { name: spec.name, fields, multi: false, keyPath: ['tenantId', ...fields] };
      return mine.length ? { ...source, name: `${spec.name}?${mine.join(',')}`, sparse: mine } : source;
    });
    stores.set(entity.name, {
      entity: entity.name,
      indexes,
      types,
      scalars: [...scalars],
      sparse,
      primary: { name: undefined, fields: ['id'], multi: false, keyPath: ['tenantId', 'id'] },
      schema: entity,
      views: (entity.aggregates ?? []).map((view) => ({ key: `${entity.name}.${view.name}`, view })),
    });
  }
  return stores;
}

/** The record to store for a row (the row itself when nothing needs encoding). Never mutates `row`. */
export function toStored(layout: StoreLayout, row: Row): StoredRecord {
  let copy: Record<string, unknown> | undefined;
  let patch: Record<string, [] | [unknown]> | undefined;
  const keep = (top: string) => {
    patch ??= {};
    if (!own(patch, top)) patch[top] = own(row, top) ? [row[top]] : [];
  };
  for (const field of layout.scalars) {
    const value = getPath(row, field);
    const key = encodeValue(value);
    // A missing value of a sparse field stays missing: IndexedDB leaves the row out of the index.
    if (key === value || (key === MISSING && layout.sparse.has(field))) continue;
    const keys = field.split('.');
    // Only a field absent from the top down is restored by deleting the placeholder.
    if (value !== undefined || own(row, keys[0]!)) keep(keys[0]!);
    let target = (copy ??= { ...row });
    for (const name of keys.slice(0, -1)) {
      const child = target[name];
      const isObject = child !== null && typeof child === 'object' && !Array.isArray(child);
      if (!isObject) keep(keys[0]!);
      target = target[name] = isObject ? { ...child } : {};
    }
    target[keys[keys.length - 1]!] = key;
  }
  for (const key in row) if (key === '$' || row[key] === MISSING) keep(key);
  if (!copy && !patch) return row;
  copy ??= { ...row };
  if (patch) copy.$ = patch;
  return copy as StoredRecord;
}

const hasPlaceholder = (stored: Record<string, unknown>) => {
  for (const key in stored) if (stored[key] === MISSING) return true;
  return false;
};

/**
 * Turns a record read from IndexedDB back into the row that was written: the record itself when it holds
 * no placeholder and no `$`, else a new object without them (originals restored in place). Not deleting
 * keeps rows fast: V8 turns a deserialized object whose properties are deleted into a slow dictionary
 * object (measured in Chromium; board reads would allocate one per card and read them slower after).
 */
export function fromStored(record: StoredRecord): Row {
  const stored = record as Record<string, unknown>;
  const patch = record.$;
  if (!patch && !hasPlaceholder(stored)) return record;
  const row: Record<string, unknown> = {};
  for (const key in stored) {
    const original = patch && own(patch, key) ? patch[key]! : undefined;
    if (original) {
      if (original.length) row[key] = original[0];
    } else if (key !== '$' && stored[key] !== MISSING) row[key] = stored[key];
  }
  return row as Row;
}
