import { describe, expect, it } from 'vitest';
import { CrmError } from '@crmkit/core';
import type { WriteOp } from '@crmkit/core/storage';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, faultyStorage } from '../helpers.js';
import { setupAutomations } from '../automations/automation-setup.js';

/** The conflict a storage write raises when the row moved on (or was taken) since the operation read it. */
const raced = (entity: string, ops: readonly WriteOp[]) => {
  const op = ops[0]!;
  const [id, expectedVersion, actualVersion] = op.type === 'update' ? [op.row.id as string, op.expectedVersion, op.expectedVersion + 1] : [op.type === 'insert' ? (op.row.id as string) : op.id, null, 1];
  return new CrmError('CONFLICT', `${entity} ${id} changed concurrently`, { entity, id, expectedVersion, actualVersion });
};

/** A fault that fires `times` times on writes of `entity` (of `type`, if given). */
function times(n: number, entity: string, type?: WriteOp['type']) {
  let left = n;
  return (e: string, ops: readonly WriteOp[]) => (e === entity && (!type || ops[0]!.type === type) && left-- > 0 ? raced(e, ops) : undefined);
}

describe('runWrite runs an operation again when a write of it met a concurrent transaction (review12k #1)', () => {
  it('an update without a version succeeds after races on the record and on rows crmkit keeps; one event, one version step', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage: storage as never });
    await crm.pipelines.create({ name: 'P', stages: [{ key: 'a', name: 'A' }, { key: 'b', name: 'B' }] });
    const deal = await crm.deals.create({ title: 'd', ownerId: 'u1' });
    const events: string[] = [];
    crm.on('deal.updated', (e) => void events.push(e.subjectId));
    state.fault = times(3, 'deal', 'update');
    const updated = await crm.deals.update(deal.id, { title: 'e' });
    expect([updated.title, updated.version, events.length]).toEqual(['e', 2, 1]);
    // A race on an internal row (the open stage visit's owner copy) is no caller's either.
    state.fault = times(2, 'stageVisit', 'update');
    expect((await crm.deals.update(deal.id, { ownerId: 'u2' })).version).toBe(3);
    state.fault = times(2, 'stageVisit', 'update');
    expect((await crm.deals.advance(deal.id)).stageKey).toBe('b');
  });

  it("a stale version the caller passed is thrown at once, before any write; a unique value another record holds is not retried", async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage: storage as never });
    const contact = await crm.contacts.create({ name: 'A', externalRefs: [{ system: 'shop', id: '1' }] });
    await crm.contacts.update(contact.id, { name: 'B' });
    state.writes = [];
    const stale = await expectCrmError(crm.contacts.update(contact.id, { name: 'C', version: 1 }), 'CONFLICT');
    expect([stale.details.expectedVersion, stale.details.actualVersion, state.writes]).toEqual([1, 2, []]);
    const taken = await expectCrmError(crm.contacts.create({ name: 'D', externalRefs: [{ system: 'shop', id: '1' }] }), 'CONFLICT');
    expect(taken.details.key?.value).toBe('shop:1');
    expect(state.writes.filter((e) => e === 'contact')).toHaveLength(1);
  });

  it('is bounded: a record that keeps racing gives CONFLICT after 10 runs; a taken id after 2', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage: storage as never });
    const contact = await crm.contacts.create({ name: 'A' });
    state.fault = times(Infinity, 'contact', 'update');
    state.writes = [];
    await expectCrmError(crm.contacts.update(contact.id, { name: 'B' }), 'CONFLICT');
    expect(state.writes.filter((e) => e === 'contact')).toHaveLength(10);
    state.fault = times(Infinity, 'setting', 'insert');
    state.writes = [];
    await expectCrmError(crm.tasks.defineType({ key: 'visit', label: 'Visit' }), 'CONFLICT');
    expect(state.writes.filter((e) => e === 'setting')).toHaveLength(2);
  });

  it('an automation run whose action met a race runs again as a whole: done once, not failed', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await setupAutomations({}, () => storage);
    const rule = await crm.automations.define({ name: 'Tag', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'new' }] });
    const deal = await crm.deals.create({ title: 'd' });
    state.fault = times(1, 'deal', 'update');
    await crm.automations.drain();
    const { items: runs } = await crm.automations.runs({ ruleId: rule.id });
    expect(runs.map((r) => [r.status, r.attempts])).toEqual([['done', undefined]]);
    expect((await crm.deals.get(deal.id)).tags).toEqual(['new']);
  });
  it('a reindex page run again after a race counts each corrected row once (access.reindex)', async () => {
    const { storage, state } = faultyStorage();
    const { crm } = await createTestCrm({ storage: storage as never });
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const deal = await crm.deals.create({ title: 'Old data', ownerId: 'anna' });
    const task = (subject: string) => crm.tasks.create({ subject, dueAt: '2026-02-01T10:00:00Z', dealId: deal.id, ownerId: 'ben' });
    const tasks = [await task('Call'), await task('Visit')];
    // As an older crmkit stored them: no copy of the parent's owner.
    await storage.transaction('rw', async (tx) => {
      for (const row of await tx.getMany('task', 'test', tasks.map((t) => t.id))) {
        const { parentOwner: _p, ...old } = row!;
        await tx.write('task', 'test', [{ type: 'update', row: { ...old, version: row!.version + 1 } as never, expectedVersion: row!.version }]);
      }
    });
    // The second row's write loses a race: the page runs again and corrects both rows in its second run.
    let writes = 0;
    state.fault = (entity, ops) => (entity === 'task' && ++writes === 2 ? raced(entity, ops) : undefined);
    expect(await crm.access.reindex()).toEqual({ updated: 2 });
    expect(writes).toBeGreaterThan(2);
  });
});
