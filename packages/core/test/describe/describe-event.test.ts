import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeEvent, englishEventMessages, type EventMessages } from '@crmkit/core/describe';
import { createTestCrm } from '@crmkit/core/testing';

/** Every event type CrmEventMap declares, read from its source (the map is a type: it has no runtime list). */
function declaredEventTypes(): string[] {
  const source = readFileSync(fileURLToPath(new URL('../../src/events/event-map.ts', import.meta.url)), 'utf8');
  const body = source.slice(source.indexOf('export interface CrmEventMap'), source.indexOf('export type CrmEventName'));
  return [...body.matchAll(/^ {2}'([a-zA-Z]+\.[a-zA-Z]+)':/gm)].map((m) => m[1]!);
}

describe('describeEvent', () => {
  it('has an English sentence for every event type of the schema, and none for a type that does not exist', () => {
    const declared = declaredEventTypes();
    expect(declared.length).toBeGreaterThan(40);
    expect(Object.keys(englishEventMessages).filter((k) => k !== 'fallback').sort()).toEqual([...declared].sort());
  });

  it('describes the events of a real session in readable English (no undefined, no raw type names)', async () => {
    const { crm, clock } = await createTestCrm({ now: '2026-03-02T08:00:00.000Z' });
    const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal', probability: 60 }] });
    const names = new Map(sales.stages.map((s) => [s.key, s.name]));
    const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk', companyName: 'Analytical Engines' });
    await crm.leads.qualify(lead.id);
    const { deal } = await crm.leads.convert(lead.id, { deal: { title: 'Difference engine', value: { amount: 250_000_00, currency: 'EUR' } } });
    await crm.activities.log({ kind: 'call', dealId: deal!.id, outcome: 'Demo booked' });
    await crm.deals.advance(deal!.id);
    await crm.deals.postpone(deal!.id, { until: '2026-03-10T09:00:00Z', reason: 'Client on holiday' });
    const task = (await crm.tasks.list()).items[0]!;
    await crm.tasks.complete(task.id, { outcome: 'Called back' });
    await crm.deals.win(deal!.id);
    await crm.calendar.set({ timezone: 'Europe/Berlin' });
    await crm.tasks.create({ subject: 'Send contract', type: 'email', dueAt: '2026-03-02T10:00:00Z', reminders: [30] });
    clock.advance(4 * 3_600_000);
    await crm.scheduler.tick();
    const { events } = await crm.events.read({ limit: 1000 });
    const sentences = events.map((e) => [e.type, describeEvent(e, { stageName: (key) => names.get(key) ?? key })] as const);
    expect(new Set(events.map((e) => e.type)).size).toBeGreaterThan(12);
    for (const [type, sentence] of sentences) {
      expect(sentence, type).not.toMatch(/undefined|\[object|NaN|^$/);
      expect(sentence, type).not.toContain(type);
    }
    const byType = new Map(sentences);
    expect(byType.get('deal.stageChanged')).toBe('Moved from New to Proposal');
    expect(byType.get('deal.won')).toBe('Won (€250,000.00)');
    expect(byType.get('lead.converted')).toBe('Lead converted into a deal: new contact, new company');
    expect(byType.get('deal.postponed')).toBe('Next step postponed to Mar 10, 2026, 9:00 AM: Client on holiday');
    expect(byType.get('task.reminder')).toBe('Reminder: “Send contract” is due in 30 minutes');
    expect(byType.get('activity.logged')).toBe('Call logged: Demo booked');
    await crm.close();
  });

  it('takes another locale through a message table; types it leaves out fall back to English', () => {
    const german: EventMessages = {
      'deal.won': (e, f) => `Gewonnen (${f.money(e.data.amount)})`,
      fallback: (e) => `Ereignis ${e.type}`,
    };
    const base = { subjectType: 'deal', subjectId: 'deal_1', at: '2026-03-02T08:00:00.000Z' };
    const won = { ...base, type: 'deal.won' as const, data: { from: 'proposal', stageKey: 'won', amount: { amount: 123456, currency: 'EUR' } } };
    expect(describeEvent(won as never, { locale: 'de-DE', messages: german })).toBe('Gewonnen (1.234,56\u00a0€)');
    const lost = { ...base, type: 'deal.lost' as const, data: { from: 'new', reason: 'price' } };
    expect(describeEvent(lost as never, { locale: 'de-DE', messages: german })).toBe('Lost: price');
    const custom = { ...base, type: 'invoice.paid', data: {} };
    expect(describeEvent(custom, { messages: german })).toBe('Ereignis invoice.paid');
    expect(describeEvent(custom)).toBe('Invoice paid');
    expect(describeEvent({ ...custom, type: 'toString' }, { messages: {} })).toBe('To string');
  });

  it('writes dates in the time zone asked for, lists in the locale', () => {
    const base = { subjectType: 'task', subjectId: 'task_1', at: '2026-03-02T08:00:00.000Z' };
    const postponed = { ...base, type: 'task.postponed' as const, data: { to: '2026-03-10T09:00:00.000Z', count: 1 } };
    expect(describeEvent(postponed as never, { timeZone: 'Europe/Berlin' })).toBe('Task postponed to Mar 10, 2026, 10:00 AM');
    const updated = { ...base, type: 'task.updated' as const, data: { changes: { subject: { from: 'a', to: 'b' }, priority: { from: 'normal', to: 'high' } } } };
    expect(describeEvent(updated as never)).toBe('Task updated: subject and priority');
  });
});
