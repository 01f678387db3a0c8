import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { setupAutomations } from './automation-setup.js';

// Review 18c #9: input the JSON walk got wrong, and a root simulation for a record that does not exist.
const base = { name: 'J', trigger: { type: 'event' as const, event: 'deal.created' } };
async function refusal(p: Promise<unknown>) {
  const error = await p.then(() => undefined, (e: unknown) => e);
  if (!isCrmError(error)) throw new Error(`expected a CrmError, got ${String(error)}`);
  const issues = (error.details as unknown as { issues?: { path: (string | number)[]; message: string }[] }).issues ?? [];
  return { code: error.code, issues: issues.map((i) => [i.path.join('.'), i.message]) };
}

describe('rule input edges', () => {
  it('refuses holes and undefined items in emit data at their path, storing nothing', async () => {
    const { crm } = await setupAutomations();
    // eslint-disable-next-line no-sparse-arrays
    for (const [data, at] of [[{ a: [1, , 3] }, 'actions.0.data.a.1'], [{ a: [undefined] }, 'actions.0.data.a.0'], [{ b: { c: [1, 2, undefined] } }, 'actions.0.data.b.c.2']] as const) {
      const got = await refusal(crm.automations.define({ ...base, actions: [{ type: 'emit', name: 'x', data: data as never }] }));
      expect(got.code).toBe('VALIDATION');
      expect(got.issues).toEqual([[at, expect.stringContaining('undefined or hole')]]);
    }
    expect((await crm.automations.list()).length).toBe(0);
    // An undefined property is an absent one (JSON leaves it out): fine.
    expect((await crm.automations.define({ ...base, actions: [{ type: 'emit', name: 'x', data: { a: 1, b: undefined } }] })).actions[0]).toEqual({ type: 'emit', name: 'x', data: { a: 1 } });
  });

  it('reports a NaN name as the wrong type, with the schema\'s word', async () => {
    const { crm } = await setupAutomations();
    const got = await refusal(crm.automations.define({ ...base, name: NaN as never, actions: [{ type: 'emit', name: 'x' }] }));
    expect(got.code).toBe('VALIDATION');
    expect(got.issues).toHaveLength(1);
    expect(got.issues[0]![0]).toBe('name');
    expect(got.issues[0]![1]).not.toContain('finite number');
    expect(got.issues[0]![1]).toMatch(/string/);
    // Where the schema has no word (free emit data), the JSON rule speaks.
    expect((await refusal(crm.automations.define({ ...base, actions: [{ type: 'emit', name: 'x', data: { n: NaN } }] }))).issues).toEqual([['actions.0.data.n', expect.stringContaining('finite number')]]);
  });

  it('turns a throwing getter or proxy in the input into VALIDATION, not the caller\'s Error', async () => {
    const { crm } = await setupAutomations();
    const getter = { type: 'emit', name: 'x', get data(): unknown { throw new Error('boom'); } };
    const a = await refusal(crm.automations.define({ ...base, actions: [getter as never] }));
    expect(a).toEqual({ code: 'VALIDATION', issues: [['actions.0', 'cannot be read (boom)']] });
    const proxy = new Proxy({}, { ownKeys() { throw new Error('px'); } });
    expect(await refusal(crm.automations.define(proxy as never))).toEqual({ code: 'VALIDATION', issues: [['', 'cannot be read (px)']] });
    expect((await refusal(crm.automations.simulate(proxy as never, { type: 'deal.created', subjectType: 'deal', subjectId: 'x', data: {} } as never))).code).toBe('VALIDATION');
  });

  it('a root simulation for a record that does not exist is NOT_FOUND', async () => {
    const { crm, pipeline } = await setupAutomations();
    const rule = { ...base, actions: [{ type: 'emit' as const, name: 'x' }] };
    const missing = { id: 'evt_x', type: 'deal.created', subjectType: 'deal', subjectId: 'deal_missing', at: '2026-01-01T00:00:00.000Z', data: {} };
    expect((await refusal(crm.automations.simulate(rule, missing as never))).code).toBe('NOT_FOUND');
    const deal = await crm.deals.create({ title: 'A', pipelineId: pipeline.id });
    expect((await crm.automations.simulate(rule, { ...missing, subjectId: deal.id } as never)).status).toBe('done');
  });
});
