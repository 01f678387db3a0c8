import { describe, expect, it } from 'vitest';
import { createMemoryStorage, createCrm, isCrmError, type CrmEvent } from '@crmkit/core';
import { allFeatures } from '@crmkit/core/testing';
import { setupAutomations } from './automation-setup.js';

const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: unknown) => e as { code: string; details: { issues: { path: unknown[]; code: string }[] } });
type Caused = CrmEvent & { cause?: { runId: string; ruleId: string; depth: number; chain: string[] } };

async function setup() {
  const test = await setupAutomations({ servicePrincipal: { userId: 'bot', roles: ['bot'] } });
  const { crm, pipeline } = test;
  await crm.access.setPolicy({ roles: { bot: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' } } }, support: { grants: { deal: { read: 'all', update: 'all' }, pipeline: { read: 'all' } } } } });
  const audit = await crm.automations.define({ name: 'Audit title', trigger: { type: 'fieldChanged', entity: 'deal', field: 'title' }, actions: [{ type: 'emit', name: 'titleAudit' }] });
  const ping = await crm.automations.define({ name: 'Ping', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'emit', name: 'made' }] });
  const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
  await crm.automations.drain();
  const [made] = (await crm.events.read({ after: 0, limit: 100, types: ['custom.made' as never] })).events as Caused[];
  const sue = crm.as({ userId: 'sue', roles: ['support'] });
  return { ...test, audit, ping, deal, made: made!, sue };
}

describe('causedBy accepts only the cause of a stored run', () => {
  it('a forged cause (made-up run, oversized or negative depth, rule ids slipped into the chain) is refused and writes nothing', async () => {
    const { crm, audit, ping, deal, made, sue } = await setup();
    const real = made.cause!;
    expect(real).toMatchObject({ ruleId: ping.id, depth: 0, chain: [ping.id] });
    const forged: [string, object, string][] = [
      ['made-up run', { runId: 'made-up', ruleId: 'made-up', depth: 1, chain: ['made-up'] }, 'runId'],
      ['oversized depth', { runId: 'made-up', ruleId: 'made-up', depth: 1000, chain: [] }, 'depth'],
      ['negative depth', { ...real, depth: -1 }, 'depth'],
      ['the rule ids of others in the chain', { ...real, depth: 1, chain: [audit.id, ping.id] }, 'depth'],
      ['a longer chain at the real depth', { ...real, chain: [audit.id, ping.id] }, 'chain'],
      ['a chain of another rule', { ...real, chain: [audit.id] }, 'chain'],
      ['another rule of the run', { ...real, ruleId: audit.id, chain: [audit.id] }, 'ruleId'],
    ];
    for (const [name, cause, key] of forged) {
      for (const who of [crm, sue]) {
        const error = await failure((async () => who.automations.causedBy<typeof sue>({ ...made, cause } as never).deals.update(deal.id, { title: `renamed ${name}` }))());
        expect([name, error.code, error.details.issues[0]!.path]).toEqual([name, 'VALIDATION', ['event', 'cause', key]]);
      }
    }
    expect((await crm.deals.get(deal.id)).title).toBe('A');
    // The real cause is accepted (on the crm and on a view), and the rule runs for the renamed deal at depth 1.
    await sue.automations.causedBy<typeof sue>(made).deals.update(deal.id, { title: 'B' });
    await crm.automations.drain();
    expect((await crm.automations.runs({ ruleId: audit.id })).items.map((r) => [r.status, r.depth])).toEqual([['done', 1]]);
    const [updated] = (await crm.events.read({ after: 0, limit: 100, types: ['deal.updated'] })).events as Caused[];
    expect(updated!.cause).toEqual(real);
  });

  it('a run of another tenant sharing the storage is not a cause here', async () => {
    const { made } = await setup();
    const storage = createMemoryStorage();
    const other = await createCrm({ storage, tenantId: 'other', features: allFeatures() as never });
    const typed = other as unknown as { automations: { causedBy<C>(e: CrmEvent): C }; pipelines: { create(p: object): Promise<{ id: string }> }; deals: { create(d: object): Promise<{ id: string }>; update(id: string, p: object): Promise<unknown> } };
    const p = await typed.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const d = await typed.deals.create({ title: 'X', pipelineId: p.id });
    const error = await failure((async () => typed.automations.causedBy<typeof typed>(made).deals.update(d.id, { title: 'Y' }))());
    expect(isCrmError(error, 'VALIDATION') && error.details.issues[0]!.path).toEqual(['event', 'cause', 'runId']);
    await other.close();
  });

  it('simulate on a view takes only a stored run’s cause; the crm itself may try a hypothetical one', async () => {
    const { crm, audit, deal, sue } = await setup();
    const created = (await crm.timeline({ type: 'deal', id: deal.id })).items.find((e) => e.type === 'deal.created');
    const rule = { name: 'S', trigger: { type: 'event' as const, event: 'deal.created' as const }, actions: [{ type: 'addTag' as const, tag: 'x' }] };
    const hypothetical = { runId: 'run_1', ruleId: audit.id, depth: 1, chain: [audit.id] };
    expect((await crm.automations.simulate(rule, { ...created!, cause: hypothetical } as never)).status).toBe('done');
    expect((await failure(sue.automations.simulate(rule, { ...created!, cause: hypothetical } as never))).details.issues[0]!.path).toEqual(['event', 'cause', 'runId']);
    expect((await failure(crm.automations.simulate(rule, { ...created!, cause: { ...hypothetical, depth: 99 } } as never))).details.issues[0]!.path).toEqual(['event', 'cause', 'depth']);
  });
});
