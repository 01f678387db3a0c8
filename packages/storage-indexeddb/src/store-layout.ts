import { CrmError, getPath, type FieldType, type Row, type StorageSchema } from '@crmkit/core';
import { encodeString, encodeValue } from './key-encoding.js';

/**
 * Bumped whenever the way rows are stored or indexed changes; part of the database version so
 * that a new adapter release migrates databases written by an older one.
 */
export const LAYOUT_VERSION = 1;

/** The object store holding one record per entity store: the layout signature its records were written with. */
export const META_STORE = '$meta';

/**
 * What IndexedDB stores for a row. The row itself is kept untouched in `r` (so reads deep-equal
 * writes); `k` and `m` hold the encoded keys the indexes read (see `key-encoding.ts`).
 */
export interface StoredRecord {
  /** Tenant id; the primary key is `[t, i]`. */
  readonly t: string;
  /** `encodeString(row.id)`: ids order by code point in the primary key. */
  readonly i: string;
  /** The row exactly as written. */
  readonly r: Row;
  /** Encoded values of the indexed scalar fields, by property name. */
  readonly k: Readonly<Record<string, IDBValidKey>>;
  /** Multi-entry keys `[t, value, i]` of indexed list fields, by property name. */
  readonly m?: Readonly<Record<string, IDBValidKey[]>>;
}

/** One key source of a store: the object store itself (`name` undefined) or one of its indexes. */
export interface KeySource {
  /** IndexedDB index name; `undefined` for the primary key `[tenant, id]`. */
  readonly name: string | undefined;
  /**
   * Fields whose encoded values follow the tenant in each key. Compound sources end with `id`
   * (unique keys, so batched reads can resume after the last key); a multi-entry source has one list field.
   */
  readonly fields: readonly string[];
  readonly multi: boolean;
  readonly keyPath: string | string[];
  /** Reads the key component of `fields[n]` from a stored record. */
  readonly parts: readonly ((record: StoredRecord) => IDBValidKey)[];
}

export interface StoreLayout {
  readonly entity: string;
  readonly primary: KeySource;
  readonly indexes: readonly KeySource[];
  /** Declared field types, plus `id`. */
  readonly types: Readonly<Record<string, FieldType>>;
  readonly scalars: readonly (readonly [field: string, prop: string, type: FieldType | undefined])[];
  readonly lists: readonly (readonly [field: string, prop: string])[];
  /** Changes whenever the derived keys of stored records would change: records are then rewritten. */
  readonly signature: string;
}

export interface DatabaseLayout {
  readonly version: number;
  readonly stores: ReadonlyMap<string, StoreLayout>;
  readonly storeNames: readonly string[];
}

const FIELD_PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

function propOf(field: string): string {
  // Key paths are dotted identifiers; fields may be dotted paths, so dots become `$` (never in a field name).
  if (!FIELD_PATH.test(field)) {
    throw new CrmError('STORAGE', `Field "${field}" cannot be indexed in IndexedDB`, { adapter: 'indexeddb', retryable: false, operation: 'open' });
  }
  return field.replace(/\./g, '$');
}

const readId = (record: StoredRecord): IDBValidKey => record.i;

/** Derives stores, indexes and key paths from a storage schema. */
export function buildLayout(schema: StorageSchema): DatabaseLayout {
  const stores = new Map<string, StoreLayout>();
  for (const entity of schema.entities) {
    const types: Record<string, FieldType> = { ...entity.fields, id: 'string' };
    const scalars = new Map<string, readonly [string, string, FieldType | undefined]>();
    const lists = new Map<string, readonly [string, string]>();
    const indexes: KeySource[] = entity.indexes.map((spec) => {
      const [only] = spec.fields;
      if (spec.fields.length === 1 && types[only!] === 'string[]') {
        const prop = propOf(only!);
        lists.set(only!, [only!, prop]);
        return { name: spec.name, fields: spec.fields, multi: true, keyPath: `m.${prop}`, parts: [] };
      }
      const fields = spec.fields[spec.fields.length - 1] === 'id' ? [...spec.fields] : [...spec.fields, 'id'];
      const parts = fields.map((field) => {
        if (field === 'id') return readId;
        if (types[field] === 'string[]') {
          throw new CrmError('STORAGE', `Index "${spec.name}" mixes the list field "${field}" with other fields`, { adapter: 'indexeddb', retryable: false, operation: 'open' });
        }
        const prop = propOf(field);
        scalars.set(field, [field, prop, types[field]]);
        return (record: StoredRecord) => record.k[prop]!;
      });
      const keyPath = ['t', ...fields.map((f) => (f === 'id' ? 'i' : `k.${propOf(f)}`))];
      return { name: spec.name, fields, multi: false, keyPath, parts };
    });
    const primary: KeySource = { name: undefined, fields: ['id'], multi: false, keyPath: ['t', 'i'], parts: [readId] };
    const layout: StoreLayout = {
      entity: entity.name,
      primary,
      indexes,
      types,
      scalars: [...scalars.values()],
      lists: [...lists.values()],
      signature: '',
    };
    stores.set(entity.name, { ...layout, signature: JSON.stringify([LAYOUT_VERSION, layout.scalars, layout.lists]) });
  }
  // Layout changes bump the database version within a schema version (≤ 99 layouts per schema version).
  return { version: schema.version * 100 + LAYOUT_VERSION, stores, storeNames: [...stores.keys()] };
}

/** Wraps a row into the record IndexedDB stores, computing the keys its indexes read. */
export function toStored(layout: StoreLayout, row: Row): StoredRecord {
  const i = encodeString(row.id);
  const k: Record<string, IDBValidKey> = {};
  for (const [field, prop, type] of layout.scalars) k[prop] = encodeValue(getPath(row, field), type);
  if (layout.lists.length === 0) return { t: row.tenantId, i, r: row, k };
  const m: Record<string, IDBValidKey[]> = {};
  for (const [field, prop] of layout.lists) {
    const values = getPath(row, field);
    m[prop] = Array.isArray(values) ? values.map((v) => [row.tenantId, encodeValue(v, 'string'), i]) : [];
  }
  return { t: row.tenantId, i, r: row, k, m };
}
