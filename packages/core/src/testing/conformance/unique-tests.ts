import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { Row, StorageAdapter, WriteOp } from '../../storage/storage-adapter.js';
import { readAll, rejection, seed, type Harness } from './harness.js';

/** A contact row holding external keys (the unique list of the crm schema). */
function contactRow(id: string, keys: readonly string[], fields: Record<string, unknown> = {}, tenantId = 't1'): Row {
  return { id, tenantId, version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z', name: id, externalKeys: [...keys], ...fields } as Row;
}

function write(adapter: StorageAdapter, ops: readonly WriteOp[], tenantId = 't1'): Promise<void> {
  return adapter.transaction('rw', (tx) => tx.write('contact', tenantId, ops));
}

/** Expects a unique-key `CONFLICT` naming the field, the value and (when given) the holder — never `STORAGE`. */
function expectUniqueConflict(error: unknown, value: string, heldBy?: string): void {
  expect(isCrmError(error, 'CONFLICT'), String(error)).toBe(true);
  const key = (error as { details: { key?: { field: string; value: string; heldBy?: string } } }).details.key;
  expect(key).toMatchObject({ field: 'externalKeys', value, ...(heldBy ? { heldBy } : {}) });
}

const ids = (rows: readonly Row[]) => rows.map((r) => `${r.id}:${(r.externalKeys as string[]).join('|')}`);

/** Unique keys (`EntitySchema.unique`): one holder per value and tenant, checked by the adapter. */
export function uniqueTests(h: Harness): void {
  describe('unique keys', () => {
    it('refuses a second row holding a value with CONFLICT naming the key and its holder; nothing of the transaction is stored', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'contact', [contactRow('a', ['shop:1', 'erp:A'])]);
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('contact', 't1', [{ type: 'insert', row: contactRow('ok', ['shop:9']) }]);
          await tx.write('contact', 't1', [{ type: 'insert', row: contactRow('b', ['shop:2', 'erp:A']) }]);
        }),
      );
      expectUniqueConflict(error, 'erp:A', 'a');
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:shop:1|erp:A']);
      const found = await adapter.transaction('r', (tx) => tx.query('contact', 't1', { filter: { op: 'containsAny', field: 'externalKeys', values: ['shop:2', 'shop:9'] } }));
      expect(found.rows).toEqual([]);
    });

    it('a caught unique conflict still poisons the transaction', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'contact', [contactRow('a', ['shop:1'])]);
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('contact', 't1', [{ type: 'insert', row: contactRow('c', ['shop:3']) }]);
          await tx.write('contact', 't1', [{ type: 'insert', row: contactRow('b', ['shop:1']) }]).catch(() => undefined);
        }),
      );
      expect(isCrmError(error, 'CONFLICT')).toBe(true);
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:shop:1']);
    });

    it('refuses two rows of one write call sharing a value, and an update taking another row’s value', async () => {
      const { adapter } = await h.open();
      expectUniqueConflict(await rejection(write(adapter, [{ type: 'insert', row: contactRow('a', ['x:1']) }, { type: 'insert', row: contactRow('b', ['x:1']) }])), 'x:1');
      expect(await readAll(adapter, 'contact')).toEqual([]);
      await seed(adapter, 'contact', [contactRow('a', ['x:1']), contactRow('b', ['x:2'])]);
      const error = await rejection(write(adapter, [{ type: 'update', row: { ...contactRow('b', ['x:2', 'x:1']), version: 2 }, expectedVersion: 1 }]));
      expectUniqueConflict(error, 'x:1', 'a');
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:x:1', 'b:x:2']);
    });

    it('allows the same value in another tenant, repeats within one row, and updates that keep a row’s own values', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'contact', [contactRow('a', ['x:1', 'x:1'])]);
      await seed(adapter, 'contact', [contactRow('a2', ['x:1'], {}, 't2')], 't2');
      await write(adapter, [{ type: 'update', row: { ...contactRow('a', ['x:1', 'x:3'], { name: 'renamed' }), version: 2 }, expectedVersion: 1 }]);
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:x:1|x:3']);
      expect(ids(await readAll(adapter, 'contact', 't2'))).toEqual(['a2:x:1']);
    });

    it('a value freed by an update or a delete can be taken, in the same transaction and later', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'contact', [contactRow('a', ['x:1']), contactRow('b', ['x:2'])]);
      // Move x:1 from a to c and delete b, then give x:2 to d — one transaction.
      await write(adapter, [
        { type: 'update', row: { ...contactRow('a', []), version: 2 }, expectedVersion: 1 },
        { type: 'insert', row: contactRow('c', ['x:1']) },
        { type: 'delete', id: 'b', expectedVersion: 1 },
        { type: 'insert', row: contactRow('d', ['x:2']) },
      ]);
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:', 'c:x:1', 'd:x:2']);
      await write(adapter, [{ type: 'delete', id: 'c', expectedVersion: 1 }]);
      await write(adapter, [{ type: 'insert', row: contactRow('e', ['x:1']) }]);
      // A rolled-back move frees nothing.
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('contact', 't1', [{ type: 'update', row: { ...contactRow('e', []), version: 2 }, expectedVersion: 1 }]);
          throw new Error('roll back');
        }),
      );
      expectUniqueConflict(await rejection(write(adapter, [{ type: 'insert', row: contactRow('f', ['x:1']) }])), 'x:1', 'e');
    });

    it('two rows swap their values through deletes then inserts in one transaction (device sync applies pulled rows so)', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'contact', [contactRow('a', ['x:1']), contactRow('b', ['x:2'])]);
      await write(adapter, [
        { type: 'delete', id: 'a' },
        { type: 'delete', id: 'b' },
        { type: 'insert', row: { ...contactRow('a', ['x:2']), version: 2 } },
        { type: 'insert', row: { ...contactRow('b', ['x:1']), version: 2 } },
      ]);
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:x:2', 'b:x:1']);
      expectUniqueConflict(await rejection(write(adapter, [{ type: 'insert', row: contactRow('c', ['x:1']) }])), 'x:1', 'b');
    });

    it('holds across connections: a peer cannot take a value committed here', async () => {
      const { adapter, subject } = await h.open();
      const peer = await h.openPeer(subject);
      if (!peer) return;
      await seed(adapter, 'contact', [contactRow('a', ['x:1'])]);
      const error = await rejection(peer.transaction('rw', (tx) => tx.write('contact', 't1', [{ type: 'insert', row: contactRow('b', ['x:1']) }])));
      expectUniqueConflict(error, 'x:1');
      expect(ids(await readAll(adapter, 'contact'))).toEqual(['a:x:1']);
    });
  });
}
