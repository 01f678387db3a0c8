import { uniqueConflict } from '../errors/crm-error.js';
import { getPath } from '../query/path.js';
import type { Row } from './storage-adapter.js';
import type { EntitySchema } from './storage-schema.js';

/** The distinct string values of a unique list field of `row` (non-strings are not keys). */
export function uniqueValuesOf(row: Row | undefined, field: string): string[] {
  const value = row && getPath(row, field);
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const v of value) if (typeof v === 'string' && !out.includes(v)) out.push(v);
  return out;
}

/** Finds the id of the stored (committed, or engine-visible) row holding `value` of `field`, if any. */
export type StoredHolder = (field: string, value: string) => string | undefined | Promise<string | undefined>;

/**
 * The unique keys a transaction changed, over what is stored: for adapters that check unique keys
 * themselves (memory, IndexedDB) instead of relying on an engine's unique index. Every write of a
 * unique entity passes through `apply`, in write order, so `holder` knows this transaction's own
 * writes — a key freed earlier in the transaction (`null`) can be taken again.
 */
export class UniqueStaging {
  /** `entity \0 tenant \0 field \0 value` → holder id, `null` when freed in this transaction. */
  readonly keys = new Map<string, string | null>();

  static key(entity: string, tenantId: string, field: string, value: string): string {
    return `${entity}\u0000${tenantId}\u0000${field}\u0000${value}`;
  }

  /**
   * Checks the moves of one write call (row before → after, in order) against the unique fields of
   * `schema`, then records them.
   *
   * @throws CrmError `CONFLICT` (`uniqueConflict`) for the first value another row holds.
   */
  async apply(schema: EntitySchema, tenantId: string, moves: readonly (readonly [Row | undefined, Row | undefined])[], stored: StoredHolder): Promise<void> {
    const fields = schema.unique;
    if (!fields?.length) return;
    for (const [before, after] of moves) {
      for (const field of fields) {
        const old = uniqueValuesOf(before, field);
        const next = uniqueValuesOf(after, field);
        for (const value of old) if (!next.includes(value)) this.keys.set(UniqueStaging.key(schema.name, tenantId, field, value), null);
        if (!after) continue;
        for (const value of next) {
          if (old.includes(value)) continue;
          const key = UniqueStaging.key(schema.name, tenantId, field, value);
          const holder = this.keys.has(key) ? this.keys.get(key) : await stored(field, value);
          if (holder && holder !== after.id) throw uniqueConflict(schema.name, after.id, field, value, holder);
          this.keys.set(key, after.id);
        }
      }
    }
  }
}
