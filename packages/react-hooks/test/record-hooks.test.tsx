import { isCrmError } from '@crmkit/core';
import { render, renderHook, screen } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { CrmProvider, useCompany, useContact, useCrm, useDeal, useLead, useTask } from '@crmkit/react-hooks';
import { salesCrm, settle, settled, wrapper } from './helpers.js';

describe('record hooks', () => {
  it('useCrm outside a CrmProvider throws a clear error', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    expect(() => renderHook(() => useCrm())).toThrow(/CrmProvider/);
    spy.mockRestore();
  });

  it('CrmProvider refuses a crm created without the observers feature, naming it', async () => {
    const { crm } = await createTestCrm({ features: [] });
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    let error: unknown;
    try {
      // @ts-expect-error the provider's type asks for a crm with observers
      render(<CrmProvider crm={crm} />);
    } catch (e) {
      error = e;
    }
    expect(isCrmError(error, 'VALIDATION') && error.details.issues[0]).toMatchObject({ path: ['crm'], code: 'feature_required' });
    expect((error as Error).message).toMatch(/observers\(\)/);
    spy.mockRestore();
  });

  it('useDeal goes loading → success, follows changes and keeps its snapshot identical otherwise', async () => {
    const { crm } = await salesCrm();
    const deal = await crm.deals.create({ title: 'Chairs', value: { amount: 100_00, currency: 'EUR' } });
    const { result, rerender } = renderHook(() => useDeal(deal.id), { wrapper: wrapper(crm) });
    expect(result.current).toMatchObject({ status: 'loading', data: undefined, error: undefined });
    await settled(() => undefined);
    expect(result.current).toMatchObject({ status: 'success', isFetching: false, data: { id: deal.id, title: 'Chairs' } });
    const first = result.current;

    rerender();
    await settled(() => crm.deals.create({ title: 'Someone else' }));
    expect(result.current).toBe(first); // unrelated change and parent re-render: same object

    await settled(() => crm.deals.update(deal.id, { title: 'Desks' }));
    expect(result.current).not.toBe(first);
    expect(result.current.data).toMatchObject({ title: 'Desks', version: deal.version + 1 });
  });

  it('a missing record is an explicit error state; switching the id recovers', async () => {
    const { crm } = await salesCrm();
    const deal = await crm.deals.create({ title: 'Real' });
    const { result, rerender } = renderHook(({ id }) => useDeal(id), { wrapper: wrapper(crm), initialProps: { id: 'deal_missing' } });
    await settled(() => undefined);
    expect(result.current.status).toBe('error');
    expect(isCrmError(result.current.error, 'NOT_FOUND')).toBe(true);
    rerender({ id: deal.id });
    await settled(() => undefined);
    expect(result.current).toMatchObject({ status: 'success', error: undefined, data: { title: 'Real' } });
  });

  it('useLead, useContact, useCompany and useTask read and follow their records', async () => {
    const { crm } = await salesCrm();
    const lead = await crm.leads.create({ name: 'Ada', email: 'ada@example.com' });
    const contact = await crm.contacts.create({ name: 'Grace' });
    const company = await crm.companies.create({ name: 'Analytical' });
    const task = await crm.tasks.create({ subject: 'Call Grace', dueAt: '2026-01-06T10:00:00Z', contactId: contact.id });
    function View() {
      const l = useLead(lead.id);
      const c = useContact(contact.id);
      const co = useCompany(company.id);
      const t = useTask(task.id);
      return <p>{[l.data?.name, c.data?.name, co.data?.name, t.data?.subject].join('|')}</p>;
    }
    render(<View />, { wrapper: wrapper(crm) });
    await settled(() => undefined);
    expect(screen.getByText('Ada|Grace|Analytical|Call Grace')).toBeTruthy();
    await settled(() => crm.contacts.update(contact.id, { name: 'Grace H.' }));
    expect(screen.getByText('Ada|Grace H.|Analytical|Call Grace')).toBeTruthy();
    await settle();
  });
});
