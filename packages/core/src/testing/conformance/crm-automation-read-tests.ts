import { describe, expect, it } from 'vitest';
import { isCrmError } from '../../errors/crm-error.js';
import { CRM_TENANT, type CrmSubject } from './crm-harness.js';

const DAY = 86_400_000;
const STAGES = [{ key: 'new', name: 'New' }, { key: 'negotiation', name: 'Negotiation' }];
const stuck = { name: 'Stuck', trigger: { type: 'timeInStage' as const, stage: 'negotiation', for: { amount: 3, unit: 'days' as const }, withoutActivity: true }, actions: [{ type: 'emit' as const, name: 'stuck' }] };
/** The rules' service principal (`automations()` default: `automation`) by the policy's default role. */
const policy = (activity: Record<string, string>, fields?: object) => ({ roles: { bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' }, activity }, ...(fields ? { fields } : {}) } }, defaultRoles: ['bot'] });

/**
 * Issue 18 (access, issue 11): every read a rule makes sees only what its service principal may read —
 * `withoutActivity` too. An activity the principal may not read is no activity to its rules; a principal
 * that may read no activity (or not the fields the trigger tests) is refused at define and fails its runs
 * `FORBIDDEN` after a policy change; without a policy (trusted) a rule sees every activity.
 */
export function crmAutomationReadTests(open: () => Promise<CrmSubject>): void {
  describe('automation reads as the service principal', () => {
    it('withoutActivity counts only the activities the service principal may read; trusted (no policy) it sees them all', async () => {
      const { crm, clock, storage } = await open();
      const pipeline = await crm.pipelines.create({ name: 'Sales', stages: STAGES });
      const rule = await crm.automations.define(stuck);
      const seen = await crm.deals.create({ title: 'Seen', pipelineId: pipeline.id, stageKey: 'negotiation', ownerId: 'anna' });
      const hidden = await crm.deals.create({ title: 'Hidden', pipelineId: pipeline.id, stageKey: 'negotiation', ownerId: 'anna' });
      clock.advance(DAY);
      await crm.activities.log({ kind: 'call', dealId: seen.id, ownerId: 'anna' });
      const call = await crm.activities.log({ kind: 'call', dealId: hidden.id, ownerId: 'anna' });
      // Stored before activities kept their parent's owner (what `crm.access.reindex()` brings up to date):
      // the principal reads it neither as its own nor through the deal.
      await storage.transaction('rw', async (tx) => {
        const [row] = await tx.getMany('activity', CRM_TENANT, [call.id]);
        const { parentOwner: _p, ...rest } = row as typeof row & { parentOwner?: string };
        await tx.write('activity', CRM_TENANT, [{ type: 'update', row: { ...rest, version: row!.version + 1 }, expectedVersion: row!.version }]);
      });
      clock.advance(3 * DAY);
      await crm.automations.tick();
      expect((await crm.automations.runs({ ruleId: rule.id })).items, 'trusted: both deals had a call').toEqual([]);

      await crm.access.setPolicy(policy({ read: 'own' }) as never);
      const bot = crm.as({ userId: 'automation' });
      expect((await bot.activities.list({ where: { op: 'eq', field: 'dealId', value: hidden.id } })).items).toEqual([]);
      expect((await bot.activities.list({ where: { op: 'eq', field: 'dealId', value: seen.id } })).items).toHaveLength(1);
      clock.advance(60_000);
      await crm.automations.tick();
      const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
      expect(runs.map((r) => [r.subjectId, r.status]), 'the policy hides the call on Hidden').toEqual([[hidden.id, 'done']]);
    });

    it('a principal that may read no activity, or not the fields it tests: define refuses; after a policy change the run fails FORBIDDEN, recorded', async () => {
      const { crm, clock } = await open();
      const pipeline = await crm.pipelines.create({ name: 'Sales', stages: STAGES });
      const defined = await crm.automations.define(stuck);
      for (const [activity, fields, what] of [[{ read: 'none' }, undefined, 'activity records'], [{ read: 'all' }, { activity: { read: { deny: ['occurredAt'] } } }, 'occurredAt of activity records']] as const) {
        await crm.access.setPolicy(policy(activity, fields) as never);
        const error = await crm.automations.define({ ...stuck, name: 'Again' }).then(() => undefined, (e: unknown) => e);
        expect(isCrmError(error, 'VALIDATION'), what).toBe(true);
        const issues = (error as { details: { issues: { path: unknown[]; message: string }[] } }).details.issues;
        expect(issues.map((i) => i.path), what).toEqual([['trigger', 'withoutActivity']]);
        expect(issues[0]!.message).toContain(`"automation" may not read ${what}`);
      }
      const deal = await crm.deals.create({ title: 'Busy', pipelineId: pipeline.id, stageKey: 'negotiation', ownerId: 'anna' });
      clock.advance(DAY);
      await crm.activities.log({ kind: 'call', dealId: deal.id, ownerId: 'anna' });
      clock.advance(3 * DAY);
      await crm.automations.tick();
      const [run] = (await crm.automations.runs({ ruleId: defined.id })).items;
      expect([run?.subjectId, run?.status, run?.error?.code]).toEqual([deal.id, 'failed', 'FORBIDDEN']);
      expect(run?.error?.message).toContain('occurredAt of activity records');
      expect((await crm.automations.list()).map((r) => r.name)).toEqual(['Stuck']);
    });

    it('conditions are never tested on a record the service principal may not read: the run skips it (notFound), with or without conditions', async () => {
      const { crm, clock } = await open();
      const pipeline = await crm.pipelines.create({ name: 'Sales', stages: STAGES });
      await crm.access.setPolicy({ roles: { bot: { grants: { deal: { '*': 'own' }, pipeline: { read: 'all' }, activity: { read: 'own' } } } }, defaultRoles: ['bot'] } as never);
      const rules = [
        await crm.automations.define({ name: 'Feed', trigger: { type: 'event', event: 'deal.created' }, conditions: [{ field: 'title', op: 'eq', value: 'Other' }], actions: [{ type: 'emit', name: 'x' }] }),
        await crm.automations.define({ name: 'Bare', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'emit', name: 'x' }] }),
        await crm.automations.define({ ...stuck, name: 'Time', conditions: [{ field: 'title', op: 'eq', value: 'Other' }] }),
      ];
      const deal = await crm.deals.create({ title: 'Anna\'s', pipelineId: pipeline.id, stageKey: 'negotiation', ownerId: 'anna' });
      await crm.automations.drain();
      clock.advance(4 * DAY);
      await crm.automations.tick();
      for (const rule of rules) {
        const runs = (await crm.automations.runs({ ruleId: rule.id })).items;
        expect(runs.map((r) => [r.subjectId, r.status, r.reason?.split(':')[0]]), rule.name).toEqual([[deal.id, 'skipped', 'notFound']]);
      }
    });
  });
}
