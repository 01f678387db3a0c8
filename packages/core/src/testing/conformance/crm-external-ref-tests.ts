import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { CrmSubject } from './crm-harness.js';
import { CRM_TENANT } from './crm-harness.js';

type Entity = 'lead' | 'contact' | 'company' | 'deal' | 'task' | 'activity';
interface RefApi {
  getByExternalRef(system: string, id: string): Promise<{ id: string; version: number; externalRefs?: unknown }>;
  upsertByExternalRef(system: string, id: string, input: never, options?: { expectedVersion?: number }): Promise<{ record: { id: string; version: number }; outcome: string }>;
  create(input: never): Promise<{ id: string }>;
}

/** The service of each entity, a valid create input and a changed one (for upserts). */
function target(s: CrmSubject, entity: Entity): { api: RefApi; input: Record<string, unknown>; changed: Record<string, unknown>; create: (input: Record<string, unknown>) => Promise<{ id: string }> } {
  const c = s.crm;
  switch (entity) {
    case 'lead':
      return { api: c.leads as unknown as RefApi, input: { name: 'Ada' }, changed: { name: 'Ada L.' }, create: (i) => c.leads.create(i as never) };
    case 'contact':
      return { api: c.contacts as unknown as RefApi, input: { name: 'Ada' }, changed: { name: 'Ada L.' }, create: (i) => c.contacts.create(i as never) };
    case 'company':
      return { api: c.companies as unknown as RefApi, input: { name: 'Acme' }, changed: { name: 'Acme GmbH' }, create: (i) => c.companies.create(i as never) };
    case 'deal':
      return { api: c.deals as unknown as RefApi, input: { title: 'Order 7' }, changed: { title: 'Order 7 (paid)' }, create: (i) => c.deals.create(i as never) };
    case 'task':
      return { api: c.tasks as unknown as RefApi, input: { subject: 'Call back' }, changed: { subject: 'Call back today' }, create: (i) => c.tasks.create(i as never) };
    case 'activity':
      return { api: c.activities as unknown as RefApi, input: { kind: 'call', direction: 'inbound' }, changed: { kind: 'call', direction: 'inbound' }, create: (i) => c.activities.log(i as never) };
  }
}

const ENTITIES: readonly Entity[] = ['lead', 'contact', 'company', 'deal', 'task', 'activity'];

async function eventsOf(s: CrmSubject, id: string): Promise<string[]> {
  return s.storage.transaction('r', async (tx) => (await tx.query('event', CRM_TENANT, { filter: { op: 'eq', field: 'subjectId', value: id }, sort: [{ field: 'position' }] })).rows.map((r) => String(r.type)));
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/** External refs through the services: unique per tenant, found by ref, upserted idempotently — on every adapter. */
export function crmExternalRefTests(open: () => Promise<CrmSubject>): void {
  describe('external refs', () => {
    for (const entity of ENTITIES) {
      it(`${entity}: create with refs, find by ref; a second ${entity} with the same ref is CONFLICT naming the key, nothing written`, async () => {
        const s = await open();
        await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
        const t = target(s, entity);
        const made = await t.create({ ...t.input, externalRefs: [{ system: 'shop', id: '10042' }, { system: 'erp', id: 'C-7' }] });
        expect((await t.api.getByExternalRef('shop', '10042')).id).toBe(made.id);
        expect((await t.api.getByExternalRef('erp', 'C-7')).id).toBe(made.id);
        const before = await s.dump();
        const error = await rejection(t.create({ ...t.input, externalRefs: [{ system: 'erp', id: 'C-7' }] }));
        expect(isCrmError(error, 'CONFLICT'), String(error)).toBe(true);
        expect((error as { details: { key?: unknown } }).details.key).toMatchObject({ field: 'externalKeys', value: 'erp:C-7', heldBy: made.id });
        // The message names the ref as the caller gave it and its holder, not the stored index or the refused record.
        expect((error as Error).message).toBe(`external ref erp:C-7 is already taken by ${entity} ${made.id}`);
        expect(await s.dump()).toBe(before);
        // Not found: another id, another system.
        for (const [system, id] of [['shop', '10043'], ['erp', '10042']] as const) {
          const missing = await rejection(t.api.getByExternalRef(system, id));
          expect(isCrmError(missing, 'NOT_FOUND')).toBe(true);
        }
      });
    }

    for (const entity of ENTITIES) {
      it(`${entity}: upsertByExternalRef creates once, a retry changes nothing and records no second event`, async () => {
        const s = await open();
        await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
        const t = target(s, entity);
        const first = await t.api.upsertByExternalRef('shop', 'A-1', t.input as never);
        expect(first.outcome).toBe('created');
        const events = await eventsOf(s, first.record.id);
        const dump = await s.dump();
        const again = await t.api.upsertByExternalRef('shop', 'A-1', t.input as never);
        expect(again).toMatchObject({ outcome: 'unchanged', record: { id: first.record.id, version: first.record.version } });
        expect(await s.dump()).toBe(dump);
        expect(await eventsOf(s, first.record.id)).toEqual(events);
        if (entity === 'activity') return;
        const changed = await t.api.upsertByExternalRef('shop', 'A-1', t.changed as never, { expectedVersion: first.record.version });
        expect(changed).toMatchObject({ outcome: 'updated', record: { id: first.record.id, version: first.record.version + 1 } });
        expect((await t.api.getByExternalRef('shop', 'A-1')).version).toBe(first.record.version + 1);
        // A stale version is CONFLICT with the stored one; nothing is written.
        const stale = await s.dump();
        const error = await rejection(t.api.upsertByExternalRef('shop', 'A-1', t.input as never, { expectedVersion: first.record.version }));
        expect(error).toMatchObject({ code: 'CONFLICT', details: { expectedVersion: first.record.version, actualVersion: first.record.version + 1 } });
        expect(await s.dump()).toBe(stale);
      });
    }

    for (const entity of ENTITIES) {
      it(`${entity}: an upsert whose other ref another record holds is CONFLICT naming the ref ("external ref erp:C-7"), its holder in details, nothing written`, async () => {
        const s = await open();
        await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
        const t = target(s, entity);
        const holder = await t.create({ ...t.input, externalRefs: [{ system: 'erp', id: 'C-7' }] });
        const existing = entity === 'activity' ? undefined : await t.api.upsertByExternalRef('shop', 'B-1', t.input as never);
        const dump = await s.dump();
        // Creating (a new ref) and updating (a ref some record holds) alike.
        for (const id of existing ? ['B-2', 'B-1'] : ['B-2']) {
          const error = await rejection(t.api.upsertByExternalRef('shop', id, { ...t.input, externalRefs: [{ system: 'erp', id: 'C-7' }] } as never));
          expect(isCrmError(error, 'CONFLICT'), String(error)).toBe(true);
          expect((error as Error).message).toContain(`external ref erp:C-7 is already taken by ${entity} ${holder.id}`);
          expect((error as Error).message).not.toContain('externalKeys');
          expect((error as { details: { key?: unknown } }).details.key).toMatchObject({ value: 'erp:C-7', heldBy: holder.id });
        }
        expect(await s.dump()).toBe(dump);
      });
    }

    it('refs are per tenant and validated: bad systems and ids are VALIDATION, nothing written', async () => {
      const s = await open();
      const mine = await s.crm.contacts.upsertByExternalRef('shop', '1', { name: 'Mine' });
      const theirs = await s.other.contacts.upsertByExternalRef('shop', '1', { name: 'Theirs' });
      expect(theirs.outcome).toBe('created');
      expect((await s.crm.contacts.getByExternalRef('shop', '1')).id).toBe(mine.record.id);
      const dump = await s.dump();
      const bad: [string, string][] = [['', '1'], ['sh:op', '1'], ['shop', ''], ['shop', ' 1'], ['shop', '1\u0000'], ['shop', 'x'.repeat(257)], ['shop', '\ud800']];
      for (const [system, id] of bad) {
        expect(isCrmError(await rejection(s.crm.contacts.upsertByExternalRef(system, id, { name: 'X' })), 'VALIDATION'), `${system}/${id}`).toBe(true);
        expect(isCrmError(await rejection(s.crm.contacts.getByExternalRef(system, id)), 'VALIDATION')).toBe(true);
      }
      expect(isCrmError(await rejection(s.crm.contacts.create({ name: 'X', externalRefs: [{ system: 'shop', id: ' 2' }] })), 'VALIDATION')).toBe(true);
      expect(isCrmError(await rejection(s.crm.contacts.upsertByExternalRef('shop', '3', { name: 'X', id: 'c1' } as never)), 'VALIDATION')).toBe(true);
      expect(await s.dump()).toBe(dump);
    });

    it('update replaces refs (keys follow, old ones are free again); null clears them', async () => {
      const s = await open();
      const a = await s.crm.contacts.create({ name: 'A', externalRefs: [{ system: 'shop', id: '1' }] });
      await s.crm.contacts.update(a.id, { externalRefs: [{ system: 'shop', id: '2' }, { system: 'shop', id: '2' }] });
      expect((await s.crm.contacts.get(a.id)).externalRefs).toEqual([{ system: 'shop', id: '2' }]);
      const b = await s.crm.contacts.create({ name: 'B', externalRefs: [{ system: 'shop', id: '1' }] });
      expect((await s.crm.contacts.getByExternalRef('shop', '1')).id).toBe(b.id);
      await s.crm.contacts.update(a.id, { externalRefs: null });
      const cleared = await s.crm.contacts.get(a.id);
      expect(cleared.externalRefs).toBeUndefined();
      expect(cleared.externalKeys).toBeUndefined();
      expect((await s.crm.contacts.upsertByExternalRef('shop', '2', { name: 'C' })).outcome).toBe('created');
    });

    it('in a view, a record outside the read scope is NOT_FOUND by ref, and an upsert cannot reach it', async () => {
      const s = await open();
      await s.crm.access.setPolicy({ roles: { r: { grants: { contact: { '*': 'own' } } } }, defaultRoles: ['r'] });
      await s.crm.contacts.create({ name: 'Anna’s', externalRefs: [{ system: 'shop', id: '9' }] });
      const bob = s.crm.as({ userId: 'bob' });
      expect(isCrmError(await rejection(bob.contacts.getByExternalRef('shop', '9')), 'NOT_FOUND')).toBe(true);
      const dump = await s.dump();
      const error = await rejection(bob.contacts.upsertByExternalRef('shop', '9', { name: 'Bob’s now' }));
      expect(isCrmError(error, 'NOT_FOUND'), String(error)).toBe(true);
      expect(await s.dump()).toBe(dump);
      const own = await bob.contacts.upsertByExternalRef('shop', '10', { name: 'Bob’s' });
      expect((await bob.contacts.getByExternalRef('shop', '10')).id).toBe(own.record.id);
    });
  });
}
