import { createMemoryStorage, type Crm } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { createSyncClient, inProcessTransport, type SyncTransport } from '../../src/index.js';
import { localErrorOf } from '../../src/client/defer-command.js';
import { serverOf } from '../server/support.js';
import { deviceCrm, syncedRows } from './support.js';

/**
 * review13b B2: every device command kind on field-projected rows. lea reads every record, but several
 * fields of each entity are hidden from her (placeholders on the device, never stored): each command runs
 * on the device without a TypeError, shows its effect at once, and the pull's rows replace it.
 */
const HIDDEN = {
  deal: ['value', 'probability', 'tags'],
  lead: ['tags', 'email'],
  contact: ['tags', 'phone'],
  company: ['tags', 'website'],
  task: ['reminders', 'priority'],
  activity: ['participants'],
};
/** Top-level fields the device must never hold on a record it received (hidden, or revealing a hidden one); a record it creates holds the user's own input until the pull projects it. */
const NEVER = { deal: ['value', 'probability', 'weightedValue', 'lineItems', 'tags', 'probabilityManual'], lead: ['tags', 'email', 'searchKeys'], contact: ['tags', 'phone', 'searchKeys'], company: ['tags', 'website', 'searchKeys'], task: ['reminders', 'priority', 'nextNotifyAt'], activity: ['participants'] } as Record<string, string[]>;

async function setup(seed: number, fields: Record<string, readonly string[]> = HIDDEN) {
  const t = await serverOf(() => createMemoryStorage(), { access: true });
  const all = { '*': 'all' };
  await t.crm.access.setPolicy({
    roles: {
      field: {
        grants: { deal: all, lead: all, contact: all, company: all, task: all, activity: all, pipeline: { read: 'all' } },
        fields: Object.fromEntries(Object.entries(fields).map(([entity, deny]) => [entity, { read: { deny } }])),
      },
    },
    defaultRoles: ['field'],
  } as never);
  const transport: SyncTransport = inProcessTransport(t.server, { headers: () => ({ 'x-user': 'lea' }) });
  const online = { on: true };
  const gated: SyncTransport = {
    push: (body, signal) => (online.on ? transport.push(body, signal) : Promise.reject(new TypeError('offline'))),
    pull: (body, signal) => (online.on ? transport.pull(body, signal) : Promise.reject(new TypeError('offline'))),
  };
  const dev = await deviceCrm({ user: 'lea', seed });
  const client = await createSyncClient({ crm: dev.crm, transport: gated, start: false });
  /** What a new device of lea pulls now: the server's verdict, projected. */
  const truth = async () => {
    const fresh = await deviceCrm({ user: 'lea', seed: seed + 1000 });
    await (await createSyncClient({ crm: fresh.crm, transport, start: false })).syncNow();
    return syncedRows(fresh.inner);
  };
  return { ...t, dev, client, online, truth };
}

type Entity = 'deal' | 'lead' | 'contact' | 'company' | 'task' | 'activity';
type Row = Record<string, unknown> | undefined;
interface Case {
  readonly name: string;
  /** Makes the record the command works on (on the server, before the device syncs); returns the command's args. */
  readonly args: (crm: Crm & { tasks: any; activities: any }, ctx: { pipelineId: string }) => Promise<unknown[]>;
  readonly entity: Entity;
  /** The device's row after the command (found by the command's id, or the created record's). */
  readonly shows: (row: Row) => boolean;
}

const money = { amount: 5000, currency: 'EUR' };
const deal = (crm: Crm, pipelineId: string, extra: object = {}) => crm.deals.create({ title: 'Acme', pipelineId, value: money, tags: ['vip'], ...extra } as never);
const due = '2026-01-07T09:00:00.000Z';
const CASES: readonly Case[] = [
  { name: 'deals.create', entity: 'deal', args: async (_, c) => [{ title: 'New', pipelineId: c.pipelineId }], shows: (r) => r?.title === 'New' },
  { name: 'deals.update', entity: 'deal', args: async (crm, c) => [(await deal(crm, c.pipelineId)).id, { title: 'Acme GmbH' }], shows: (r) => r?.title === 'Acme GmbH' },
  { name: 'deals.advance', entity: 'deal', args: async (crm, c) => [(await deal(crm, c.pipelineId)).id], shows: (r) => r?.stageKey === 'proposal' },
  { name: 'deals.postpone', entity: 'deal', args: async (crm, c) => [(await deal(crm, c.pipelineId)).id, { until: '2026-02-01T09:00:00.000Z' }], shows: (r) => r?.postponeCount === 1 },
  { name: 'deals.lose', entity: 'deal', args: async (crm, c) => [(await deal(crm, c.pipelineId)).id, { reason: 'price' }], shows: (r) => r?.status === 'lost' },
  { name: 'deals.win', entity: 'deal', args: async (crm, c) => [(await deal(crm, c.pipelineId)).id], shows: (r) => r?.status === 'won' },
  {
    name: 'deals.reopen', entity: 'deal', shows: (r) => r?.status === 'open',
    args: async (crm, c) => {
      const d = await deal(crm, c.pipelineId);
      await crm.deals.lose(d.id, { reason: 'price' } as never);
      return [d.id, { toStage: 'new' }];
    },
  },
  { name: 'deals.remove', entity: 'deal', args: async (crm, c) => [(await deal(crm, c.pipelineId)).id], shows: (r) => r === undefined },
  { name: 'leads.create', entity: 'lead', args: async () => [{ name: 'Eve' }], shows: (r) => r?.name === 'Eve' },
  { name: 'leads.update', entity: 'lead', args: async (crm) => [(await crm.leads.create({ name: 'Ada', email: 'ada@example.com', tags: ['t'] } as never)).id, { name: 'Ada King' }], shows: (r) => r?.name === 'Ada King' },
  { name: 'leads.qualify', entity: 'lead', args: async (crm) => [(await crm.leads.create({ name: 'Bo', email: 'bo@example.com', tags: ['t'] } as never)).id], shows: (r) => r?.status === 'qualified' },
  { name: 'leads.disqualify', entity: 'lead', args: async (crm) => [(await crm.leads.create({ name: 'Cy', email: 'cy@example.com', tags: ['t'] } as never)).id, { reason: 'spam' }], shows: (r) => r?.status === 'disqualified' },
  { name: 'leads.convert', entity: 'lead', args: async (crm) => [(await crm.leads.create({ name: 'Di', email: 'di@example.com', tags: ['t'] } as never)).id], shows: (r) => r?.status === 'converted' },
  { name: 'leads.remove', entity: 'lead', args: async (crm) => [(await crm.leads.create({ name: 'Ed', email: 'ed@example.com' } as never)).id], shows: (r) => r === undefined },
  { name: 'contacts.create', entity: 'contact', args: async () => [{ name: 'Neu' }], shows: (r) => r?.name === 'Neu' },
  { name: 'contacts.update', entity: 'contact', args: async (crm) => [(await crm.contacts.create({ name: 'Grace', phone: '+4930123456', tags: ['t'] } as never)).id, { name: 'Grace H' }], shows: (r) => r?.name === 'Grace H' },
  { name: 'contacts.remove', entity: 'contact', args: async (crm) => [(await crm.contacts.create({ name: 'Tmp', phone: '+4930123457' } as never)).id], shows: (r) => r === undefined },
  { name: 'companies.create', entity: 'company', args: async () => [{ name: 'Neu AG' }], shows: (r) => r?.name === 'Neu AG' },
  { name: 'companies.update', entity: 'company', args: async (crm) => [(await crm.companies.create({ name: 'Bolt', website: 'https://bolt.example', tags: ['t'] } as never)).id, { name: 'Bolt AG' }], shows: (r) => r?.name === 'Bolt AG' },
  { name: 'companies.remove', entity: 'company', args: async (crm) => [(await crm.companies.create({ name: 'Tmp Co', website: 'https://tmp.example' } as never)).id], shows: (r) => r === undefined },
  { name: 'tasks.create', entity: 'task', args: async (crm, c) => [{ subject: 'Visit', dueAt: due, dealId: (await deal(crm, c.pipelineId)).id }], shows: (r) => r?.subject === 'Visit' },
  { name: 'tasks.update', entity: 'task', args: async (crm) => [(await crm.tasks.create({ subject: 'Call', dueAt: due, reminders: [10], priority: 'high' })).id, { subject: 'Call back' }], shows: (r) => r?.subject === 'Call back' },
  { name: 'tasks.postpone', entity: 'task', args: async (crm) => [(await crm.tasks.create({ subject: 'Call', dueAt: due, reminders: [10], priority: 'high' })).id, { until: '2026-01-08T09:00:00.000Z' }], shows: (r) => r?.dueAt === '2026-01-08T09:00:00.000Z' },
  {
    name: 'tasks.complete', entity: 'task', shows: (r) => r?.status === 'done',
    args: async (crm, c) => [(await crm.tasks.create({ subject: 'Call', dueAt: due, reminders: [10], priority: 'high', dealId: (await deal(crm, c.pipelineId)).id })).id, { outcome: 'done' }],
  },
  { name: 'tasks.cancel', entity: 'task', args: async (crm) => [(await crm.tasks.create({ subject: 'Call', dueAt: due, reminders: [10], priority: 'high' })).id, { reason: 'no' }], shows: (r) => r?.status === 'cancelled' },
  { name: 'activities.log', entity: 'activity', args: async (crm, c) => [{ kind: 'call', dealId: (await deal(crm, c.pipelineId)).id, body: 'Met' }], shows: (r) => r?.body === 'Met' },
];

const idOf = (args: unknown[], result: unknown): string => (typeof args[0] === 'string' ? args[0] : (result as { id: string }).id);

describe('review13b B2: every command kind on field-projected rows', () => {
  it('covers every pushable command', async () => {
    const { COMMAND_NAMES } = await import('../../src/protocol/commands.js');
    expect(CASES.map((c) => c.name).sort()).toEqual([...COMMAND_NAMES].sort());
  });

  it('runs on the device without a TypeError, shows its effect at once, stores no hidden field; the pull replaces it', async () => {
    const { crm, pipeline, client, dev, online, truth } = await setup(31);
    const prepared = [];
    for (const c of CASES) prepared.push({ c, args: await c.args(crm as never, { pipelineId: pipeline.id }) });
    await client.syncNow();
    online.on = false;
    const seen: Record<string, unknown>[] = [];
    for (const { c, args } of prepared) {
      const out = await client.execute(c.name as never, ...args);
      const id = idOf(args, out.result);
      const row = (await dev.inner.transaction('r', (tx) => tx.getMany(c.entity, 'acme', [id])))[0] as Row;
      seen.push({ name: c.name, deferred: out.deferred, localError: out.localError?.message, shows: c.shows(row), leaked: typeof args[0] === 'string' ? NEVER[c.entity]!.filter((f) => row && f in row) : [] });
    }
    expect(seen).toEqual(CASES.map((c) => ({ name: c.name, deferred: undefined, localError: undefined, shows: true, leaked: [] })));
    expect(client.status()).toMatchObject({ pending: CASES.length, deferred: [] });

    online.on = true;
    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 0, rejected: [], deferred: [], errors: [] });
    expect(await syncedRows(dev.inner)).toEqual(await truth());
  });

  it('a command reading a hidden field that decides it is left to the server with a typed reason, then applied', async () => {
    // A deal's status hidden hides its stage too: the device cannot tell which stage is next.
    const { crm, pipeline, client, dev, truth } = await setup(32, { deal: ['status'] });
    const d = await deal(crm, pipeline.id);
    await client.syncNow();
    const out = await client.execute('deals.advance', d.id);
    expect(out.deferred).toBe('hidden_field');
    expect(out.localError).toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'hidden_field', path: ['stageKey'] }] } });
    expect(out.localError!.message).not.toMatch(/Cannot read|undefined/);
    expect(client.status().deferred).toEqual([{ seq: out.seq, name: 'deals.advance', at: expect.any(String), reason: 'hidden_field' }]);
    expect((await dev.crm.deals.get(d.id)).version).toBe(d.version); // held as it was (§25)
    await client.syncNow();
    expect(client.status()).toMatchObject({ pending: 0, rejected: [], deferred: [] });
    expect((await crm.deals.get(d.id)).stageKey).toBe('proposal');
    expect(await syncedRows(dev.inner)).toEqual(await truth());
  });

  it('a device fault is left to the server without its text in the message', () => {
    const json = localErrorOf('deals.update', new TypeError("Cannot read properties of undefined (reading 'length')"));
    expect(json).toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'not_judged' }] } });
    expect(json.message).not.toMatch(/Cannot read/);
  });
});

describe('the placeholder table follows core', () => {
  it('lists every required field of each record entity', async () => {
    const { REQUIRED } = await import('../../src/client/hidden-fields.js');
    const model = await import('../../../core/src/access/access-model.js');
    const schemas = {
      deal: (await import('../../../core/src/schema/deal.js')).dealSchema(),
      lead: (await import('../../../core/src/schema/lead.js')).leadSchema(),
      contact: (await import('../../../core/src/schema/contact.js')).contactSchema(),
      company: (await import('../../../core/src/schema/company.js')).companySchema(),
      task: (await import('../../../core/src/schema/task.js')).taskSchema(),
      activity: (await import('../../../core/src/schema/activity.js')).activitySchema(),
      stageVisit: (await import('../../../core/src/schema/stage-visit.js')).stageVisitSchema(),
    };
    for (const [entity, schema] of Object.entries(schemas)) {
      const shape = schema.shape as Record<string, { _zod: { optin?: string } }>;
      const required = Object.keys(shape).filter((f) => shape[f]!._zod.optin !== 'optional' && !model.BASE_FIELDS.has(f) && !(entity === 'stageVisit' && f === 'dealId'));
      expect(Object.keys(REQUIRED[entity]!).sort(), entity).toEqual(required.sort());
    }
    // What core hides with a placeholdered field (`REVEALS`) the server lists with it (`hiddenFields`): writes drop it too (hidden-field-verdicts.test.ts).
  });
});
