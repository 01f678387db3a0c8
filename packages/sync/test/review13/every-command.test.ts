import { createMemoryStorage } from '@crmkit/core';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { own, syncedDevice, syncedRows } from '../client/support.js';

/** review13: commands of every kind run offline on one device, then one sync: no rejection, device equals server. */
for (const [engine, make] of [['memory', () => createMemoryStorage()], ['sqlite', () => createSqliteStorage({ filename: ':memory:' })]] as const) {
  describe(`review13: every command kind offline (${engine})`, () => {
    it('26 commands offline, one sync: all applied, device rows equal the server\'s', async () => {
      const { crm, server: sync, pipeline, storage } = await serverOf(make);
      const kept = await crm.deals.create({ title: 'Kept', pipelineId: pipeline.id });
      const leadA = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@example.com' } as never);
      const leadB = await crm.leads.create({ name: 'Bob' } as never);
      const leadC = await crm.leads.create({ name: 'Cy' } as never);
      const leadD = await crm.leads.create({ name: 'Dee' } as never);
      const anna = await syncedDevice(sync, { user: 'anna', seed: 5 });
      await anna.client.syncNow();
      anna.faults.online = false;
      const c = anna.client.crm;
      const deal = await c.deals.create({ title: 'Workshop', pipelineId: pipeline.id, nextStep: { subject: 'Call', dueAt: '2026-01-06T09:00:00.000Z' } } as never);
      await c.deals.update(deal.id, { title: 'Workshop Bolt' });
      await c.deals.advance(deal.id);
      await c.deals.postpone(deal.id, { until: '2026-02-01T09:00:00.000Z' } as never);
      await c.deals.lose(deal.id, { reason: 'price' });
      await c.deals.reopen(deal.id, { toStage: 'new' } as never);
      await c.deals.win(deal.id);
      await c.deals.remove(kept.id);
      await c.leads.update(leadA.id, { name: 'Ada King' } as never);
      await c.leads.qualify(leadA.id);
      await c.leads.convert(leadA.id);
      await c.leads.disqualify(leadB.id, { reason: 'spam' });
      await c.leads.remove(leadC.id);
      await c.leads.create({ name: 'Eve' } as never);
      void leadD;
      const contact = await c.contacts.create({ name: 'Grace Hopper' } as never);
      await c.contacts.update(contact.id, { name: 'Grace Hopper-Murray' } as never);
      const company = await c.companies.create({ name: 'Bolt GmbH' } as never);
      await c.companies.update(company.id, { name: 'Bolt AG' } as never);
      const gone = await c.contacts.create({ name: 'Tmp' } as never);
      await c.contacts.remove(gone.id);
      const goneCo = await c.companies.create({ name: 'Tmp Co' } as never);
      await c.companies.remove(goneCo.id);
      const t1 = await c.tasks.create({ subject: 'Send offer', dueAt: '2026-01-07T09:00:00.000Z', dealId: deal.id } as never);
      await c.tasks.update(t1.id, { subject: 'Send the offer' } as never);
      await c.tasks.postpone(t1.id, { until: '2026-01-08T09:00:00.000Z' });
      await c.tasks.complete(t1.id, { outcome: 'sent', next: { subject: 'Follow up', dueAt: '2026-01-09T09:00:00.000Z' } } as never);
      const t2 = await c.tasks.create({ subject: 'Visit', dueAt: '2026-01-07T09:00:00.000Z', contactId: contact.id } as never);
      await c.tasks.cancel(t2.id, { reason: 'no need' });
      await c.activities.log({ kind: 'call', dealId: deal.id, body: 'Met the buyer' } as never);
      const before = await syncedRows(anna.inner);

      anna.faults.online = true;
      await anna.client.syncNow();
      expect(anna.client.status()).toMatchObject({ pending: 0, unpushed: 0, rejected: [], errors: [] });
      const truth = await syncedRows(storage);
      expect(await syncedRows(anna.inner)).toEqual(truth);
      expect(await own(anna.inner, 'syncShadow')).toEqual([]);
      // The optimistic state was the server's (same ids, same fields) except server-only fields.
      const ids = (rows: Record<string, { id: string }[]>) => Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, v.map((r) => r.id)]));
      expect(ids(before)).toEqual(ids(truth));
    });
  });
}
