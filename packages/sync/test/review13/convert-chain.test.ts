import { createMemoryStorage } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { scopedServer } from '../server/scope-support.js';
import { serverOf } from '../server/support.js';
import { syncedDevice, syncedRows } from '../client/support.js';

/** review13: a lead converted offline, then its new deal and contact worked on offline (ids the device predicted). */
describe('review13: working on what an offline conversion created', () => {
  it('convert (contact, company, deal), advance the new deal, log a call on the new contact: all applied on the server', async () => {
    const { crm, server: sync, pipeline, storage } = await serverOf(() => createMemoryStorage());
    const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@example.com', companyName: 'Analytical Ltd' } as never);
    const anna = await syncedDevice(sync, { user: 'anna', seed: 51 });
    await anna.client.syncNow();
    anna.faults.online = false;
    const converted = (await anna.client.crm.leads.convert(lead.id, { deal: { title: 'Engine', pipelineId: pipeline.id } } as never)) as unknown as { contact: { id: string }; deal: { id: string }; company?: { id: string } };
    await anna.client.crm.deals.advance(converted.deal.id);
    await anna.client.crm.activities.log({ kind: 'call', contactId: converted.contact.id, body: 'Welcome call' } as never);
    anna.faults.online = true;
    await anna.client.syncNow();
    expect(anna.client.status().rejected).toEqual([]);
    expect((await crm.deals.get(converted.deal.id)).stageKey).toBe('proposal');
    expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
  });

  it('same for a rep who cannot see the existing contact with that e-mail (the server links it, the device created one)', async () => {
    const { crm, server: sync, pipeline, storage } = await scopedServer(() => createMemoryStorage());
    await crm.access.setPolicy({
      roles: { rep: { grants: { lead: { '*': 'own' }, deal: { '*': 'own' }, contact: { '*': 'own' }, company: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' } } } },
      defaultRoles: ['rep'],
    } as never);
    await crm.contacts.create({ name: 'Ada (Ben\'s)', email: 'ada@example.com', ownerId: 'ben' } as never);
    const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@example.com', ownerId: 'anna' } as never);
    const anna = await syncedDevice(sync, { user: 'anna', seed: 52 });
    await anna.client.syncNow();
    anna.faults.online = false;
    const converted = (await anna.client.crm.leads.convert(lead.id, { deal: { title: 'Engine', pipelineId: pipeline.id } } as never)) as unknown as { contact: { id: string }; deal: { id: string } };
    await anna.client.crm.activities.log({ kind: 'call', contactId: converted.contact.id, body: 'Welcome call' } as never);
    anna.faults.online = true;
    await anna.client.syncNow();
    const rejected = anna.client.status().rejected.map((r) => [r.name, r.error.code, r.error.message]);
    expect(rejected).toEqual([]);
    // Anna's device equals what the server shows her (the server did not link Ben's hidden contact).
    expect((await anna.crm.contacts.list()).items.map((c) => c.id)).toEqual((await crm.as({ userId: 'anna' }).contacts.list()).items.map((c) => c.id));
    void storage;
  });
});
