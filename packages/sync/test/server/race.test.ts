import { describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { activities } from '@crmkit/core/activities';
import { tasks } from '@crmkit/core/tasks';
import { syncChanges } from '@crmkit/sync/server';
import { postgres } from './support.js';

/**
 * The hook runs inside the operation's transaction (design sync.md §4, §17): when PostgreSQL's
 * overlapping writers make `runWrite` run an operation again, the lost attempt's change positions roll
 * back with it — every committed write of a record is recorded exactly once, positions without gaps.
 */
describe('sync change positions under races (postgres)', () => {
  it('concurrent unversioned updates of one deal from two connections: the change row counts each committed write once', async () => {
    const make = postgres();
    const first = make();
    const open = (storage: ReturnType<typeof make>) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, features: [tasks(), activities(), syncChanges()] as const });
    const a = await open(first);
    const b = await open(make(first.schema));
    const pipeline = await a.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
    const deal = await a.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).deals.update(deal.id, { title: `T${i}` })));
    const stored = await a.deals.get(deal.id);
    expect(stored.version).toBe(13);
    const changes = await first.transaction('r', (tx) => tx.query('syncChange', 'acme', { sort: [{ field: 'position' }] }));
    const row = changes.rows.find((r) => r.id === `deal:${deal.id}`)!;
    expect(row.version).toBe(13);
    // Positions without gaps: every reserved position belongs to a committed write (the last one of each record is kept).
    const head = row.position as number;
    const count = await first.transaction('rw', (tx) => tx.nextSequence('sync', 'acme', 1));
    expect(count).toBe(head + 1);
    await a.close();
    await b.close();
  });
});
