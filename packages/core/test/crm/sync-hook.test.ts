import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CrmFeature, StorageAdapter } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { allFeatures, createTestCrm } from '@crmkit/core/testing';

/**
 * Design sync.md §13 test 7: every write path (services, automation runs, imports, merges, an owner
 * change followed by the children) reaches `FeatureHooks.sync.recordChanges` inside its transaction.
 * The hook under test is a minimal recorder like `syncChanges()`: one `syncChange` row per record at
 * the position of its last write, with the row version it saw.
 */
const RECORDS = ['lead', 'contact', 'company', 'deal', 'task', 'activity', 'stageVisit', 'pipeline', 'customField'] as const;

function recorder(calls: { positions: number[] }[]): CrmFeature<'syncRecorder', object> {
  return {
    key: 'syncRecorder',
    setup: (ctx) => ({
      api: () => ({}),
      hooks: {
        sync: {
          async recordChanges(tx: StorageTx, written: ReadonlyMap<string, Row | null>, now: string) {
            const keys = [...written.keys()];
            const first = await tx.nextSequence('sync', ctx.tenantId, keys.length);
            const stored = await tx.getMany('syncChange', ctx.tenantId, keys);
            const positions = keys.map((_, i) => first + i);
            await tx.write('syncChange', ctx.tenantId, keys.map((key, i) => {
              const [entity, recordId] = key.split(':') as [string, string];
              const row = written.get(key);
              const next = { id: key, tenantId: ctx.tenantId, version: (stored[i]?.version ?? 0) + 1, updatedAt: now, position: positions[i]!, txPosition: first, entity, recordId, deleted: row === null, rowVersion: row?.version ?? null } as Row;
              return stored[i] ? { type: 'update' as const, row: next, expectedVersion: stored[i]!.version } : { type: 'insert' as const, row: next };
            }));
            calls.push({ positions });
          },
        },
      },
    }),
  };
}

async function allRows(storage: StorageAdapter, entity: string): Promise<Row[]> {
  return (await storage.transaction('r', (tx) => tx.query(entity, 'test', { sort: [{ field: 'id' }] }))).rows;
}

/** Every stored record has a change at its current version; every change of a missing record is a tombstone. */
async function expectRecorded(storage: StorageAdapter, calls: readonly { positions: number[] }[]): Promise<void> {
  const changes = new Map((await allRows(storage, 'syncChange')).map((c) => [c.id, c]));
  for (const entity of RECORDS) {
    for (const row of await allRows(storage, entity)) {
      const change = changes.get(`${entity}:${row.id}`);
      expect(change, `${entity}:${row.id}`).toMatchObject({ deleted: false, rowVersion: row.version });
      changes.delete(`${entity}:${row.id}`);
    }
  }
  for (const [key, change] of changes) if (RECORDS.some((e) => key.startsWith(`${e}:`))) expect(change, key).toMatchObject({ deleted: true, rowVersion: null });
  // Committed calls reserved gap-free positions in commit order (the memory adapter's writers take turns).
  const positions = calls.flatMap((c) => c.positions);
  expect(positions).toEqual(positions.map((_, i) => i + 1));
}

describe('the sync hook (design sync.md §4, test 7)', () => {
  it('records every write path: services, automation runs, imports, merges, followParent; one record per row written', async () => {
    const calls: { positions: number[] }[] = [];
    const { crm, storage } = await createTestCrm({ features: [...allFeatures(), recorder(calls)] });
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    await crm.automations.define({ name: 'Call', trigger: { type: 'stageEntered', stage: 'proposal' }, actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' } } }] });
    const ada = await crm.contacts.create({ name: 'Ada', email: 'ada@example.org' });
    const twin = await crm.contacts.create({ name: 'Ada L.', email: 'ada@example.org' });
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id, ownerId: 'anna', contactId: ada.id, nextStep: { subject: 'Intro', dueAt: '2026-01-06T09:00:00.000Z' } });
    await crm.activities.log({ kind: 'note', dealId: deal.id, body: 'Met' });
    await crm.deals.advance(deal.id, { toStage: 'proposal' });
    await crm.automations.drain();
    await crm.deals.update(deal.id, { ownerId: 'ben' }); // followParent: tasks, activities, stage visits
    await crm.contacts.merge(ada.id, [twin.id]);
    await crm.import.run({ entity: 'company', rows: [{ name: 'Acme GmbH' }, { name: 'Beta AG' }] });
    const tasks = (await allRows(storage, 'task')).filter((t) => t.dealId === deal.id);
    expect(tasks.map((t) => [t.subject, t.parentOwner]).sort()).toEqual([['Call', 'deal:ben'], ['Intro', 'deal:ben']]);
    await crm.tasks.complete(tasks[0]!.id);
    await crm.deals.remove(deal.id);
    await expectRecorded(storage, calls);
    expect(calls.length).toBeGreaterThan(10);
  });

  it('after random mixes of services the changes match the stored rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('create', 'advance', 'owner', 'log', 'task', 'remove', 'contact'), fc.nat(4)), { maxLength: 25 }), async (steps) => {
        const calls: { positions: number[] }[] = [];
        const { crm, storage } = await createTestCrm({ features: [...allFeatures(), recorder(calls)] });
        const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }] });
        const deals: string[] = [];
        for (const [step, n] of steps) {
          const id = deals[n % Math.max(1, deals.length)];
          const run = async () => {
            if (step === 'create' || !id) deals.push((await crm.deals.create({ title: `D${deals.length}`, pipelineId: pipeline.id, ownerId: 'anna' })).id);
            else if (step === 'advance') await crm.deals.advance(id);
            else if (step === 'owner') await crm.deals.update(id, { ownerId: n % 2 ? 'ben' : 'anna' });
            else if (step === 'log') await crm.activities.log({ kind: 'note', dealId: id, body: 'x' });
            else if (step === 'task') await crm.tasks.create({ subject: 'T', dealId: id, dueAt: '2026-02-01T09:00:00.000Z' });
            else if (step === 'contact') await crm.contacts.create({ name: `C${n}` });
            else await crm.deals.remove(id).then(() => deals.splice(deals.indexOf(id), 1));
          };
          await run().catch((error: unknown) => {
            if (!(error instanceof Error && error.name === 'CrmError')) throw error;
          });
        }
        await expectRecorded(storage, calls);
      }),
      { numRuns: 25 },
    );
  });

  it('without a sync hook an operation writes nothing extra', async () => {
    const { crm, storage } = await createTestCrm();
    const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }] });
    const deal = await crm.deals.create({ title: 'Acme', pipelineId: pipeline.id });
    await crm.deals.advance(deal.id);
    expect(await allRows(storage, 'syncChange')).toEqual([]);
    expect(await storage.transaction('rw', (tx) => tx.nextSequence('sync', 'test', 1))).toBe(1);
  });
});
