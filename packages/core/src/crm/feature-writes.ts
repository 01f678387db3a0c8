import { parentAccessOf, primaryParent, withAccess, type ParentType } from '../domain/parent-access.js';
import { EXTERNAL_ENTITIES, withExternalKeys } from '../domain/external-keys.js';
import type { RecordBase } from '../schema/record.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import type { Row } from '../storage/storage-adapter.js';
import { wroteParents, type Operation } from './operation.js';

// Writes of an operation that only features make (tasks, activities, imports, consumers, merges, access):
// functions beside `Operation` rather than its methods, so a crm without features does not carry them.

/** Inserts `written` rows of `entity` in one storage write (external keys kept, rows frozen, `op.written` noted). */
export async function insertMany<T extends RecordBase>(op: Operation, entity: string, written: readonly T[]): Promise<void> {
  if (written.length === 0) return;
  const records = EXTERNAL_ENTITIES.has(entity) ? written.map(withExternalKeys) : written;
  await op.write(entity, records.map((r) => ({ type: 'insert' as const, row: deepFreeze(r) as unknown as Row }))).catch((e: unknown) => op.conceal('insert', e));
  if (op.written) for (const r of records) op.written.set(`${entity}:${r.id}`, r as unknown as Row);
}

/**
 * Copies the owner and shares of each child's parent (see `primaryParent`) into the children, before
 * they are written. `known` holds parents not stored yet (a deal created in this operation).
 * Each parent read is locked shared first (key `<entity>:<id>`, see `Operation.update`), unless this transaction
 * wrote it (its row lock orders a concurrent owner change, which then runs again: waiting for the key
 * here could wait in a circle with it) — on PostgreSQL a child never keeps the copy of an owner a
 * concurrent change replaced. A session holding a key exclusively (`lockRecords`) takes it shared at once.
 */
export async function withParentAccess<T extends RecordBase>(op: Operation, children: readonly T[], known: readonly RecordBase[] = []): Promise<T[]> {
  const byKey = new Map<string, RecordBase | undefined>(known.map((r) => [r.id, r]));
  const missing = new Map<ParentType, Set<string>>();
  for (const child of children) {
    const parent = primaryParent(child);
    if (parent && !byKey.has(parent.id)) {
      if (!missing.has(parent.type)) missing.set(parent.type, new Set());
      missing.get(parent.type)!.add(parent.id);
    }
  }
  const keys: string[] = [];
  const wrote = wroteParents.get(op.tx);
  for (const [type, ids] of missing) for (const id of ids) if (!wrote?.has(`${type}:${id}`)) keys.push(`${type}:${id}`);
  await op.tx.lockKeys(op.tenantId, keys, true);
  for (const [type, ids] of missing) {
    const list = [...ids];
    const rows = await op.getMany(type, list);
    list.forEach((id, i) => byKey.set(id, rows[i]));
  }
  return children.map((child) => {
    const parent = primaryParent(child);
    return parent ? withAccess(child, parentAccessOf(parent.type, byKey.get(parent.id))) : child;
  });
}
