import { where, type DealListOptions } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import type { ReactNode } from 'react';
import { renderHook } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { CrmProvider, useDeals, useLeads, usePipelines } from '@crmkit/react-hooks';
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

  it('usePipelines lists the pipelines and follows creations and renames', async () => {
    const { crm } = await salesCrm();
    const { result } = renderHook(() => usePipelines(), { wrapper: wrapper(crm) });
    await settled(() => undefined);
    expect(result.current.data!.items.map((p) => p.name)).toEqual(['Sales']);
    const service = await settled(() => crm.pipelines.create({ name: 'Service', stages: [{ key: 'open', name: 'Open' }] }));
    expect(result.current.data!.items.map((p) => p.name)).toEqual(['Sales', 'Service']);
    await settled(() => crm.pipelines.update(service.id, { version: service.version, name: 'Support' }));
    expect(result.current.data!.items.map((p) => p.name)).toEqual(['Sales', 'Support']);
  });

  it('usePipelines in a view: a principal without pipeline read rights gets FORBIDDEN, one with them the list', async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { rep: { grants: { pipeline: { read: 'all' } } }, guest: { grants: { deal: { read: 'own' } } } }, defaultRoles: ['guest'] });
    await crm.access.setDirectory({ teams: [], users: [{ id: 'anna', roles: ['rep'] }] });
    const as = (userId: string) =>
      function Wrapper({ children }: { children?: ReactNode }) {
        return (
          <CrmProvider crm={crm} principal={{ userId }}>
            {children}
          </CrmProvider>
        );
      };
    const rep = renderHook(() => usePipelines(), { wrapper: as('anna') });
    const guest = renderHook(() => usePipelines(), { wrapper: as('gus') });
    await settled(() => undefined);
    expect(rep.result.current.data!.items.map((p) => p.name)).toEqual(['Sales']);
    expect(guest.result.current).toMatchObject({ status: 'error', error: { code: 'FORBIDDEN' } });
  });
});
