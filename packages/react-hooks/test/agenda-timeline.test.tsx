import { renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useAgenda, useTimeline } from '@crmkit/react-hooks';
import { salesCrm, settled, wrapper } from './helpers.js';

describe('useAgenda and useTimeline', () => {
  it("useAgenda follows the owner's tasks and switches owner", async () => {
    const { crm } = await salesCrm();
    const deal = await crm.deals.create({ title: 'T' });
    const { result, rerender } = renderHook(({ owner }) => useAgenda(owner), { wrapper: wrapper(crm), initialProps: { owner: 'tester' } });
    await settled(() => undefined);
    expect(result.current).toMatchObject({ status: 'success', data: { overdue: [], today: [], upcoming: [] } });
    const today = await settled(() => crm.tasks.create({ subject: 'Call today', dueAt: '2026-01-05T15:00:00Z', dealId: deal.id }));
    const later = await settled(() => crm.tasks.create({ subject: 'Call later', dueAt: '2026-01-07T10:00:00Z', dealId: deal.id }));
    expect(result.current.data!.today.map((t) => t.id)).toEqual([today.id]);
    expect(result.current.data!.upcoming.map((t) => t.id)).toEqual([later.id]);
    const snapshot = result.current;
    await settled(() => crm.tasks.create({ subject: 'Not mine', dueAt: '2026-01-05T15:00:00Z', ownerId: 'someone-else' }));
    expect(result.current).toBe(snapshot);

    rerender({ owner: 'someone-else' });
    await settled(() => undefined);
    expect(result.current.data!.today.map((t) => t.subject)).toEqual(['Not mine']);
  });

  it('useTimeline shows what happened to a deal, newest first, and follows new events', async () => {
    const { crm } = await salesCrm();
    const deal = await crm.deals.create({ title: 'T' });
    const other = await crm.deals.create({ title: 'Other' });
    const { result, rerender } = renderHook(({ id }) => useTimeline({ type: 'deal', id }), { wrapper: wrapper(crm), initialProps: { id: deal.id } });
    await settled(() => undefined);
    expect(result.current.data!.items.map((e) => e.type)).toEqual(['deal.created']);
    await settled(() => crm.activities.log({ kind: 'call', dealId: deal.id, outcome: 'Booked a demo' }));
    expect(result.current.data!.items.map((e) => e.type)).toEqual(['activity.logged', 'deal.created']);
    const page = result.current;
    rerender({ id: deal.id }); // a new but equal ref object
    await settled(() => crm.activities.log({ kind: 'note', dealId: other.id, outcome: 'Elsewhere' }));
    expect(result.current).toBe(page);
    rerender({ id: other.id });
    await settled(() => undefined);
    expect(result.current.data!.items.map((e) => e.type)).toEqual(['activity.logged', 'deal.created']);
    expect(result.current.data!.items[1]!.subjectId).toBe(other.id);
  });
});
