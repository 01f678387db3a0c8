import { renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { CrmProvider, useCrm, useDeals } from '@crmkit/react-hooks';
import { settled } from './helpers.js';

describe('CrmProvider with a principal', () => {
  it('hooks act for the principal: they list only what the policy lets it read, and writes are credited to it', async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    await crm.access.setPolicy({ roles: { rep: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    await crm.deals.create({ title: 'Mine', ownerId: 'anna' });
    await crm.deals.create({ title: 'Theirs', ownerId: 'ben' });
    const Wrapper = ({ children }: { children?: ReactNode }) => (
      <CrmProvider crm={crm} principal={{ userId: 'anna' }}>
        {children}
      </CrmProvider>
    );
    const { result, rerender } = renderHook(() => ({ deals: useDeals(), crm: useCrm() }), { wrapper: Wrapper });
    await settled(() => undefined);
    expect(result.current.deals.data?.items.map((d) => d.title)).toEqual(['Mine']);
    const view = result.current.crm;
    rerender();
    expect(result.current.crm).toBe(view); // same principal content: the same view
    const created = await settled(() => result.current.crm.deals.create({ title: 'New one' }));
    expect(created.ownerId).toBe('anna');
    expect(result.current.deals.data?.items.map((d) => d.title).sort()).toEqual(['Mine', 'New one']);
    const log = await crm.eventLog.list({ where: { op: 'eq', field: 'subjectId', value: created.id } });
    expect(log.items.map((e) => e.actorId)).toEqual(['anna']);
  });
});
