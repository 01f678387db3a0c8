import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError } from '../helpers.js';

const DEFAULT = { timezone: 'UTC', workingDays: [1, 2, 3, 4, 5], workingHours: [{ start: '09:00', end: '18:00' }], holidays: [] };

describe('crm.calendar.set', () => {
  it('accepts a partial update: the fields left out keep their value (the default on a fresh tenant)', async () => {
    const { crm } = await createTestCrm();
    expect(await crm.calendar.get()).toEqual(DEFAULT);
    expect(await crm.calendar.set({ timezone: 'Europe/Berlin' })).toEqual({ ...DEFAULT, timezone: 'Europe/Berlin' });
    await crm.calendar.set({ holidays: ['2026-12-26', '2026-12-25'] });
    await crm.calendar.set({ workingHours: [{ start: '08:00', end: '12:00' }] });
    expect(await crm.calendar.get()).toEqual({ ...DEFAULT, timezone: 'Europe/Berlin', holidays: ['2026-12-25', '2026-12-26'], workingHours: [{ start: '08:00', end: '12:00' }] });
  });

  it('a partial update is business-day arithmetic input at once: +1 business day lands in the new time zone', async () => {
    const { crm } = await createTestCrm({ now: '2026-03-06T15:00:00Z' }); // Friday
    await crm.calendar.set({ timezone: 'Europe/Berlin' });
    await crm.pipelines.create({
      name: 'P',
      stages: [{ key: 'new', name: 'New' }, { key: 'next', name: 'Next', taskTemplates: [{ subject: 'Call', type: 'call', due: { amount: 1, unit: 'businessDays', at: '10:00' } }] }],
    });
    const deal = await crm.deals.create({ title: 'D' });
    await crm.deals.advance(deal.id);
    const { items } = await crm.tasks.list();
    expect(items.map((t) => t.dueAt)).toEqual(['2026-03-09T09:00:00.000Z']); // Monday 10:00 Berlin
  });

  it('rejects a bad field or a merge that breaks a rule, and writes nothing', async () => {
    const { crm } = await createTestCrm();
    await crm.calendar.set({ workingHours: [{ start: '09:00', end: '12:00' }] });
    await expectCrmError(crm.calendar.set({ timezone: 'Mars/Olympus' }), 'VALIDATION');
    await expectCrmError(crm.calendar.set({ workingDays: [] }), 'VALIDATION');
    await expectCrmError(crm.calendar.set({ workingHours: [{ start: '12:00', end: '09:00' }] }), 'VALIDATION');
    await expectCrmError(crm.calendar.set({ extra: 1 } as never), 'VALIDATION');
    expect(await crm.calendar.get()).toEqual({ ...DEFAULT, workingHours: [{ start: '09:00', end: '12:00' }] });
  });

  it('in a view without setting update rights it is FORBIDDEN and writes nothing', async () => {
    const { crm } = await createTestCrm();
    await crm.access.setPolicy({ roles: { rep: { grants: { setting: { read: 'all' } } } }, defaultRoles: ['rep'] });
    const view = crm.as({ userId: 'rep-user' });
    expect((await view.calendar.get()).timezone).toBe('UTC');
    await expectCrmError(view.calendar.set({ timezone: 'Europe/Berlin' }), 'FORBIDDEN');
    expect((await crm.calendar.get()).timezone).toBe('UTC');
  });
});
