import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';

// Review items of issue 18 fixed in fix18h (review18d #11, #10; review18e #7): one test per item.
const verdict = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as { code?: string; details?: { issues?: { path: (string | number)[] }[] } });

describe('review 18d #11: simulate refuses a malformed event with VALIDATION at its path', () => {
  it('each malformed event is refused at the path of its fault; nothing is simulated', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'd', pipelineId: pipeline.id });
    const rule = { name: 'r', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'addTag' as const, tag: 'x' }] };
    const base = { type: 'deal.created', subjectType: 'deal', subjectId: deal.id, data: {} };
    const cases: [string, unknown, (string | number)[]][] = [
      ['no subjectType', { type: 'deal.created', subjectId: deal.id, data: {} }, ['event', 'subjectType']],
      ['subjectType banana', { ...base, subjectType: 'banana' }, ['event', 'subjectType']],
      ['subjectType of another record type', { ...base, subjectType: 'lead' }, ['event', 'subjectType']],
      ['no subjectId', { type: 'deal.created', subjectType: 'deal', data: {} }, ['event', 'subjectId']],
      ['empty subjectId', { ...base, subjectId: '' }, ['event', 'subjectId']],
      ['100 kB subjectId', { ...base, subjectId: 'x'.repeat(100_000) }, ['event', 'subjectId']],
      ['unknown type', { ...base, type: 'deal.wonn' }, ['event', 'type']],
      ['no type', { subjectType: 'deal', subjectId: deal.id, data: {} }, ['event', 'type']],
      ['cause a string', { ...base, cause: 'junk' }, ['event', 'cause']],
      ['cause chain not an array', { ...base, cause: { runId: 'r', ruleId: 'x', depth: 0, chain: 'abc' } }, ['event', 'cause', 'chain']],
      ['cause depth a string', { ...base, cause: { runId: 'r', ruleId: 'x', depth: 'deep', chain: [] } }, ['event', 'cause', 'depth']],
      ['cause depth negative', { ...base, cause: { runId: 'r', ruleId: 'x', depth: -1, chain: [] } }, ['event', 'cause', 'depth']],
      ['id an object', { ...base, id: { a: 1 } }, ['event', 'id']],
      ['at not a timestamp', { ...base, at: 'yesterday' }, ['event', 'at']],
      ['data an array', { ...base, data: [1] }, ['event', 'data']],
      ['data a string', { ...base, data: 'x' }, ['event', 'data']],
      ['unknown key', { ...base, subject: 'deal' }, ['event', 'subject']],
    ];
    for (const [name, event, path] of cases) {
      const error = await verdict(crm.automations.simulate(rule, event as never));
      expect(isCrmError(error, 'VALIDATION'), name).toBe(true);
      expect(error!.details!.issues!.map((i) => i.path), name).toContainEqual(path);
    }
    expect((await crm.deals.get(deal.id)).tags).toEqual([]);
  });

  it('a well-formed event, hand-written or as recorded, is still simulated', async () => {
    const { crm, pipeline } = await setupAutomations();
    const deal = await crm.deals.create({ title: 'd', pipelineId: pipeline.id });
    const rule = { name: 'r', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'addTag' as const, tag: 'x' }] };
    const [recorded] = (await crm.timeline({ type: 'deal', id: deal.id })).items;
    expect((await crm.automations.simulate(rule, recorded!)).status).toBe('done');
    expect((await crm.automations.simulate(rule, { type: 'deal.created', subjectType: 'deal', subjectId: deal.id } as never)).status).toBe('done');
    const emitted = { name: 'c', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'addTag' as const, tag: 'y' }] };
    expect((await crm.automations.simulate(emitted, { ...recorded!, cause: { runId: 'run_1', ruleId: 'rule_1', depth: 1, chain: ['rule_1'] } })).status).toBe('done');
  });
});

describe('review 18e #7: a caller input that cannot be read (throwing getter, Proxy) is VALIDATION in every service', () => {
  const boom = () => new Proxy({}, { ownKeys() { throw new Error('boom'); }, get() { throw new Error('boom get'); }, has() { throw new Error('boom has'); } });
  const getter = (base: object, key: string) => Object.defineProperty({ ...base }, key, { enumerable: true, get() { throw new Error(`getter ${key}`); } });

  it('automations and other services alike refuse it, and write nothing', async () => {
    const { crm, pipeline } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'M', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'addTag', tag: 'x' }] });
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    const [created] = (await crm.timeline({ type: 'deal', id: deal.id })).items;
    const sim = { name: 'S', trigger: { type: 'event' as const, event: 'deal.created' }, actions: [{ type: 'addTag' as const, tag: 'x' }] };
    const calls: [string, () => unknown][] = [
      ['automations.update proxy', () => crm.automations.update(rule.id, boom() as never)],
      ['automations.update getter', () => crm.automations.update(rule.id, getter({}, 'name') as never)],
      ['automations.simulate proxy event', () => crm.automations.simulate(rule.id, boom() as never)],
      ['automations.simulate getter data', () => crm.automations.simulate(rule.id, getter({ ...created }, 'data') as never)],
      ['automations.simulate getter cause', () => crm.automations.simulate(sim, getter({ ...created }, 'cause') as never)],
      ['automations.trigger proxy', () => crm.automations.trigger(rule.id, boom() as never)],
      ['automations.runs proxy', () => crm.automations.runs(boom() as never)],
      ['automations.replay proxy', () => crm.automations.replay(rule.id, boom() as never)],
      ['automations.causedBy proxy', () => crm.automations.causedBy(boom() as never)],
      ['automations.causedBy getter cause', () => crm.automations.causedBy(getter({ ...created }, 'cause') as never)],
      ['deals.create proxy', () => crm.deals.create(boom() as never)],
      ['deals.create getter', () => crm.deals.create(getter({ pipelineId: pipeline.id }, 'title') as never)],
      ['deals.update proxy', () => crm.deals.update(deal.id, boom() as never)],
      ['tasks.list proxy', () => crm.tasks.list(boom() as never)],
      ['timeline proxy', () => crm.timeline(boom() as never)],
    ];
    for (const [name, call] of calls) {
      const error = await verdict((async () => call())());
      expect(isCrmError(error, 'VALIDATION'), `${name}: ${String(error)}`).toBe(true);
    }
    expect((await crm.automations.get(rule.id)).name).toBe('M');
    expect((await crm.deals.get(deal.id)).version).toBe(deal.version);
    expect((await crm.automations.runs()).items).toEqual([]);
  });
});
