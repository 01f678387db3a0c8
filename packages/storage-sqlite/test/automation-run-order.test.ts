import { describe, expect, it } from 'vitest';
import { createCrm, silentLogger } from '@crmkit/core';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { createFakeClock } from '@crmkit/core/testing';
import { createSqliteStorage } from '@crmkit/storage-sqlite';

// Review 18 #13: runs() newest first breaks same-millisecond ties by trigger (the docs' causedBy example), on SQLite too.
describe('automation runs order on SQLite', () => {
  it('same-millisecond runs: the later trigger first', async () => {
    const clock = createFakeClock('2026-01-05T09:00:00.000Z');
    const crm = await createCrm({ storage: createSqliteStorage({ filename: ':memory:' }), tenantId: 't', clock, logger: silentLogger, features: [events(), automations()] });
    const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const rule = await crm.automations.define({ name: 'Ask', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, actions: [{ type: 'emit', name: 'quoteWanted' }] });
    const handled: Promise<unknown>[] = [];
    crm.on('custom.quoteWanted' as never, (event: never) => {
      const writer = crm.automations.causedBy(event);
      handled.push(crm.deals.get((event as { subjectId: string }).subjectId).then((d) => writer.deals.update(d.id, { title: `${d.title} (quoted)` })));
    });
    for (let round = 0; round < 5; round++) {
      const deal = await crm.deals.create({ title: `Acme ${round}`, pipelineId: sales.id });
      await crm.deals.update(deal.id, { title: `Acme GmbH ${round}` });
      for (let i = 0; i < 3; i++) {
        await crm.automations.drain();
        await Promise.all(handled.splice(0));
      }
      const runs = (await crm.automations.runs({ ruleId: rule.id, record: { type: 'deal', id: deal.id } })).items;
      expect(runs.map((r) => [r.status, r.depth])).toEqual([['skipped', 1], ['done', 0]]);
    }
    await crm.close();
  });
});
