import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createCrm, isCrmError, silentLogger, where, type StorageAdapter } from '@crmkit/core';
import { access, type AccessPolicy } from '@crmkit/core/access';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { timeline } from '@crmkit/core/timeline';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';
import { slowWrites } from './support/slow-writes.js';

const url = inject('postgresUrl');
const bed = createPostgresTestBed(url);
let cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  cleanups = [];
});
afterAll(() => bed.end());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const POLICY: AccessPolicy = { roles: { r: { grants: { deal: { '*': 'team' }, contact: { '*': 'team' }, company: { '*': 'team' }, pipeline: { read: 'all' } } } }, defaultRoles: ['r'] };
const directory = (mateTeam: string, extra: string[] = []) => ({
  teams: [{ id: 'x' }, { id: 'y' }],
  users: [{ id: 'me', teamIds: ['x'] }, { id: 'mate', teamIds: [mateTeam] }, { id: 'other', teamIds: ['y'] }, ...extra.map((id) => ({ id, teamIds: ['y'] }))],
});
const outcome = (r: PromiseSettledResult<unknown>) => (r.status === 'fulfilled' ? 'ok' : isCrmError(r.reason) ? `${r.reason.code} ${r.reason.message}` : String(r.reason));

/** Two crms on one schema, each with its own pool: two processes as PostgreSQL sees them. */
async function twoProcesses(wrap: (storage: StorageAdapter, which: 'a' | 'b') => StorageAdapter = (s) => s) {
  const schema = bed.schemaName('acc');
  const make = async (which: 'a' | 'b') => {
    const crm = await createCrm({ storage: wrap(createPostgresStorage({ connectionString: url, schema, maxConnections: 4 }), which), tenantId: 't', logger: silentLogger, features: [customFields(), tasks(), access(), timeline()] });
    cleanups.push(() => crm.close());
    return crm;
  };
  const a = await make('a');
  const b = await make('b');
  cleanups.push(() => bed.dropSchema(schema));
  const p = await a.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }] });
  await a.access.setPolicy(POLICY);
  await a.access.setDirectory(directory('x'));
  return { a, b, pipelineId: p.id };
}

describe('access configuration under concurrency (PostgreSQL, two pools)', () => {
  it('a shared key: holders in two connections run side by side, an exclusive one waits for them', async () => {
    const schema = bed.schemaName('shared');
    cleanups.push(() => bed.dropSchema(schema));
    const adapters = [];
    for (let i = 0; i < 3; i++) {
      const adapter = createPostgresStorage({ connectionString: url, schema, maxConnections: 2 });
      await adapter.open((await import('@crmkit/core/storage')).CRM_STORAGE_SCHEMA);
      cleanups.push(() => adapter.close());
      adapters.push(adapter);
    }
    const [a, b, c] = adapters as [StorageAdapter, StorageAdapter, StorageAdapter];
    const order: string[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let taken!: () => void;
    const first = new Promise<void>((resolve) => (taken = resolve));
    // A holds the key shared until released (a test may wait on a promise in a PostgreSQL transaction).
    const holder = a.transaction('rw', async (tx) => {
      await tx.lockKeys('t', ['config'], true);
      taken();
      await held;
      order.push('a ends');
    });
    await first;
    await b.transaction('rw', (tx) => tx.lockKeys('t', ['config'], true));
    order.push('b shared done');
    const exclusive = c.transaction('rw', (tx) => tx.lockKeys('t', ['config'])).then(() => order.push('c exclusive done'));
    await sleep(200);
    release();
    await Promise.all([holder, exclusive]);
    expect(order).toEqual(['b shared done', 'a ends', 'c exclusive done']);
  });

  it('first shares of two entities in two processes both succeed (review 11k #4): no CONFLICT on the internal rows', async () => {
    const { a, b, pipelineId } = await twoProcesses();
    for (let round = 0; round < 3; round++) {
      const deal = await a.deals.create({ title: `d${round}`, pipelineId, ownerId: 'other' });
      const contact = await a.contacts.create({ name: `c${round}`, ownerId: 'other' });
      const company = await a.companies.create({ name: `k${round}`, ownerId: 'other' });
      // A view shares too (its owner's company): sharing is a user operation, not administration.
      const results = await Promise.allSettled([
        a.access.share({ type: 'deal', id: deal.id }, { userId: 'me', access: 'read' }),
        b.access.share({ type: 'contact', id: contact.id }, { userId: 'me', access: 'read' }),
        b.as({ userId: 'other' }).access.share({ type: 'company', id: company.id }, { userId: 'me', access: 'read' }),
      ]);
      expect(results.map(outcome), `round ${round}`).toEqual(['ok', 'ok', 'ok']);
      // Both instances see both shares at their next operation.
      for (const crm of [a, b]) {
        const me = crm.as({ userId: 'me' });
        expect((await me.deals.get(deal.id)).id).toBe(deal.id);
        expect((await me.contacts.get(contact.id)).id).toBe(contact.id);
        expect((await me.companies.get(company.id)).id).toBe(company.id);
      }
    }
  });

  it('setPolicy, setDirectory, custom fields, task types and the calendar at once from two processes all succeed (review 11k #4)', async () => {
    const { a, b } = await twoProcesses();
    for (let round = 0; round < 4; round++) {
      const results = await Promise.allSettled([
        a.access.setPolicy(POLICY),
        b.access.setDirectory(directory('x', [`u${round}`])),
        b.customFields.define({ entity: 'deal', key: `k${round}`, label: 'K', type: 'text' }),
        a.customFields.define({ entity: 'contact', key: `k${round}`, label: 'K', type: 'text' }),
        a.tasks.defineType({ key: `a${round}`, label: 'A' }),
        b.tasks.defineType({ key: `b${round}`, label: 'B' }),
        a.calendar.set({ holidays: [`2030-01-0${round + 1}`] }),
        b.access.reindex(),
      ]);
      expect(results.map(outcome), `round ${round}`).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok', 'ok']);
    }
    // Nothing was lost: every change is stored, and each process sees the other's.
    const types = (await b.tasks.listTypes()).map((t) => t.key);
    for (let round = 0; round < 4; round++) expect(types).toEqual(expect.arrayContaining([`a${round}`, `b${round}`]));
    expect((await a.customFields.list()).map((d) => `${d.entity}.${d.key}`).sort()).toEqual(
      ['contact.k0', 'contact.k1', 'contact.k2', 'contact.k3', 'deal.k0', 'deal.k1', 'deal.k2', 'deal.k3'],
    );
    expect((await a.access.getDirectory()).users.map((u) => u.id)).toContain('u3');
  });

  it('a write of a view commits before a revoke that started after it; a write starting during the revoke sees it (review 11k #5)', async () => {
    const slowDeals = { on: false };
    const slowSettings = { on: false };
    const { a, b, pipelineId } = await twoProcesses((storage, which) => (which === 'a' ? slowWrites(storage, 'deal', 400, { slow: slowDeals }) : slowWrites(storage, 'setting', 400, { slow: slowSettings })));
    const mateDeal = await a.deals.create({ title: 'mate', pipelineId, ownerId: 'mate' });
    const me = a.as({ userId: 'me' });
    const order: string[] = [];
    // The write holds the configuration lock shared from its start; the revoke (mate leaves my team) waits for it.
    slowDeals.on = true;
    const write = me.deals.update(mateDeal.id, { title: 'changed by me' }).then(() => order.push('write'));
    await sleep(100);
    const revoke = b.access.setDirectory(directory('y')).then(() => order.push('revoke'));
    await Promise.all([write, revoke]);
    slowDeals.on = false;
    expect(order).toEqual(['write', 'revoke']);
    // Commit order is feed order: the update's event comes first.
    const log = await a.eventLog.list({ where: where.in('type', ['deal.updated', 'access.directoryChanged']), orderBy: [{ field: 'position', direction: 'desc' }], limit: 2 });
    expect(log.items.map((e) => e.type)).toEqual(['access.directoryChanged', 'deal.updated']);
    // A write that starts while the revoke is being written waits for it, then sees it.
    await b.access.setDirectory(directory('x'));
    slowSettings.on = true;
    const revoke2 = b.access.setDirectory(directory('y'));
    await sleep(100);
    const late = await me.deals.update(mateDeal.id, { title: 'too late' }).then(() => 'ok', (e: unknown) => (isCrmError(e) ? e.code : String(e)));
    await revoke2;
    slowSettings.on = false;
    expect(late).toBe('NOT_FOUND');
    expect((await a.deals.get(mateDeal.id)).title).toBe('changed by me');
  });
});
