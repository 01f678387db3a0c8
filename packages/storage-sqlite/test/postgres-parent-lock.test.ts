import { afterAll, afterEach, expect, inject, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { events } from '@crmkit/core/feed';
import { tasks } from '@crmkit/core/tasks';
import { automations } from '@crmkit/core/automations';
import { activities } from '@crmkit/core/activities';
import { access } from '@crmkit/core/access';
import { imports } from '@crmkit/core/imports';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');
const bed = createPostgresTestBed(url);
let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});
afterAll(() => bed.end());

/*
 * A transaction that wrote a deal and then creates a task of it (an automation run: updateFields, then
 * createTask) takes no shared key of the deal (`Operation.withParentAccess`): an owner change in another
 * process holding the key exclusively waits for the deal's row, which that transaction holds — waiting
 * for the key as well would be a deadlock. The owner change loses its race and runs again instead.
 */
it('postgres: automation runs that write a deal and then add a task of it, while another process changes its owner: no deadlock, copies follow', async () => {
  const schema = bed.schemaName('parentlock');
  const open = async () => {
    const crm = await createCrm({ storage: createPostgresStorage({ connectionString: url, schema, maxConnections: 4 }), tenantId: 'acme', logger: silentLogger, features: [events(), tasks(), automations()] });
    cleanups.push(() => crm.close());
    return crm;
  };
  const a = await open();
  const b = await open();
  cleanups.push(() => bed.dropSchema(schema));
  const stages = [...Array.from({ length: 12 }, (_, i) => ({ key: `s${i}`, name: `S${i}` })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];
  await a.pipelines.create({ name: 'P', stages });
  await a.automations.define({
    name: 'touch then task',
    trigger: { type: 'event', event: 'deal.stageChanged' },
    actions: [{ type: 'updateFields', set: { title: 'auto' } }, { type: 'createTask', task: { subject: 'follow', type: 'call', due: { amount: 1, unit: 'days' } } }],
  } as never);
  const deal = await a.deals.create({ title: 'd', ownerId: 'u0' });
  for (let i = 1; i <= 10; i++) await a.deals.advance(deal.id);
  const errors: string[] = [];
  const owners = (async () => {
    for (let i = 1; i <= 30; i++) await b.deals.update(deal.id, { ownerId: `u${i}` }).catch((e: unknown) => errors.push(String(e)));
  })();
  const reports = await Promise.all([a.automations.drain(), owners]);
  await a.automations.drain();
  expect(errors).toEqual([]);
  const runs = (await a.automations.runs({ limit: 100 } as never)).items as { status: string }[];
  expect(runs.map((r) => r.status)).toEqual(Array.from({ length: 10 }, () => 'done'));
  expect(reports[0]).toBeDefined();
  const owner = (await a.deals.get(deal.id)).ownerId;
  expect(owner).toBe('u30');
  const list = (await a.tasks.list({ limit: 100 })).items;
  expect(list).toHaveLength(10);
  for (const task of list) expect((task as { parentOwner?: string }).parentOwner).toBe(`deal:${owner}`);
}, 60_000);

/** A crm on `schema` through a pool of its own (another process, as the server sees it). */
async function contactsCrm(schema: string) {
  const crm = await createCrm({ storage: createPostgresStorage({ connectionString: url, schema, maxConnections: 6 }), tenantId: 'acme', logger: silentLogger, features: [events(), activities(), access(), imports()] });
  cleanups.push(() => crm.close());
  return crm;
}
type Crm = Awaited<ReturnType<typeof contactsCrm>>;
/** One round's contacts (owned by `from`) are handed to `to`; failures go to `errors`. */
type OwnerChange = (crm: Crm, round: { contacts: { id: string }[]; from: string; to: string }, errors: string[]) => Promise<unknown>;

/*
 * Owner changes of a page of contacts in one transaction (`access.reassign`, an import in update mode):
 * each holds the contact's key exclusively; an activity with several participants holds their keys too
 * (`lockRecords`, one call, hash order). Taken one by one in id order, the owner changes' keys could wait
 * in a circle with the activity's (a deadlock, `40P01`): they take the page's keys in one call first.
 */
const ownerChanges: { name: string; schema: string; from: (round: number) => string; change: OwnerChange }[] = [
  {
    name: 'access.reassign of contacts',
    schema: 'reassignlock',
    from: (round) => `o${round}`,
    change: (crm, { from, to }, errors) => crm.access.reassign({ from, to, entities: ['contact'] }).catch((e: unknown) => errors.push(String(e))),
  },
  {
    name: 'an import updating the owners of contacts',
    schema: 'importlock',
    from: () => 'o',
    change: (crm, { contacts, to }, errors) =>
      crm.import.run({ entity: 'contact', mode: 'update', key: 'id', rows: contacts.map((c) => ({ id: c.id, ownerId: to })) }).then((r) => r.counts.failed && errors.push(JSON.stringify(r.rows)), (e: unknown) => errors.push(String(e))),
  },
];

for (const { name, schema: schemaPrefix, from, change } of ownerChanges) {
  it(`postgres: ${name} while activities with several of them as participants are logged: no deadlock`, async () => {
    const schema = bed.schemaName(schemaPrefix);
    const a = await contactsCrm(schema);
    const b = await contactsCrm(schema);
    cleanups.push(() => bed.dropSchema(schema));
    const errors: string[] = [];
    for (let round = 0; round < 4; round++) {
      const contacts: { id: string }[] = [];
      for (let i = 0; i < 12; i++) contacts.push(await a.contacts.create({ name: `c${round}-${i}`, ownerId: from(round) }));
      const logs = Array.from({ length: 12 }, (_, i) =>
        a.activities.log({ kind: 'meeting', participants: [contacts[i]!, contacts[11 - i]!, contacts[(i + 5) % 12]!].map((c) => ({ contactId: c.id })) }).catch((e: unknown) => errors.push(String(e))),
      );
      await Promise.all([change(b, { contacts, from: from(round), to: `n${round}` }, errors), ...logs]);
    }
    expect(errors).toEqual([]);
  }, 120_000);
}
