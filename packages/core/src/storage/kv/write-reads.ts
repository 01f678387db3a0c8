import { CrmError } from '../../errors/crm-error.js';
import type { Row, WriteOp } from '../storage-adapter.js';
import { fromStored, type StoredRecord, type StoreLayout } from './index-layout.js';
import { encodeString } from './key-encoding.js';

/** What `storedForWrite` asks of the engine, inside the writing transaction, for one store and tenant. */
export interface WriteReads {
  /** At most `cap` stored primary keys `[tenantId, encoded id]` from `lower` to `upper` (encoded ids, inclusive), in key order. */
  keys(lower: string, upper: string, cap: number): Promise<readonly unknown[]>;
  /** The stored record of an encoded id, if any. */
  get(id: string): Promise<StoredRecord | undefined>;
}

const idOf = (op: WriteOp) => (op.type === 'delete' ? op.id : op.row.id);

/**
 * Reads the stored rows a batch of writes must check versions against (`StagedWrites.stage`), for an
 * ordered key-value engine. Ids the transaction already staged are skipped (staging knows them);
 * updates and deletes are fetched by key. Inserts only need to know that nothing is stored: one bounded
 * key probe over the range their ids span usually proves it in a single request — fresh ids are
 * time-ordered and clustered — and only ids found there (or all, if the cap is hit) are fetched.
 *
 * @param ops The write batch.
 * @param staged The transaction's staged rows of the store and tenant.
 * @param reads The engine's key probe and point read.
 * @returns The stored rows found, by id.
 */
export async function storedForWrite(ops: readonly WriteOp[], staged: ReadonlyMap<string, Row | null> | undefined, reads: WriteReads): Promise<Map<string, Row>> {
  const fresh = ops.filter((op) => !staged?.has(idOf(op)));
  const others = new Set(fresh.filter((op) => op.type !== 'insert').map(idOf));
  let probe = fresh.filter((op) => op.type === 'insert' && !others.has(op.row.id)).map((op) => encodeString(idOf(op)));
  if (probe.length > 8) {
    const sorted = [...probe].sort();
    const cap = probe.length + 16;
    const keys = await reads.keys(sorted[0]!, sorted[sorted.length - 1]!, cap);
    if (keys.length < cap) {
      const stored = new Set(keys.map((k) => (k as string[])[1]));
      probe = probe.filter((id) => stored.has(id));
    }
  }
  const records = await Promise.all([...[...others].map(encodeString), ...probe].map((id) => reads.get(id)));
  const found = new Map<string, Row>();
  for (const record of records) {
    const row = record && fromStored(record);
    if (row) found.set(row.id, row);
  }
  return found;
}

/**
 * The name of the multi-entry index over the unique list `field` of a store (its keys are the values
 * alone, across tenants), where `UniqueStaging`'s stored-holder lookups read.
 *
 * @throws CrmError `STORAGE` (not retryable) when the field has no index of its own (a schema bug).
 */
export function uniqueIndexOf(store: StoreLayout, field: string, adapter: string): string {
  const source = store.indexes.find((ix) => ix.multi && ix.fields[0] === field);
  if (!source) throw new CrmError('STORAGE', `The unique field ${field} of ${store.entity} has no index of its own`, { adapter, retryable: false, operation: 'write' });
  return source.name!;
}

/** The id of the record of `tenantId` among the holders of a unique value (read from `uniqueIndexOf`'s index). */
export const holderOf = (records: readonly StoredRecord[], tenantId: string): string | undefined => {
  const holder = records.find((record) => record.tenantId === tenantId);
  return holder && fromStored(holder).id;
};
