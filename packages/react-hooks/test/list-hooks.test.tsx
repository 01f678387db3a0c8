import { where, type DealListOptions } from '@crmkit/core';
import { renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { useDeals, useLeads } from '@crmkit/react-hooks';
import { salesCrm, settled, wrapper } from './helpers.js';

describe('list hooks', () => {
  it('useDeals follows its query; inline queries are compared by value; unchanged deals keep identity', async () => {
    const { crm } = await salesCrm();
    const big = await crm.deals.create({ title: 'Big', value: { amount: 5000, currency: 'EUR' } });
    await crm.deals.create({ title: 'Small', value: { amount: 10, currency: 'EUR' } });
    const { result, rerender } = renderHook(({ min }) => useDeals({ where: where.gte('value.amount', min), orderBy: [{ field: 'title' }] }), {
      wrapper: wrapper(crm),
      initialProps: { min: 1000 },
    });
    expect(result.current.status).toBe('loading');
    await settled(() => undefined);
    expect(result.current.data!.items.map((d) => d.title)).toEqual(['Big']);
    const first = result.current;
    rerender({ min: 1000 }); // a new but equal query object
    await settled(() => undefined);
    expect(result.current).toBe(first);

    await settled(() => crm.deals.create({ title: 'Another', value: { amount: 9000, currency: 'EUR' } }));
    expect(result.current.data!.items.map((d) => d.title)).toEqual(['Another', 'Big']);
    expect(result.current.data!.items[1]).toBe(first.data!.items[0]);

    rerender({ min: 1 });
    await settled(() => undefined);
    expect(result.current.data!.items.map((d) => d.title)).toEqual(['Another', 'Big', 'Small']);
    expect(result.current.data!.items.find((d) => d.id === big.id)).toBe(first.data!.items[0]);
  });

  it('useDeals with rotting and useLeads pass core options through', async () => {
    const { crm } = await salesCrm();
    await crm.leads.create({ name: 'Ada', email: 'ada@example.com' });
    const query: DealListOptions = { rotting: true };
    const { result } = renderHook(() => ({ deals: useDeals(query), leads: useLeads({ limit: 5 }) }), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    expect(result.current.deals).toMatchObject({ status: 'success', data: { items: [] } });
    expect(result.current.leads.data!.items.map((l) => l.name)).toEqual(['Ada']);
  });

  it('an invalid query is an explicit error state', async () => {
    const { crm } = await salesCrm();
    const { result } = renderHook(() => useDeals({ limit: -1 }), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    expect(result.current).toMatchObject({ status: 'error', error: { code: 'VALIDATION' } });
  });
});
