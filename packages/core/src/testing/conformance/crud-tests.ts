import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { CRM_STORAGE_SCHEMA } from '../../storage/crm-schema.js';
import { dealRow, readAll, rejection, seed, type Harness } from './harness.js';

/** CRUD, versions, conflicts, tenant isolation and lifecycle. */
export function crudTests(h: Harness): void {
  describe('rows', () => {
    it('inserts and reads rows back by id, in the order asked, undefined for missing ids', async () => {
      const { adapter } = await h.open();
      const a = dealRow('a', { title: 'Alpha', value: { amount: 100, currency: 'EUR' }, tags: ['x'], custom: { tier: 'gold' } });
      const b = dealRow('b', { title: 'Beta' });
      await seed(adapter, 'deal', [a, b]);
      const rows = await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', ['b', 'missing', 'a', 'b']));
      expect(rows).toEqual([b, undefined, a, b]);
    });

    it('opening twice is harmless and keeps data', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a')]);
      await adapter.open(CRM_STORAGE_SCHEMA);
      expect((await readAll(adapter, 'deal')).map((r) => r.id)).toEqual(['a']);
    });

    it('stores text exactly: quotes, backslashes, unicode, SQL and JSON metacharacters', async () => {
      const { adapter } = await h.open();
      const nasty = ["'; DROP TABLE deal; --", 'a"b\\c', '%_*?', '日本語 🙂 Ω', '$.custom', '{"a":1}', ' '.repeat(3)];
      const rows = nasty.map((title, i) => dealRow(`n${i}`, { title, custom: { note: title } }));
      await seed(adapter, 'deal', rows);
      expect(await readAll(adapter, 'deal')).toEqual(rows);
      for (const title of nasty) {
        const { rows: found } = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'title', value: title } }));
        expect(found.map((r) => r.title)).toEqual([title]);
      }
    });

    it('updates with the expected version and replaces the whole document', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { title: 'Old', ownerId: 'u1' })]);
      const next = dealRow('a', { title: 'New', version: 2 });
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: next, expectedVersion: 1 }]));
      expect(await readAll(adapter, 'deal')).toEqual([next]);
    });

    it('deletes rows, with and without a version check', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a'), dealRow('b'), dealRow('c')]);
      await adapter.transaction('rw', (tx) =>
        tx.write('deal', 't1', [
          { type: 'delete', id: 'a', expectedVersion: 1 },
          { type: 'delete', id: 'b' },
        ]),
      );
      expect((await readAll(adapter, 'deal')).map((r) => r.id)).toEqual(['c']);
    });

    it('a row deleted and inserted again under its id in one transaction is replaced whole, its old index entries gone (device sync applies pulled rows so)', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { version: 3, title: 'Old', stageKey: 'new' }), dealRow('b', { stageKey: 'new' })]);
      await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'delete', id: 'a' }]);
        await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a', { version: 7, title: 'New', stageKey: 'won' }) }]);
      });
      await adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'b', expectedVersion: 1 }, { type: 'insert', row: dealRow('b', { version: 2, stageKey: 'won' }) }]));
      expect((await readAll(adapter, 'deal')).map((r) => [r.id, r.version, r.stageKey])).toEqual([['a', 7, 'won'], ['b', 2, 'won']]);
      const stale = await adapter.transaction('r', (tx) => tx.query('deal', 't1', { filter: { op: 'eq', field: 'stageKey', value: 'new' } }));
      expect(stale.rows).toEqual([]);
    });
  });

  describe('versions and conflicts', () => {
    it('rejects inserting an existing id with CONFLICT and the stored version', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { version: 3 })]);
      const error = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a') }])));
      expect(isCrmError(error, 'CONFLICT') && error.details).toMatchObject({ entity: 'deal', id: 'a', expectedVersion: null, actualVersion: 3 });
    });

    it('rejects a stale update with CONFLICT and writes nothing of the transaction', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { version: 2, title: 'kept' })]);
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('b') }]);
          await tx.write('deal', 't1', [{ type: 'update', row: dealRow('a', { version: 2, title: 'lost' }), expectedVersion: 1 }]);
        }),
      );
      expect(isCrmError(error, 'CONFLICT') && error.details).toMatchObject({ id: 'a', expectedVersion: 1, actualVersion: 2 });
      expect((await readAll(adapter, 'deal')).map((r) => [r.id, r.title])).toEqual([['a', 'kept']]);
    });

    it('rejects updating or deleting a missing row with CONFLICT (actualVersion null)', async () => {
      const { adapter } = await h.open();
      const update = await rejection(
        adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: dealRow('zz', { version: 2 }), expectedVersion: 1 }])),
      );
      expect(isCrmError(update, 'CONFLICT') && update.details.actualVersion).toBeNull();
      const del = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'zz', expectedVersion: 1 }])));
      expect(isCrmError(del, 'CONFLICT') && del.details.actualVersion).toBeNull();
    });

    it('a failed write poisons the transaction even when the caller catches the error', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a')]);
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('b') }]);
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a') }]).catch(() => undefined);
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('c') }]).catch(() => undefined);
          return 'committed?';
        }),
      );
      expect(isCrmError(error, 'CONFLICT')).toBe(true);
      expect((await readAll(adapter, 'deal')).map((r) => r.id)).toEqual(['a']);
    });

    it('a batch with a conflict in the middle stores nothing of the batch', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('m')]);
      await rejection(
        adapter.transaction('rw', (tx) =>
          tx.write('deal', 't1', [
            { type: 'insert', row: dealRow('a') },
            { type: 'insert', row: dealRow('m') },
            { type: 'insert', row: dealRow('z') },
          ]),
        ),
      );
      expect((await readAll(adapter, 'deal')).map((r) => r.id)).toEqual(['m']);
    });
  });

  describe('transactions', () => {
    it('rolls back everything when the callback throws after several writes', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { title: 'before' })]);
      const boom = new Error('injected failure');
      const error = await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'update', row: dealRow('a', { version: 2, title: 'after' }), expectedVersion: 1 }]);
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('b') }]);
          await tx.write('event', 't1', [{ type: 'insert', row: dealRow('e1', { refs: ['deal:a'], at: '2026-01-01T00:00:00.000Z' }) }]);
          throw boom;
        }),
      );
      expect(error).toBe(boom);
      expect(await readAll(adapter, 'deal')).toEqual([dealRow('a', { title: 'before' })]);
      expect(await readAll(adapter, 'event')).toEqual([]);
    });

    it('reads inside a write transaction see its own writes (getMany, query, aggregate)', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { stageKey: 's1' })]);
      const seen = await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [
          { type: 'insert', row: dealRow('b', { stageKey: 's1' }) },
          { type: 'update', row: dealRow('a', { version: 2, stageKey: 's2' }), expectedVersion: 1 },
        ]);
        const [b] = await tx.getMany('deal', 't1', ['b']);
        const { rows } = await tx.query('deal', 't1', { filter: { op: 'eq', field: 'stageKey', value: 's1' } });
        const agg = await tx.aggregate('deal', 't1', { groupBy: ['stageKey'], metrics: { n: { fn: 'count' } } });
        return { b: b?.id, s1: rows.map((r) => r.id), agg };
      });
      expect(seen).toEqual({
        b: 'b',
        s1: ['b'],
        agg: [
          { group: { stageKey: 's1' }, values: { n: 1 } },
          { group: { stageKey: 's2' }, values: { n: 1 } },
        ],
      });
    });

    it('returns the callback result and commits', async () => {
      const { adapter } = await h.open();
      const result = await adapter.transaction('rw', async (tx) => {
        await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a') }]);
        return 42;
      });
      expect(result).toBe(42);
      expect((await readAll(adapter, 'deal')).length).toBe(1);
    });

    it('serialises concurrent write transactions: no update is lost', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('counter', { postponeCount: 0 })]);
      const increment = () =>
        adapter.transaction('rw', async (tx) => {
          const [row] = await tx.getMany('deal', 't1', ['counter']);
          const count = (row!.postponeCount as number) + 1;
          await tx.write('deal', 't1', [{ type: 'update', row: { ...row!, version: row!.version + 1, postponeCount: count }, expectedVersion: row!.version }]);
        });
      await Promise.all(Array.from({ length: 10 }, increment));
      const [row] = await readAll(adapter, 'deal');
      expect(row).toMatchObject({ postponeCount: 10, version: 11 });
    });
  });

  describe('tenant isolation', () => {
    it('keeps rows with the same id in two tenants apart', async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('same', { title: 'one' }, 't1')], 't1');
      await seed(adapter, 'deal', [dealRow('same', { title: 'two' }, 't2'), dealRow('other', {}, 't2')], 't2');
      const [one] = await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', ['same']));
      const [two, hidden] = await adapter.transaction('r', (tx) => tx.getMany('deal', 't2', ['same', 'nope']));
      expect([one?.title, two?.title, hidden]).toEqual(['one', 'two', undefined]);
      expect((await readAll(adapter, 'deal', 't1')).map((r) => r.id)).toEqual(['same']);
      const agg = await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', { metrics: { n: { fn: 'count' } } }));
      expect(agg).toEqual([{ group: {}, values: { n: 1 } }]);
    });

    it("cannot update or delete another tenant's row", async () => {
      const { adapter } = await h.open();
      await seed(adapter, 'deal', [dealRow('x', {}, 't2')], 't2');
      const update = await rejection(
        adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'update', row: dealRow('x', { version: 2 }, 't1'), expectedVersion: 1 }])),
      );
      expect(isCrmError(update, 'CONFLICT')).toBe(true);
      const del = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'delete', id: 'x' }])));
      expect(isCrmError(del, 'CONFLICT')).toBe(true);
      expect(await readAll(adapter, 'deal', 't2')).toEqual([dealRow('x', {}, 't2')]);
    });

    it('rejects a row whose tenantId differs from the tenant of the write', async () => {
      const { adapter } = await h.open();
      const error = await rejection(adapter.transaction('rw', (tx) => tx.write('deal', 't1', [{ type: 'insert', row: dealRow('a', {}, 't2') }])));
      expect(isCrmError(error, 'VALIDATION')).toBe(true);
      expect(await readAll(adapter, 'deal', 't2')).toEqual([]);
    });
  });

  describe('lifecycle', () => {
    it('rejects calls after close with CLOSED', async () => {
      const { adapter } = await h.open();
      await adapter.close();
      const error = await rejection(adapter.transaction('r', (tx) => tx.getMany('deal', 't1', ['a'])));
      expect(isCrmError(error, 'CLOSED')).toBe(true);
      await adapter.close();
    });

    if (h.capabilities.durable) it('keeps data across close and reopen', async () => {
      const { adapter, subject } = await h.open();
      await seed(adapter, 'deal', [dealRow('a', { title: 'durable', custom: { tier: 'gold' } })]);
      await adapter.close();
      const reopened = await subject.reopen!();
      await reopened.open(CRM_STORAGE_SCHEMA);
      try {
        expect(await readAll(reopened, 'deal')).toEqual([dealRow('a', { title: 'durable', custom: { tier: 'gold' } })]);
      } finally {
        await reopened.close();
      }
    });
  });

  describe('reads outside a transaction (optional getMany)', () => {
    it('answers like a read transaction: committed rows in the order asked, other tenants invisible', async () => {
      const { adapter } = await h.open();
      if (!adapter.getMany) return;
      const a = dealRow('a', { title: 'Alpha' });
      await seed(adapter, 'deal', [a, dealRow('b')]);
      await seed(adapter, 'deal', [dealRow('c', {}, 't2')], 't2');
      expect(await adapter.getMany('deal', 't1', ['a', 'missing', 'c', 'a'])).toEqual([a, undefined, undefined, a]);
      expect(await adapter.getMany('deal', 't1', [])).toEqual([]);
      expect(await adapter.transaction('r', (tx) => tx.getMany('deal', 't1', ['a', 'missing', 'c', 'a']))).toEqual([a, undefined, undefined, a]);
    });

    it('never sees the uncommitted writes of a transaction in progress, and sees them once committed', async () => {
      const { adapter } = await h.open();
      if (!adapter.getMany) return;
      await seed(adapter, 'deal', [dealRow('a')]);
      let during: unknown;
      let one: unknown;
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('x') }, { type: 'delete', id: 'a' }]);
          during = adapter.getMany!('deal', 't1', ['x', 'a']); // started while the transaction is open
          one = adapter.getMany!('deal', 't1', ['a']); // a point read takes its own path on some adapters
          await tx.getMany('deal', 't1', ['x']);
          throw new Error('rollback');
        }),
      );
      expect(await during).toEqual([undefined, dealRow('a')]);
      expect(await one).toEqual([dealRow('a')]);
      await seed(adapter, 'deal', [dealRow('x')]);
      expect(await adapter.getMany('deal', 't1', ['x'])).toEqual([dealRow('x')]);
    });

    it('rejects a closed adapter with CLOSED and bad arguments with VALIDATION', async () => {
      const { adapter } = await h.open();
      if (!adapter.getMany) return;
      expect(isCrmError(await rejection(adapter.getMany('deal', 't1', 'a' as unknown as string[])), 'VALIDATION')).toBe(true);
      await adapter.close();
      expect(isCrmError(await rejection(adapter.getMany('deal', 't1', ['a'])), 'CLOSED')).toBe(true);
    });
  });

  describe('aggregates outside a transaction (optional aggregate)', () => {
    const spec = {
      groupBy: ['stageKey', 'custom.tier'],
      metrics: { n: { fn: 'count' as const }, total: { fn: 'sum' as const, field: 'value.amount' } },
      customTypes: { 'custom.tier': 'string' as const },
    };
    const amount = (n: number) => ({ value: { amount: n, currency: 'EUR' } });

    it('answers like a read transaction, other tenants invisible', async () => {
      const { adapter } = await h.open();
      if (!adapter.aggregate) return;
      await seed(adapter, 'deal', [dealRow('a', { stageKey: 'won', custom: { tier: 'gold' }, ...amount(5) }), dealRow('b', { stageKey: 'won', ...amount(7) }), dealRow('c', { stageKey: 'new', custom: { tier: 'gold' }, ...amount(1) })]);
      await seed(adapter, 'deal', [dealRow('d', { stageKey: 'won' }, 't2')], 't2');
      const outside = await adapter.aggregate('deal', 't1', spec);
      expect(outside).toEqual(await adapter.transaction('r', (tx) => tx.aggregate('deal', 't1', spec)));
      expect(outside.map((r) => [r.group.stageKey, r.group['custom.tier'], r.values.n, r.values.total]).sort()).toEqual([['new', 'gold', 1, 1], ['won', 'gold', 1, 5], ['won', null, 1, 7]].sort());
    });

    it('never sees the uncommitted writes of a transaction in progress; refuses bad specs with VALIDATION and a closed adapter with CLOSED', async () => {
      const { adapter } = await h.open();
      if (!adapter.aggregate) return;
      await seed(adapter, 'deal', [dealRow('a', amount(5))]);
      let during: unknown;
      await rejection(
        adapter.transaction('rw', async (tx) => {
          await tx.write('deal', 't1', [{ type: 'insert', row: dealRow('x', amount(100)) }]);
          during = adapter.aggregate!('deal', 't1', { metrics: { total: { fn: 'sum', field: 'value.amount' } } }); // started while the transaction is open
          await tx.getMany('deal', 't1', ['x']);
          throw new Error('rollback');
        }),
      );
      expect(await during).toEqual([{ group: {}, values: { total: 5 } }]);
      expect(isCrmError(await rejection(adapter.aggregate('deal', 't1', { metrics: { x: { fn: 'sum', field: 'nope' } } })), 'VALIDATION')).toBe(true);
      await adapter.close();
      expect(isCrmError(await rejection(adapter.aggregate('deal', 't1', spec)), 'CLOSED')).toBe(true);
    });
  });
}
