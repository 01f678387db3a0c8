import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import type { CrmEvent } from '../../events/event-map.js';
import type { CrmSubject, FullCrm } from './crm-harness.js';

/** Each call's outcome: `ok`, or the error's code and message (a CONFLICT must name what it was about). */
async function settle(calls: readonly (() => Promise<unknown>)[]): Promise<string[]> {
  const errors: string[] = [];
  for (const call of calls) {
    await call().catch((error: unknown) => errors.push(isCrmError(error) ? `${error.code}: ${error.message}` : String(error)));
  }
  return errors;
}

/** Every event of the tenant's feed, in feed order. */
async function feed(crm: FullCrm): Promise<CrmEvent[]> {
  const events: CrmEvent[] = [];
  for (let after = 0; ; ) {
    const page = await crm.events.read({ after, limit: 500 });
    events.push(...page.events);
    if (page.events.length < 500) return events;
    after = page.events.at(-1)!.position!;
  }
}

/**
 * Writes without a `version` from two crms on two connections of one database (`CrmSubject.racer`;
 * the crm itself where the adapter has no peer): whatever the interleaving, every call succeeds as it
 * would one after the other — on PostgreSQL (READ COMMITTED, writers overlap) as on engines whose
 * writers run one at a time — and the history has every change: no call fails with a `CONFLICT` over a
 * version it never passed, nor over a row it never named (stage visits, tasks and settings crmkit keeps).
 * A stale `version` the caller passed still fails with `CONFLICT`.
 */
export function crmUnversionedRaceTests(open: () => Promise<CrmSubject>): void {
  describe('unversioned writes on two connections', () => {
    it('concurrent updates of one contact: no error, one event per change, the from/to chain unbroken', async () => {
      const s = await open();
      const [a, b] = [s.crm, await s.racer()];
      const contact = await a.contacts.create({ name: 'X', jobTitle: 'j0' });
      const loop = (crm: FullCrm, tag: string) => settle(Array.from({ length: 15 }, (_, i) => () => crm.contacts.update(contact.id, { jobTitle: `${tag}${i}` })));
      const errors = (await Promise.all([loop(a, 'a'), loop(b, 'b'), loop(a, 'A'), loop(b, 'B')])).flat();
      expect(errors).toEqual([]);
      const updates = (await feed(a)).filter((e) => e.type === 'contact.updated' && e.subjectId === contact.id);
      expect(updates).toHaveLength(60);
      let title = 'j0';
      for (const event of updates) {
        const change = (event.data as { changes: { jobTitle: { from: string; to: string } } }).changes.jobTitle;
        expect(change.from).toBe(title);
        title = change.to;
      }
      const stored = await a.contacts.get(contact.id);
      expect(stored.jobTitle).toBe(title);
      expect(stored.version).toBe(61);
    });

    it('concurrent funnel moves and owner changes of one deal: no error, every stage visit chained, copies follow the owner', async () => {
      const s = await open();
      const [a, b] = [s.crm, await s.racer()];
      const stages = [...Array.from({ length: 30 }, (_, i) => ({ key: `s${i}`, name: `S${i}` })), { key: 'won', name: 'Won', kind: 'won' as const }, { key: 'lost', name: 'Lost', kind: 'lost' as const }];
      const pipeline = await a.pipelines.create({ name: 'Long', stages });
      const deal = await a.deals.create({ title: 'd', pipelineId: pipeline.id, ownerId: 'u0' });
      const task = await a.tasks.create({ subject: 'call', dealId: deal.id });
      // Each advance moves one stage on (30 stages: never the last); each owner change rewrites the copies
      // the deal's stage visits and task keep (`parentOwner`) — rows the caller never names.
      const loop = (crm: FullCrm, tag: string) =>
        settle(Array.from({ length: 12 }, (_, i) => () => (i % 2 ? crm.deals.update(deal.id, { ownerId: `${tag}${i}`, title: `${tag}${i}` }) : crm.deals.advance(deal.id))));
      const errors = (await Promise.all([loop(a, 'a'), loop(b, 'b')])).flat();
      expect(errors).toEqual([]);
      const stored = await a.deals.get(deal.id);
      expect(stored.stageKey).toBe('s12');
      // One visit per stage passed (the clock stands still: walk the chain rather than trust the order).
      const history = await a.deals.stageHistory(deal.id);
      const byStage = new Map(history.map((v) => [v.stageKey, v]));
      expect(byStage.size).toBe(history.length);
      const walked: string[] = [];
      for (let at = byStage.get('s0'); at; at = at.toStageKey ? byStage.get(at.toStageKey) : undefined) walked.push(at.stageKey);
      expect(walked).toEqual(Array.from({ length: 13 }, (_, i) => `s${i}`));
      expect(history.filter((v) => !v.exitedAt).map((v) => v.stageKey)).toEqual(['s12']);
      for (const visit of history) expect((visit as { parentOwner?: string }).parentOwner).toBe(`deal:${stored.ownerId!}`);
      expect((await a.tasks.get(task.id) as { parentOwner?: string }).parentOwner).toBe(`deal:${stored.ownerId!}`);
      const events = (await feed(a)).filter((e) => e.subjectId === deal.id);
      expect(events.filter((e) => e.type === 'deal.stageChanged')).toHaveLength(12);
      // Every change of the deal is an event of it: none lost, none recorded twice.
      expect(stored.version).toBe(1 + events.filter((e) => e.type.startsWith('deal.') && e.type !== 'deal.created').length);
    });

    it('the first settings row of a tenant written from two connections at once: both changes kept', async () => {
      const s = await open();
      const [a, b] = [s.crm, await s.racer()];
      // Both read no task-type row and insert one: the second insert finds the id taken, runs again and updates it.
      const errors = (await Promise.all([settle([() => a.tasks.defineType({ key: 'visit', label: 'Visit' })]), settle([() => b.tasks.defineType({ key: 'demo', label: 'Demo' })])])).flat();
      expect(errors).toEqual([]);
      const keys = (await a.tasks.listTypes()).map((t) => t.key);
      expect(keys).toEqual(expect.arrayContaining(['visit', 'demo']));
    });

    it('a stale version the caller passed still fails with CONFLICT, naming the record and both versions', async () => {
      const s = await open();
      const [a, b] = [s.crm, await s.racer()];
      await a.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      const deal = await a.deals.create({ title: 'd' });
      await b.deals.update(deal.id, { title: 'changed' });
      const error = await a.deals.update(deal.id, { title: 'mine', version: deal.version }).catch((e: unknown) => e);
      expect(isCrmError(error, 'CONFLICT')).toBe(true);
      expect((error as { details: unknown }).details).toMatchObject({ entity: 'deal', id: deal.id, expectedVersion: 1, actualVersion: 2 });
      expect((await a.deals.get(deal.id)).title).toBe('changed');
    });
  });
}
