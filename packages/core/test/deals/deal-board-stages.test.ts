import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage } from '@crmkit/core';
import type { StorageAdapter, StorageTx } from '@crmkit/core/storage';
import { createTestCrm } from '@crmkit/core/testing';

/** An adapter that logs when each transaction call starts and settles (`> kind entity`, `< kind entity`); pipeline reads are slow. */
function traced(inner: StorageAdapter, log: string[]): StorageAdapter {
  const wrapTx = (tx: StorageTx): StorageTx =>
    new Proxy(tx, {
      get(target, key) {
        const value = Reflect.get(target, key) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          const name = `${String(key)} ${String(args[0])}`;
          log.push(`> ${name}`);
          try {
            // A read of the pipeline takes a while, as a round trip to a database process does.
            if (name === 'getMany pipeline') await new Promise((resolve) => setTimeout(resolve, 5));
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            log.push(`< ${name}`);
          }
        };
      },
    });
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'transaction') return (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(wrapTx(tx)));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

const columns = (board: { columns: { stage: { key: string; name: string }; count: number; deals: { title: string }[] }[] }) =>
  board.columns.map((c) => [c.stage.key, c.stage.name, c.count, c.deals.map((d) => d.title)]);

describe('deals.board: columns read with the pipeline', () => {
  it('reads the columns of the last board together with the pipeline, in the same transaction', async () => {
    const log: string[] = [];
    const crm = await createCrm({ storage: traced(createMemoryStorage(), log), tenantId: 't1', actor: { userId: 'u1' } });
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'demo', name: 'Demo' }] });
    await crm.deals.create({ title: 'A', pipelineId: p.id, stageKey: 'demo' });
    await crm.deals.board(p.id);
    log.length = 0;
    const board = await crm.deals.board(p.id);
    expect(columns(board)).toEqual([['new', 'New', 0, []], ['demo', 'Demo', 1, ['A']]]);
    // The card pages and the totals start before the pipeline's read has settled: no extra round trip.
    expect(log.indexOf('> query deal')).toBeLessThan(log.indexOf('< getMany pipeline'));
    expect(log.indexOf('> aggregate deal')).toBeLessThan(log.indexOf('< getMany pipeline'));
    expect(log.filter((l) => l === '> query deal')).toHaveLength(2);
  });

  it('shows the stages the pipeline has now after stages are added, renamed, reordered and removed', async () => {
    const { crm } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'demo', name: 'Demo' }, { key: 'won', name: 'Won', kind: 'won' }] });
    await crm.deals.create({ title: 'A', pipelineId: p.id, stageKey: 'new' });
    await crm.deals.create({ title: 'B', pipelineId: p.id, stageKey: 'demo' });
    expect(columns(await crm.deals.board(p.id))).toEqual([['new', 'New', 1, ['A']], ['demo', 'Demo', 1, ['B']]]);
    await crm.pipelines.addStage(p.id, { stage: { key: 'trial', name: 'Trial' } });
    const added = await crm.deals.board(p.id);
    expect(added.columns.map((c) => c.stage.key)).toEqual((await crm.pipelines.get(p.id)).stages.filter((s) => s.kind === 'open').map((s) => s.key));
    expect(added.columns.find((c) => c.stage.key === 'trial')).toMatchObject({ count: 0, deals: [] });
    await crm.pipelines.updateStage(p.id, 'demo', { name: 'Live demo' });
    expect(columns(await crm.deals.board(p.id)).find((c) => c[0] === 'demo')).toEqual(['demo', 'Live demo', 1, ['B']]);
    const stages = (await crm.pipelines.get(p.id)).stages;
    const open = stages.filter((s) => s.kind === 'open').map((s) => s.key).reverse();
    await crm.pipelines.reorderStages(p.id, { keys: [...open, ...stages.filter((s) => s.kind !== 'open').map((s) => s.key)] });
    expect((await crm.deals.board(p.id)).columns.map((c) => c.stage.key)).toEqual(open);
    await crm.pipelines.removeStage(p.id, 'trial');
    const removed = await crm.deals.board(p.id);
    expect(removed.columns.map((c) => c.stage.key).sort()).toEqual(['demo', 'new']);
    expect(removed.columns.map((c) => c.count).reduce((a, b) => a + b)).toBe(2);
    // Other options show other columns of the same pipeline; the guess never leaks into them.
    expect(columns(await crm.deals.board(p.id, { includeClosed: true })).map((c) => c[0]).sort()).toEqual(['demo', 'lost', 'new', 'won']);
    expect(columns(await crm.deals.board(p.id, { stages: ['demo'] }))).toEqual([['demo', 'Live demo', 1, ['B']]]);
  });

  it('shows the stages another crm on the same storage (another tab) gave the pipeline', async () => {
    const storage = createMemoryStorage();
    const one = await createCrm({ storage, tenantId: 't1', actor: { userId: 'u1' }, closeStorage: false });
    const two = await createCrm({ storage, tenantId: 't1', actor: { userId: 'u2' }, closeStorage: false });
    const p = await one.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'demo', name: 'Demo' }] });
    await one.deals.create({ title: 'A', pipelineId: p.id, stageKey: 'demo' });
    expect(columns(await one.deals.board(p.id))).toEqual([['new', 'New', 0, []], ['demo', 'Demo', 1, ['A']]]);
    await two.pipelines.removeStage(p.id, 'new');
    expect(columns(await one.deals.board(p.id))).toEqual([['demo', 'Demo', 1, ['A']]]);
  });

  it('keeps a view to its scope, and reports a missing pipeline before bad options', async () => {
    const { crm } = await createTestCrm();
    const p = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    await crm.deals.create({ title: 'Mine', ownerId: 'anna', pipelineId: p.id, value: { amount: 100, currency: 'EUR' } });
    await crm.deals.create({ title: 'Theirs', ownerId: 'ben', pipelineId: p.id, value: { amount: 200, currency: 'EUR' } });
    // The trusted crm reads the board first: the view then reads with the stages it guessed.
    expect(columns(await crm.deals.board(p.id))).toEqual([['new', 'New', 2, ['Mine', 'Theirs']]]);
    const anna = crm.as({ userId: 'anna' });
    const board = await anna.deals.board(p.id);
    expect(columns(board)).toEqual([['new', 'New', 1, ['Mine']]]);
    expect(board.columns[0]!.totals).toEqual([{ currency: 'EUR', amount: 100, weighted: expect.any(Number) }]);
    await expect(crm.deals.board('pl_missing', { orderBy: [{ field: 'nope' }] } as never)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(crm.deals.board(p.id, { orderBy: [{ field: 'nope' }] } as never)).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});
