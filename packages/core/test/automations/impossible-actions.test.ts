import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { allFeatures, createTestCrm } from '@crmkit/core/testing';
import { automations } from '@crmkit/core/automations';
import { setupAutomations } from './automation-setup.js';

// Review 18d #10: actions that can never succeed are refused at define (and update), at the action's
// path, naming the key — for every action type.

type Issue = { path: (string | number)[]; code: string; message: string };

/** The VALIDATION issues of a refused call (fails the test when it was accepted). */
async function refused(promise: Promise<unknown>): Promise<Issue[]> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  if (!isCrmError(error, 'VALIDATION')) throw new Error(`expected VALIDATION, got ${String(error)}`);
  return (error.details as { issues: Issue[] }).issues;
}

const task = { subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const } };

/** Each action type × an argument it can never succeed with: the issue's path (below `actions.0`) and a word the message names. */
const IMPOSSIBLE: readonly [string, Record<string, unknown>, (string | number)[], string][] = [
  ['createTask', { type: 'createTask', task: { ...task, type: 'fax' } }, ['task', 'type'], 'fax'],
  ['updateFields', { type: 'updateFields', set: { version: 1 } }, ['set', 'version'], 'version'],
  ['assignOwner', { type: 'assignOwner', strategyId: 'strategy_nope' }, ['strategyId'], 'strategy_nope'],
  ['addTag', { type: 'addTag', tag: ' ' }, ['tag'], 'blank'],
  ['removeTag', { type: 'removeTag', tag: '' }, ['tag'], 'blank'],
  ['advance', { type: 'advance', toStage: 'nope' }, ['toStage'], 'nope'],
  ['lose', { type: 'lose', reason: 'nope' }, ['reason'], 'nope'],
  ['logActivity', { type: 'logActivity', activity: { kind: 'fax' } }, ['activity', 'kind'], 'call'],
  ['emit', { type: 'emit', name: 'not-letters' }, ['name'], 'letters'],
  ['sendMessage', { type: 'sendMessage', channel: 'email', template: '' }, ['template'], 'blank'],
  ['wait', { type: 'wait', for: { amount: -1, unit: 'days' } }, ['for', 'amount'], ''],
];

/** updateFields arguments deals.update refuses whatever the deal holds. */
const IMPOSSIBLE_SETS: readonly [Record<string, unknown>, string, string][] = [
  [{ version: 1 }, 'version', 'revision'],
  [{ id: 'deal_x' }, 'id', 'kept by crmkit'],
  [{ createdAt: '2026-01-01T00:00:00.000Z' }, 'createdAt', 'kept by crmkit'],
  [{ updatedAt: '2026-01-01T00:00:00.000Z' }, 'updatedAt', 'kept by crmkit'],
  [{ tenantId: 't' }, 'tenantId', 'kept by crmkit'],
  [{ stageKey: 'proposal' }, 'stageKey', 'advance'],
  [{ status: 'won' }, 'status', 'funnel'],
  [{ pipelineId: 'pipeline_x' }, 'pipelineId', 'funnel'],
  [{ stageEnteredAt: '2026-01-01T00:00:00.000Z' }, 'stageEnteredAt', 'funnel'],
  [{ weightedValue: { amount: 1, currency: 'EUR' } }, 'weightedValue', 'derived'],
  [{ probabilityManual: true }, 'probabilityManual', 'derived'],
  [{ lastActivityAt: '2026-01-01T00:00:00.000Z' }, 'lastActivityAt', 'derived'],
  [{ nextStep: { subject: 'x' } }, 'nextStep', 'nextStep'],
  [{ 'value.amount': 5 }, 'value.amount', 'as a whole'],
  [{ exchangeRate: 2 }, 'exchangeRate', 'currency'],
  [{ currency: 'USD' }, 'currency', 'exchangeRate'],
  [{ currency: 'USD', exchangeRate: 1.1, value: { amount: 5, currency: 'USD' } }, 'exchangeRate', 'not both'],
  [{ contactId: 'contact_nope' }, 'contactId', 'contact_nope'],
];

describe('actions that can never succeed are refused at define', () => {
  it.each(IMPOSSIBLE)('%s with an impossible argument: VALIDATION at the action path, nothing stored', async (_type, action, at, word) => {
    const { crm } = await setupAutomations();
    const issues = await refused(crm.automations.define({ name: 'r', trigger: { type: 'manual', entity: 'deal' }, actions: [action as never, { type: 'addTag', tag: 'x' }] }));
    expect(issues).toContainEqual(expect.objectContaining({ path: ['actions', 0, ...at] }));
    expect(issues.find((i) => i.path.join('.') === ['actions', 0, ...at].join('.'))!.message).toContain(word);
    expect(await crm.automations.list()).toHaveLength(0);
  });

  it.each(IMPOSSIBLE_SETS)('updateFields %j: refused at set.%s, naming why', async (set, key, why) => {
    const { crm } = await setupAutomations();
    const issues = await refused(crm.automations.define({ name: 'r', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'updateFields', set: set as never }] }));
    const issue = issues.find((i) => i.path.join('|') === ['actions', 0, 'set', key].join('|'));
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.message).toContain(why);
    // Never zod's bare "Invalid input" without the key.
    expect(issues.every((i) => i.message !== 'Invalid input' || i.path.length > 3)).toBe(true);
    expect(await crm.automations.list()).toHaveLength(0);
  });

  it('update refuses them too, and the stored rule is unchanged', async () => {
    const { crm } = await setupAutomations();
    const rule = await crm.automations.define({ name: 'r', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'addTag', tag: 'x' }] });
    const issues = await refused(crm.automations.update(rule.id, { actions: [{ type: 'updateFields', set: { version: 3 } }] }));
    expect(issues[0]).toMatchObject({ path: ['actions', 0, 'set', 'version'] });
    expect((await crm.automations.list())[0]).toMatchObject({ revision: rule.revision, actions: [{ type: 'addTag' }] });
  });

  it('actions that need a feature the crm lacks (tasks, activities)', async () => {
    const { crm } = await createTestCrm({ features: [allFeatures()[11], automations()] as const });
    await crm.pipelines.create({ name: 'S', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
    const issues = await refused(crm.automations.define({ name: 'r', trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'createTask', task }, { type: 'logActivity', activity: { kind: 'call' } }] }));
    expect(issues).toEqual([
      expect.objectContaining({ path: ['actions', 0, 'type'], code: 'feature_required' }),
      expect.objectContaining({ path: ['actions', 1, 'type'], code: 'feature_required' }),
    ]);
  });

  it('possible ones still pass: a currency change with its rate, a known contact, a defined task type', async () => {
    const { crm } = await setupAutomations();
    const contact = await crm.contacts.create({ name: 'Ann Lee' });
    await crm.tasks.defineType({ key: 'demo', label: 'Demo' });
    await crm.automations.define({ name: 'r', trigger: { type: 'manual', entity: 'deal' }, actions: [
      { type: 'updateFields', set: { currency: 'USD', exchangeRate: 1.1 } },
      { type: 'updateFields', set: { contactId: contact.id, probability: null } },
      { type: 'createTask', task: { ...task, type: 'demo' } },
    ] });
    expect(await crm.automations.list()).toHaveLength(1);
  });
});
