import { describe, expect, it } from 'vitest';
import { createMemoryStorage, where, type ChangeBatch, type Deal, type Page } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { ListObserver } from '../../src/observe/list-observer.js';

/** Lets microtasks and storage promises settle. */
const settle = async () => {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
};

async function setup() {
  const t = await createTestCrm();
  const pipeline = await t.crm.pipelines.create({
    name: 'P',
    stages: [{ key: 'a', name: 'A', probability: 10 }, { key: 'b', name: 'B', probability: 50, entryRules: [{ type: 'hasContact' }] }, { key: 'c', name: 'C', probability: 80 }],
  });
  return { ...t, pipeline };
}

describe('observers', () => {
  it('start lazily, refetch only for relevant changes, keep unchanged rows identical, stop on unsubscribe', async () => {
    const { crm, storage } = await setup();
    const big = await crm.deals.create({ title: 'Big', value: { amount: 5000, currency: 'EUR' } });
    await crm.deals.create({ title: 'Small', value: { amount: 10, currency: 'EUR' } });
    let fetches = 0;
    const options = { where: where.gte('value.amount', 1000), orderBy: [{ field: 'title' as const }] };
    const observer = new ListObserver<Deal, typeof options>(storage, 'deal', options, (o) => (fetches++, crm.deals.list(o)));
    expect(observer.getSnapshot()).toMatchObject({ status: 'loading', data: undefined });
    expect(fetches).toBe(0);
    let notified = 0;
    const off = observer.subscribe(() => notified++);
    await settle();
    expect(fetches).toBe(1);
    const first = observer.getSnapshot();
    expect(first).toMatchObject({ status: 'success', isFetching: false });
    expect(first.data!.items.map((d) => d.title)).toEqual(['Big']);
    expect(observer.getSnapshot()).toBe(first);

    await crm.contacts.create({ name: 'Unrelated entity' });
    await crm.deals.update((await crm.deals.list({ where: where.eq('title', 'Small') })).items[0]!.id, { title: 'Still small' });
    await settle();
    expect(fetches).toBe(1); // neither change could affect the list

    const extra = await crm.deals.create({ title: 'Another big', value: { amount: 9000, currency: 'EUR' } });
    await settle();
    expect(fetches).toBe(2);
    const second = observer.getSnapshot().data!;
    expect(second.items.map((d) => d.title)).toEqual(['Another big', 'Big']);
    expect(second.items[1]).toBe(first.data!.items[0]); // unchanged record keeps its identity

    await crm.deals.update(extra.id, { value: { amount: 1, currency: 'EUR' } }); // leaves the filter: on the page, so refetch
    await settle();
    expect(observer.getSnapshot().data!.items.map((d) => d.id)).toEqual([big.id]);
    off();
    const before = fetches;
    await crm.deals.create({ title: 'After', value: { amount: 7000, currency: 'EUR' } });
    await settle();
    expect(fetches).toBe(before);
    expect(notified).toBeGreaterThan(0);
  });

  it("another tenant's commits and resyncs make no observer of this tenant re-read (review12k #2)", async () => {
    const memory = createMemoryStorage();
    // The adapter as another process's commits reach it: `external` batches, here sent by the test.
    const listeners = new Set<(batch: ChangeBatch) => void>();
    const storage = new Proxy(memory, {
      get: (target, key) =>
        key === 'onChange'
          ? (listener: (batch: ChangeBatch) => void) => {
              listeners.add(listener);
              const off = target.onChange(listener);
              return () => (listeners.delete(listener), off());
            }
          : Reflect.get(target, key),
    });
    const external = (batch: Omit<ChangeBatch, 'source'>) => listeners.forEach((l) => l({ source: 'external', ...batch }));
    const { crm } = await createTestCrm({ storage, closeStorage: false });
    const { crm: other } = await createTestCrm({ storage, tenantId: 'other', closeStorage: false });
    const observer = crm.observe.contacts();
    let notified = 0;
    const off = observer.subscribe(() => notified++);
    await settle();
    notified = 0;
    await other.contacts.create({ name: 'Elsewhere' });
    external({ changes: [], resync: true, tenants: ['other'] });
    await settle();
    expect(notified).toBe(0);
    external({ changes: [], resync: true, tenants: ['other', 'test'] });
    await settle();
    expect(notified).toBeGreaterThan(0);
    notified = 0;
    external({ changes: [], resync: true }); // naming no tenant: every tenant re-reads
    await settle();
    expect(notified).toBeGreaterThan(0);
    off();
  });

  it('record observers report NOT_FOUND as an explicit error state and recover', async () => {
    const { crm } = await setup();
    const observer = crm.observe.deal('deal_missing');
    observer.subscribe(() => {});
    await settle();
    expect(observer.getSnapshot()).toMatchObject({ status: 'error', error: { code: 'NOT_FOUND' } });
    const deal = await crm.deals.create({ title: 'Here' });
    observer.setId(deal.id);
    await settle();
    expect(observer.getSnapshot()).toMatchObject({ status: 'success', data: { id: deal.id } });
    const snap = observer.getSnapshot();
    await crm.deals.create({ title: 'Other' });
    await settle();
    expect(observer.getSnapshot()).toBe(snap);
  });

  it('a board re-creates only the changed card and its column', async () => {
    const { crm, pipeline } = await setup();
    const a1 = await crm.deals.create({ title: 'a1', value: { amount: 100, currency: 'EUR' } });
    await crm.deals.create({ title: 'a2', value: { amount: 200, currency: 'EUR' } });
    await crm.deals.create({ title: 'c1', stageKey: 'c', value: { amount: 300, currency: 'EUR' } });
    const board = crm.observe.board(pipeline.id);
    board.subscribe(() => {});
    await settle();
    const before = board.getSnapshot().data!;
    await crm.deals.update(a1.id, { value: { amount: 150, currency: 'EUR' } });
    await settle();
    const after = board.getSnapshot().data!;
    expect(after).not.toBe(before);
    const [colA, colB, colC] = after.columns;
    expect(colA).not.toBe(before.columns[0]);
    expect(colA!.deals[0]).not.toBe(before.columns[0]!.deals[0]);
    expect(colA!.deals[1]).toBe(before.columns[0]!.deals[1]);
    expect(colA!.totals).toEqual([{ currency: 'EUR', amount: 350, weighted: 35 }]);
    expect(colB).toBe(before.columns[1]);
    expect(colC).toBe(before.columns[2]);
    expect(after.pipeline).toBe(before.pipeline);
  });

  it('board moves apply at once and roll back with the error on RULE_VIOLATION', async () => {
    const { crm, pipeline } = await setup();
    const contact = await crm.contacts.create({ name: 'Ada' });
    const ok = await crm.deals.create({ title: 'ok', contactId: contact.id, value: { amount: 100, currency: 'EUR' } });
    const bare = await crm.deals.create({ title: 'bare', value: { amount: 100, currency: 'EUR' } });
    const board = crm.observe.board(pipeline.id);
    board.subscribe(() => {});
    await settle();
    const keys = (v = board.getSnapshot().data!) => v.columns.map((c) => [c.stage.key, c.deals.map((d) => d.title), c.count]);

    const moving = board.move(ok.id, 'b');
    expect(keys()).toEqual([['a', ['bare'], 1], ['b', ['ok'], 1], ['c', [], 0]]);
    expect(board.getSnapshot().data!.pending).toEqual([ok.id]);
    expect(await moving).toEqual({ ok: true });
    await settle();
    expect(keys()).toEqual([['a', ['bare'], 1], ['b', ['ok'], 1], ['c', [], 0]]);
    expect(board.getSnapshot().data!.pending).toEqual([]);

    const failing = board.move(bare.id, 'b');
    expect(keys()).toEqual([['a', [], 0], ['b', ['ok', 'bare'], 2], ['c', [], 0]]);
    const result = await failing;
    expect(result).toMatchObject({ ok: false, error: { code: 'RULE_VIOLATION' } });
    expect(keys()).toEqual([['a', ['bare'], 1], ['b', ['ok'], 1], ['c', [], 0]]);
    expect(board.getSnapshot().data!.lastError).toMatchObject({ dealId: bare.id, action: 'move', error: { code: 'RULE_VIOLATION' } });
    expect((await crm.deals.get(bare.id)).stageKey).toBe('a');

    expect(await board.lose(bare.id, 'price')).toEqual({ ok: true });
    await settle();
    expect(keys()).toEqual([['a', [], 0], ['b', ['ok'], 1], ['c', [], 0]]);
    expect(board.getSnapshot().data!.lastError).toBeUndefined();
  });

  it('agenda and timeline observers follow tasks and events', async () => {
    const { crm } = await setup();
    const deal = await crm.deals.create({ title: 'T' });
    const agenda = crm.observe.agenda({ ownerId: 'tester' });
    const timeline = crm.observe.timeline({ type: 'deal', id: deal.id });
    agenda.subscribe(() => {});
    timeline.subscribe(() => {});
    await settle();
    expect(agenda.getSnapshot().data!.upcoming).toEqual([]);
    const task = await crm.tasks.create({ subject: 'Call', dueAt: '2026-01-06T10:00:00Z', dealId: deal.id });
    await settle();
    expect(agenda.getSnapshot().data!.upcoming.map((t) => t.id)).toEqual([task.id]);
    expect(timeline.getSnapshot().data!.items.map((e) => e.type)).toEqual(['task.created', 'deal.created']);
    const page: Page<unknown> = timeline.getSnapshot().data!;
    await crm.tasks.create({ subject: 'Elsewhere', dueAt: '2026-01-06T10:00:00Z', ownerId: 'someone-else' });
    await settle();
    expect(timeline.getSnapshot().data).toBe(page);
  });
});

describe('observer seeds and board advance', () => {
  it('agenda and timeline observers start from initial data (server rendering) until they fetch', async () => {
    const { crm } = await setup();
    const agenda = crm.observe.agenda({ ownerId: 'tester' }, { overdue: [], today: [], upcoming: [], validUntil: '2026-01-06T00:00:00.000Z' });
    expect(agenda.getSnapshot()).toMatchObject({ status: 'success', data: { overdue: [] } });
    const timeline = crm.observe.timeline({ type: 'deal', id: 'deal_x' }, {}, { items: [] });
    expect(timeline.getSnapshot()).toMatchObject({ status: 'success', data: { items: [] } });
  });

  it('advance moves a card to the next open stage, as the funnel decides', async () => {
    const { crm, pipeline } = await setup();
    const deal = await crm.deals.create({ title: 'next' });
    const board = crm.observe.board(pipeline.id);
    board.subscribe(() => {});
    await settle();
    const moving = board.advance(deal.id);
    expect(board.getSnapshot().data!.columns.map((c) => c.deals.map((d) => d.title))).toEqual([[], ['next'], []]);
    expect(await moving).toMatchObject({ ok: false, error: { code: 'RULE_VIOLATION' } }); // B needs a contact
    expect(board.getSnapshot().data!.columns.map((c) => c.deals.map((d) => d.title))).toEqual([['next'], [], []]);
  });
});
