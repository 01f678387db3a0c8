import { CRM_STORAGE_SCHEMA, uniqueValuesOf, type Row, type StorageTx, type WriteOp } from '@crmkit/core/storage';
import { shownVersion, type ShadowRow } from './replica-storage.js';

/** A record a pull page writes: its pulled row (`null`: it left). */
export interface PageRecord {
  readonly entity: string;
  readonly id: string;
  readonly row: Row | null;
}

/** The unique list fields of each entity (`EntitySchema.unique`: external keys today). */
const UNIQUE: ReadonlyMap<string, readonly string[]> = new Map(CRM_STORAGE_SCHEMA.entities.filter((e) => e.unique?.length).map((e) => [e.name, e.unique!]));

/** The most values one `containsAny` may list (core's `LIMITS.ids`). */
const CHUNK = 1000;

/**
 * Stale holders of a page's unique keys, evicted (review13 R8). A page brings records at the server's
 * current state, but a record the device still holds at an older state can carry a key a pulled record
 * holds now (the key moved, and the old holder changed again later: its change row sits further on).
 * The older holder's newer state comes later in this pull (or it was deleted or left the scope: its tag
 * does), so its stale copy goes: its live row is deleted (its tag stays: a later row or `gone` finds it),
 * and a shadow base holding the key becomes `null` (a rebase would restore it beside the new holder).
 * A local command that gave a record the key is replayed by the rebase and refused there (`localError`):
 * the server decides. Writes go to `add` (deletes before inserts, as the page's own).
 *
 * @param records The page's records: the page rewrites their shadow when they have one, else their live row;
 *   what it rewrites is not evicted.
 */
export async function evictStaleHolders(tx: StorageTx, tenantId: string, records: readonly PageRecord[], add: (entity: string, op: WriteOp) => void): Promise<void> {
  let shadows: ShadowRow[] | undefined;
  for (const [entity, fields] of UNIQUE) {
    const mine = records.filter((r) => r.entity === entity);
    // value → the pulled record holding it.
    const held = new Map<string, string>();
    for (const { row } of mine) if (row) for (const field of fields) for (const value of uniqueValuesOf(row, field)) held.set(`${field}\u0000${value}`, row.id);
    if (!held.size) continue;
    // Shadows are few (records changed by pending commands) and their base rows are not indexed: read them all once.
    shadows ??= (await tx.query('syncShadow', tenantId, {})).rows as ShadowRow[];
    const shadowed = new Set(shadows.filter((s) => s.entity === entity).map((s) => s.recordId));
    const inPage = new Set(mine.map((r) => r.id));
    const clashes = (row: Row) => fields.some((field) => uniqueValuesOf(row, field).some((value) => {
      const holder = held.get(`${field}\u0000${value}`);
      return holder !== undefined && holder !== row.id;
    }));
    const evicted = new Set<string>();
    for (const field of fields) {
      const values = [...held.keys()].filter((k) => k.startsWith(`${field}\u0000`)).map((k) => k.slice(field.length + 1));
      for (let i = 0; i < values.length; i += CHUNK) {
        const { rows } = await tx.query(entity, tenantId, { filter: { op: 'containsAny', field, values: values.slice(i, i + CHUNK) } });
        for (const row of rows) {
          // A page record's live row is rewritten unless a shadow takes its pulled row (its optimistic row stays).
          if ((inPage.has(row.id) && !shadowed.has(row.id)) || evicted.has(row.id) || !clashes(row)) continue;
          evicted.add(row.id);
          add(entity, { type: 'delete', id: row.id });
        }
      }
    }
    for (const shadow of shadows) {
      if (shadow.entity !== entity || !shadow.row || inPage.has(shadow.recordId) || !clashes(shadow.row)) continue;
      add('syncShadow', { type: 'update', row: { ...shadow, version: shadow.version + 1, row: null, shown: shownVersion(shadow) }, expectedVersion: shadow.version });
    }
  }
}
