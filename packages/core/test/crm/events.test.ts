import { describe, expect, it } from 'vitest';
import { createCrm, createMemoryStorage, silentLogger, where, type CrmEvent, type StorageAdapter } from '@crmkit/core';
import { customFields } from '@crmkit/core/custom-fields';
import { duplicates } from '@crmkit/core/duplicates';
import { timeline } from '@crmkit/core/timeline';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError } from '../helpers.js';

describe('events', () => {
  it('persists each event in the same transaction as its change and emits it after commit', async () => {
    const storage = createMemoryStorage();
    const crm = await createCrm({ storage, tenantId: 't', actor: { userId: 'u1' }, logger: silentLogger, features: [timeline()] });
    const order: string[] = [];
    storage.onChange((batch) => order.push(`commit:${batch.changes.map((c) => c.entity).join(',')}`));
    const off = crm.on('contact.created', (event) => {
      order.push(`emit:${event.type}`);
      expect(event.data.contact.name).toBe('Ann');
      expect(event.actorId).toBe('u1');
    });
    const all: CrmEvent[] = [];
    crm.on('*', (e) => all.push(e));
    const contact = await crm.contacts.create({ name: 'Ann' });
    expect(order).toEqual(['commit:contact,event', 'emit:contact.created']);
    const stored = await crm.eventLog.list({ where: where.eq('subjectId', contact.id) });
    expect(stored.items).toEqual(all);
    off();
    await crm.contacts.create({ name: 'Bob' });
    expect(order.filter((o) => o.startsWith('emit'))).toHaveLength(1);
    expect(all).toHaveLength(2);
  });

  it('emits and stores nothing when the operation fails', async () => {
    const t = await createTestCrm();
    const seen: string[] = [];
    t.crm.on('*', (e) => seen.push(e.type));
    const lead = await t.crm.leads.create({ name: 'X' });
    seen.length = 0;
    const before = t.storage.snapshot();
    await expectCrmError(t.crm.leads.convert(lead.id, { deal: { pipelineId: 'pl_none' } }), 'VALIDATION');
    expect(seen).toEqual([]);
    expect(t.storage.snapshot()).toEqual(before);
  });

  it('rolls back the change when appending its events fails (injected storage failure)', async () => {
    const inner = createMemoryStorage();
    const failing: StorageAdapter = {
      ...inner,
      open: (s) => inner.open(s),
      onChange: (l) => inner.onChange(l),
      close: () => inner.close(),
      transaction: (mode, fn) =>
        inner.transaction(mode, (tx) =>
          fn({
            ...tx,
            getMany: tx.getMany,
            query: tx.query,
            aggregate: tx.aggregate,
            write: async (entity, tenant, ops) => {
              if (entity === 'event') throw new Error('disk full');
              return tx.write(entity, tenant, ops);
            },
          }),
        ),
    };
    const crm = await createCrm({ storage: failing, tenantId: 't', logger: silentLogger });
    await expect(crm.contacts.create({ name: 'Nope' })).rejects.toThrow('disk full');
    expect(inner.snapshot().contact).toEqual({});
  });

  it('keeps delivering to other handlers when one throws, and reports it to the logger', async () => {
    const errors: string[] = [];
    const crm = await createCrm({
      storage: createMemoryStorage(),
      tenantId: 't',
      logger: { ...silentLogger, error: (message) => errors.push(message) },
    });
    const seen: string[] = [];
    crm.on('company.created', () => {
      throw new Error('handler bug');
    });
    crm.on('company.created', (e) => seen.push(e.data.company.name));
    await crm.companies.create({ name: 'Still works' });
    expect(seen).toEqual(['Still works']);
    expect(errors).toEqual(['crmkit: an event handler threw']);
  });

  it('stops working after close with CLOSED', async () => {
    const { crm } = await createTestCrm();
    await crm.close();
    await expectCrmError(crm.leads.create({ name: 'late' }), 'CLOSED');
    await crm.close();
  });
});

describe('tenant isolation', () => {
  it('a crm instance can neither read nor change another tenant’s records', async () => {
    const storage = createMemoryStorage();
    const acme = await createCrm({ storage, tenantId: 'acme', closeStorage: false, logger: silentLogger, features: [customFields(), duplicates()] });
    const globex = await createCrm({ storage, tenantId: 'globex', closeStorage: false, logger: silentLogger, features: [duplicates(), timeline()] });
    await acme.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
    await globex.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
    const contact = await acme.contacts.create({ id: 'shared-id', name: 'Acme person' });
    const lead = await acme.leads.create({ name: 'Acme lead', email: 'x@acme.com' });
    await acme.customFields.define({ entity: 'deal', key: 'tier', label: 'Tier', type: 'text' });

    await expectCrmError(globex.contacts.get(contact.id), 'NOT_FOUND');
    await expectCrmError(globex.contacts.update(contact.id, { name: 'hacked' }), 'NOT_FOUND');
    await expectCrmError(globex.contacts.remove(contact.id), 'NOT_FOUND');
    await expectCrmError(globex.leads.convert(lead.id), 'NOT_FOUND');
    await expectCrmError(globex.deals.create({ title: 'x', contactId: contact.id }), 'VALIDATION');
    await expectCrmError(globex.deals.create({ title: 'x', custom: { tier: 'gold' } }), 'VALIDATION');
    expect((await globex.duplicates.find({ email: 'x@acme.com' })).length).toBe(0);
    expect((await globex.contacts.list()).items).toEqual([]);
    expect((await globex.eventLog.list()).items.every((e) => e.tenantId === 'globex')).toBe(true);
    // Another tenant's record does not exist here: its timeline is NOT_FOUND, not an empty page.
    await expectCrmError(globex.timeline({ type: 'contact', id: contact.id }), 'NOT_FOUND');

    const own = await globex.contacts.create({ id: 'shared-id', name: 'Globex person' });
    expect(own.name).toBe('Globex person');
    expect((await acme.contacts.get('shared-id')).name).toBe('Acme person');
  });
});

describe('the event bus', () => {
  it('delivers in subscription order; a handler that unsubscribes another mid-emit changes the next emit, not this one', async () => {
    const crm = await createCrm({ storage: createMemoryStorage(), tenantId: 't', logger: silentLogger });
    const calls: string[] = [];
    let offB: () => void = () => undefined;
    const offA = crm.on('contact.created', () => {
      calls.push('a');
      offB();
    });
    offB = crm.on('contact.created', () => void calls.push('b'));
    crm.on('*', (e) => void calls.push(`*:${e.type}`));
    await crm.contacts.create({ name: 'Ann' });
    expect(calls).toEqual(['a', 'b', '*:contact.created']);
    calls.length = 0;
    offA();
    await crm.contacts.create({ name: 'Ben' });
    expect(calls).toEqual(['*:contact.created']);
    await crm.close();
  });
});
