import { createCrm, createMemoryStorage, isCrmError, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type CommandName } from '../../src/index.js';

/** An office where the `rep` may not read one field (and one custom field) of every record entity. */
async function office() {
  const crm = await createCrm({
    storage: createMemoryStorage(), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock: createFakeClock('2026-01-05T09:00:00.000Z'), random: { seed: 7 },
    features: [tasks(), activities(), customFields(), access(), syncChanges()] as const,
  });
  const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  for (const entity of ['deal', 'contact']) await crm.customFields.define({ entity, key: 'margin', label: 'Margin', type: 'number' } as never);
  await crm.customFields.define({ entity: 'deal', key: 'region', label: 'Region', type: 'text' } as never);
  const own = { '*': 'own' };
  await crm.access.setPolicy({
    roles: {
      rep: {
        grants: { deal: own, lead: own, contact: own, company: own, task: own, activity: own, pipeline: { read: 'all' }, customField: { read: 'all' } },
        fields: {
          deal: { read: { deny: ['value', 'custom.margin'] } },
          lead: { read: { deny: ['email'] } },
          contact: { read: { deny: ['phone', 'custom.margin'] } },
          company: { read: { deny: ['domain'] } },
          task: { read: { deny: ['notes'] } },
          activity: { read: { deny: ['body'] } },
        },
      },
    },
    defaultRoles: ['rep'],
  } as never);
  const anna = { ownerId: 'anna' };
  const deal = await crm.deals.create({ title: 'Acme', pipelineId: sales.id, value: { amount: 1000, currency: 'EUR' }, ...anna });
  const lead = await crm.leads.create({ name: 'Lea', email: 'lea@x.io', ...anna });
  const contact = await crm.contacts.create({ name: 'Cleo', phone: '+4912345', ...anna });
  const company = await crm.companies.create({ name: 'Co', domain: 'co.io', ...anna });
  const task = await crm.tasks.create({ subject: 'Call', type: 'call', dealId: deal.id, ownerId: 'anna' } as never);
  const server = createSyncServer(crm, { principal: (request) => (request.headers.get('authorization') === 'Bearer anna' ? { userId: 'anna' } : undefined) });
  return { crm, server, ids: { deal: deal.id, lead: lead.id, contact: contact.id, company: company.id, task: (task as { id: string }).id, pipeline: sales.id } };
}

type Ids = Awaited<ReturnType<typeof office>>['ids'];
type Verdict = 'ok' | { code: string; message: string; details: unknown };

/** Each command kind that writes fields, with a hidden field (refused) and a readable one (accepted). */
const CALLS: readonly (readonly [string, CommandName, (ids: Ids) => unknown[]])[] = [
  ['deal create: value', 'deals.create', (i) => [{ title: 'N', pipelineId: i.pipeline, value: { amount: 5, currency: 'EUR' } }]],
  ['deal create: currency sets value', 'deals.create', (i) => [{ title: 'N', pipelineId: i.pipeline, currency: 'EUR' }]],
  ['deal create: lineItems', 'deals.create', (i) => [{ title: 'N', pipelineId: i.pipeline, lineItems: [{ name: 'x', quantity: 1, unitPrice: { amount: 5, currency: 'EUR' } }] }]],
  ['deal create: custom.margin', 'deals.create', (i) => [{ title: 'N', pipelineId: i.pipeline, custom: { margin: 3, region: 'n' } }]],
  ['deal create: value and a missing pipeline', 'deals.create', () => [{ title: 'N', pipelineId: 'nope', value: { amount: 5, currency: 'EUR' } }]],
  ['deal create: value and invalid input', 'deals.create', (i) => [{ title: '', pipelineId: i.pipeline, value: { amount: 5, currency: 'EUR' } }]],
  ['deal create: readable only', 'deals.create', (i) => [{ title: 'N', pipelineId: i.pipeline, custom: { region: 'n' } }]],
  ['deal update: value', 'deals.update', (i) => [i.deal, { value: { amount: 5, currency: 'EUR' } }]],
  ['deal update: custom.margin', 'deals.update', (i) => [i.deal, { custom: { margin: 3 } }]],
  ['deal update: value of a missing deal', 'deals.update', () => ['nope', { value: { amount: 5, currency: 'EUR' } }]],
  ['deal update: value at a stale version', 'deals.update', (i) => [i.deal, { value: { amount: 5, currency: 'EUR' }, version: 9 }]],
  ['deal update: readable only', 'deals.update', (i) => [i.deal, { title: 'Acme 2', custom: { region: 's' } }]],
  ['lead create: email', 'leads.create', () => [{ name: 'L', email: 'l@x.io' }]],
  ['lead update: email', 'leads.update', (i) => [i.lead, { email: 'l2@x.io' }]],
  ['lead update: readable only', 'leads.update', (i) => [i.lead, { name: 'Lea 2' }]],
  ['lead convert: contact phone', 'leads.convert', (i) => [i.lead, { contact: { phone: '+491' } }]],
  ['lead convert: deal value', 'leads.convert', (i) => [i.lead, { deal: { title: 'D', pipelineId: i.pipeline, value: { amount: 5, currency: 'EUR' } } }]],
  ['contact create: phone', 'contacts.create', () => [{ name: 'C', phone: '+491' }]],
  ['contact create: custom.margin', 'contacts.create', () => [{ name: 'C', custom: { margin: 2 } }]],
  ['contact update: phone', 'contacts.update', (i) => [i.contact, { phone: '+492' }]],
  ['contact update: readable only', 'contacts.update', (i) => [i.contact, { name: 'Cleo 2' }]],
  ['company create: domain', 'companies.create', () => [{ name: 'K', domain: 'k.io' }]],
  ['company update: domain', 'companies.update', (i) => [i.company, { domain: 'k2.io' }]],
  ['task create: notes', 'tasks.create', (i) => [{ subject: 'T', type: 'call', dealId: i.deal, notes: 'secret' }]],
  ['task update: notes', 'tasks.update', (i) => [i.task, { notes: 'secret' }]],
  ['task update: readable only', 'tasks.update', (i) => [i.task, { subject: 'Call back' }]],
  ['activity log: body', 'activities.log', (i) => [{ kind: 'note', dealId: i.deal, body: 'secret' }]],
  ['activity log: body on a missing deal', 'activities.log', () => [{ kind: 'note', dealId: 'nope', body: 'secret' }]],
  ['activity log: readable only', 'activities.log', (i) => [{ kind: 'note', dealId: i.deal, subject: 'hi' }]],
];

const verdict = (run: () => Promise<unknown>): Promise<Verdict> => run().then(() => 'ok' as const, (error: unknown) => {
  if (!isCrmError(error)) throw error;
  return { code: error.code, message: error.message, details: error.details };
});

const call = (crm: object, name: string, args: unknown[]) => {
  const [service, method] = name.split('.') as [string, string];
  return (crm as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>)[service]![method]!(...args);
};

describe('fix13h: a write of a field the user may not read is refused on the device as online', () => {
  let online: Map<string, Verdict>;
  beforeAll(async () => {
    online = new Map();
    for (const [label, name, args] of CALLS) {
      const o = await office(); // a fresh office per call: an accepted call changes nothing the next one sees
      online.set(label, await verdict(() => call(o.crm.as({ userId: 'anna' }), name, args(o.ids))));
    }
  });

  it.each(CALLS.map(([label, name, args]) => ({ label, name, args })))('$label', async ({ label, name, args }) => {
    const o = await office();
    const local = await createCrm({
      storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: 'anna' }, logger: silentLogger,
      clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed: 3 }, features: [tasks(), activities(), customFields(), syncReplica()] as const,
    });
    const client = await createSyncClient({ crm: local, transport: inProcessTransport(o.server, { headers: () => ({ authorization: 'Bearer anna' }) }), start: false });
    await client.syncNow();
    const expected = online.get(label)!;
    const got = await verdict(() => call(client.crm, name, args(o.ids)));
    expect(got).toEqual(expected);
    // A refusal records nothing; an accepted call is done on the device (not left to the server).
    expect(client.status().pending).toBe(got === 'ok' ? 1 : 0);
    expect(client.status().deferred).toEqual([]);
    if (got === 'ok') {
      await client.syncNow();
      expect(client.status().rejected).toEqual([]);
    }
    expect(['refused', 'accepted']).toContain(typeof expected === 'string' ? 'accepted' : 'refused');
  });

  it('the table covers refusals of every command kind that writes fields', () => {
    const refused = new Set(CALLS.filter(([label]) => online.get(label) !== 'ok' && (online.get(label) as { code: string }).code === 'FORBIDDEN').map(([, name]) => name));
    expect([...refused].sort()).toEqual(['activities.log', 'companies.create', 'companies.update', 'contacts.create', 'contacts.update', 'deals.create', 'deals.update', 'leads.convert', 'leads.create', 'leads.update', 'tasks.create', 'tasks.update']);
  });
});
