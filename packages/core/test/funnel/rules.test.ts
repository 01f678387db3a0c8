import { describe, expect, it } from 'vitest';
import { evaluateMove, type Deal, type Pipeline, type StageRule, type Task } from '@crmkit/core';

const now = '2026-03-02T10:00:00.000Z';

function pipeline(overrides: Partial<Pipeline['settings']> = {}, stages?: Partial<Pipeline['stages'][number]>[]): Pipeline {
  const base = (key: string, kind: 'open' | 'won' | 'lost', probability: number) => ({ key, name: key.toUpperCase(), kind, probability, entryRules: [], exitRules: [], taskTemplates: [] });
  const list = stages
    ? stages.map((s, i) => ({ ...base(s.key ?? `s${i}`, s.kind ?? 'open', s.probability ?? 10), ...s }))
    : [base('new', 'open', 10), base('qualified', 'open', 30), base('proposal', 'open', 60), base('won', 'won', 100), base('lost', 'lost', 0)];
  return {
    id: 'pl', tenantId: 't', version: 1, createdAt: now, updatedAt: now, name: 'P', archived: false, stages: list as Pipeline['stages'],
    settings: { allowSkip: true, allowBackward: true, strictNextStep: false, lostReasons: [{ key: 'price', label: 'Price', requiresComment: false }, { key: 'other', label: 'Other', requiresComment: true }], ...overrides },
  };
}

function deal(overrides: Partial<Deal> = {}): Deal {
  return {
    id: 'd', tenantId: 't', version: 1, createdAt: now, updatedAt: now, title: 'D', pipelineId: 'pl', stageKey: 'new', status: 'open',
    value: { amount: 1000, currency: 'EUR' }, weightedValue: { amount: 100, currency: 'EUR' }, lineItems: [], probability: 10, probabilityManual: false,
    stageEnteredAt: now, lastActivityAt: now, postponeCount: 0, stagePostponeCount: 0, tags: [], custom: {}, ...overrides,
  } as Deal;
}

const task = (overrides: Partial<Task> = {}): Task =>
  ({ id: 't1', tenantId: 't', version: 1, createdAt: now, updatedAt: now, subject: 'Call', type: 'call', status: 'open', allDay: false, priority: 'normal', postponeCount: 0, reminders: [], required: false, dealId: 'd', stageKey: 'new', ...overrides }) as Task;

const ctx = { now, openTasks: [] as Task[], stageTasks: [] as Task[] };
const rules = (entryRules: StageRule[], exitRules: StageRule[] = []) => pipeline({}, [{ key: 'new', exitRules }, { key: 'next', entryRules }, { key: 'won', kind: 'won', probability: 100 }, { key: 'lost', kind: 'lost', probability: 0 }]);
const violated = (p: Pipeline, d: Deal, c = ctx) => evaluateMove(p, d, { type: 'advance' }, c).violations.map((v) => v.rule);

describe('stage rules, one example per rule type', () => {
  it('field rules: present, eq, ne, in, gt, gte, lt, lte — on deal fields and custom fields', () => {
    const cases: [StageRule, Partial<Deal>, boolean][] = [
      [{ type: 'field', field: 'expectedCloseDate', op: 'present' }, {}, false],
      [{ type: 'field', field: 'expectedCloseDate', op: 'present' }, { expectedCloseDate: '2026-04-01' }, true],
      [{ type: 'field', field: 'source', op: 'eq', value: 'web' }, { source: 'web' }, true],
      [{ type: 'field', field: 'source', op: 'ne', value: 'web' }, { source: 'web' }, false],
      [{ type: 'field', field: 'source', op: 'in', value: ['web', 'shop'] }, { source: 'shop' }, true],
      [{ type: 'field', field: 'value.amount', op: 'gt', value: 1000 }, {}, false],
      [{ type: 'field', field: 'value.amount', op: 'gte', value: 1000 }, {}, true],
      [{ type: 'field', field: 'value.amount', op: 'lt', value: 1000 }, {}, false],
      [{ type: 'field', field: 'value.amount', op: 'lte', value: 1000 }, {}, true],
      [{ type: 'field', field: 'custom.budget', op: 'gte', value: 500 }, { custom: { budget: 800 } }, true],
      [{ type: 'field', field: 'custom.budget', op: 'gte', value: 500 }, { custom: {} }, false],
      [{ type: 'field', field: 'custom.signed', op: 'eq', value: true }, { custom: { signed: true } }, true],
      [{ type: 'field', field: 'tags', op: 'eq', value: 'vip' }, { tags: ['vip', 'b2b'] }, true],
      [{ type: 'field', field: 'tags', op: 'present' }, { tags: [] }, false],
    ];
    for (const [rule, fields, ok] of cases) {
      const result = evaluateMove(rules([rule]), deal(fields), { type: 'advance' }, ctx);
      expect({ rule, ok: result.allowed }).toEqual({ rule, ok });
      if (!ok) expect(result.violations[0]).toMatchObject({ rule: 'stage.entry.field', data: { stage: 'next', field: rule.type === 'field' ? rule.field : '' } });
    }
  });

  it('hasContact, hasCompany, hasLineItems, amountPositive', () => {
    const p = rules([{ type: 'hasContact' }, { type: 'hasCompany' }, { type: 'hasLineItems' }, { type: 'amountPositive', message: 'Price it first' }]);
    const bare = evaluateMove(p, deal({ value: { amount: 0, currency: 'EUR' } }), { type: 'advance' }, ctx);
    expect(bare.violations.map((v) => [v.rule, v.message])).toEqual([
      ['stage.entry.hasContact', 'the deal needs a contact'],
      ['stage.entry.hasCompany', 'the deal needs a company'],
      ['stage.entry.hasLineItems', 'the deal needs line items'],
      ['stage.entry.amountPositive', 'Price it first'],
    ]);
    const full = deal({ contactId: 'c', companyId: 'k', lineItems: [{ name: 'x', quantity: 1, unitPrice: 5, total: 5 }], value: { amount: 5, currency: 'EUR' } });
    expect(evaluateMove(p, full, { type: 'advance' }, ctx).allowed).toBe(true);
  });

  it('requiredTasksDone guards leaving a stage while its required tasks are open', () => {
    const p = rules([], [{ type: 'requiredTasksDone' }]);
    const open = task({ id: 'r1', required: true, subject: 'Qualify budget' });
    const result = evaluateMove(p, deal(), { type: 'advance' }, { ...ctx, stageTasks: [open, task({ id: 'x' })] });
    expect(result.violations).toEqual([{ rule: 'stage.exit.requiredTasksDone', message: 'required tasks are not done: Qualify budget', data: { stage: 'new', taskIds: ['r1'] } }]);
    expect(evaluateMove(p, deal(), { type: 'advance' }, { ...ctx, stageTasks: [{ ...open, status: 'done' }] }).allowed).toBe(true);
    // Exit rules do not block refusal or moving back.
    expect(evaluateMove(p, deal(), { type: 'lose', reason: 'price' }, { ...ctx, stageTasks: [open] }).allowed).toBe(true);
  });

  it('lists every violated rule at once', () => {
    const p = rules([{ type: 'hasContact' }, { type: 'field', field: 'expectedCloseDate', op: 'present' }], [{ type: 'requiredTasksDone' }]);
    expect(violated(p, deal(), { ...ctx, stageTasks: [task({ required: true })] })).toEqual(['stage.exit.requiredTasksDone', 'stage.entry.hasContact', 'stage.entry.field']);
  });
});

describe('move rules', () => {
  it('skipping and backward moves follow the pipeline settings', () => {
    expect(evaluateMove(pipeline({ allowSkip: false }), deal(), { type: 'advance', toStage: 'proposal' }, ctx).violations.map((v) => v.rule)).toEqual(['pipeline.noSkip']);
    expect(evaluateMove(pipeline(), deal(), { type: 'advance', toStage: 'proposal' }, ctx)).toMatchObject({ allowed: true, direction: 'forward' });
    const later = deal({ stageKey: 'proposal' });
    expect(evaluateMove(pipeline({ allowBackward: false }), later, { type: 'advance', toStage: 'new' }, ctx).violations.map((v) => v.rule)).toEqual(['pipeline.noBackward']);
    expect(evaluateMove(pipeline(), later, { type: 'advance', toStage: 'new' }, ctx)).toMatchObject({ allowed: true, direction: 'backward' });
  });

  it('advance needs a next open stage; closing stages go through win and lose', () => {
    const last = deal({ stageKey: 'proposal' });
    expect(evaluateMove(pipeline(), last, { type: 'advance' }, ctx).violations[0]!.rule).toBe('stage.noNext');
    expect(evaluateMove(pipeline(), deal(), { type: 'advance', toStage: 'won' }, ctx).violations[0]!.rule).toBe('stage.notOpen');
    expect(evaluateMove(pipeline(), deal(), { type: 'advance', toStage: 'nope' }, ctx).violations[0]!.rule).toBe('stage.unknown');
    expect(evaluateMove(pipeline(), deal(), { type: 'advance', toStage: 'new' }, ctx).violations[0]!.rule).toBe('stage.same');
  });

  it('lost requires a listed reason and a comment where the reason asks for one', () => {
    expect(evaluateMove(pipeline(), deal(), { type: 'lose', reason: 'weather' }, ctx).violations[0]).toMatchObject({ rule: 'lost.unknownReason', data: { allowed: ['price', 'other'] } });
    expect(evaluateMove(pipeline(), deal(), { type: 'lose', reason: 'other', comment: '  ' }, ctx).violations[0]!.rule).toBe('lost.commentRequired');
    expect(evaluateMove(pipeline(), deal(), { type: 'lose', reason: 'other', comment: 'Moved abroad' }, ctx).allowed).toBe(true);
  });

  it('closed deals only reopen, into open stages', () => {
    const won = deal({ status: 'won', stageKey: 'won' });
    for (const move of [{ type: 'advance' }, { type: 'win' }, { type: 'lose', reason: 'price' }, { type: 'postpone', until: '2027-01-01T00:00:00.000Z' }] as const) {
      expect(evaluateMove(pipeline(), won, move, ctx).violations[0]!.rule).toBe('deal.closed');
    }
    expect(evaluateMove(pipeline(), won, { type: 'reopen', toStage: 'lost' }, ctx).violations[0]!.rule).toBe('stage.notOpen');
    expect(evaluateMove(pipeline(), won, { type: 'reopen', toStage: 'proposal' }, ctx).allowed).toBe(true);
    expect(evaluateMove(pipeline(), deal(), { type: 'reopen', toStage: 'new' }, ctx).violations[0]!.rule).toBe('deal.notClosed');
  });

  it('postponing must move the next step later', () => {
    const due = task({ dueAt: '2026-03-05T10:00:00.000Z' });
    expect(evaluateMove(pipeline(), deal(), { type: 'postpone', until: '2026-03-01T00:00:00.000Z' }, ctx).violations[0]!.rule).toBe('postpone.notLater');
    expect(evaluateMove(pipeline(), deal(), { type: 'postpone', until: '2026-03-04T00:00:00.000Z' }, { ...ctx, openTasks: [due] }).violations[0]!.rule).toBe('postpone.notLater');
    expect(evaluateMove(pipeline(), deal(), { type: 'postpone', until: '2026-03-09T00:00:00.000Z', taskId: 'zz' }, { ...ctx, openTasks: [due] }).violations[0]!.rule).toBe('postpone.unknownTask');
    expect(evaluateMove(pipeline(), deal(), { type: 'postpone', until: '2026-03-09T00:00:00.000Z' }, { ...ctx, openTasks: [due] }).allowed).toBe(true);
  });

  it('strict mode: a move into a stage must leave the open deal with an open task', () => {
    const strict = pipeline({ strictNextStep: true });
    expect(evaluateMove(strict, deal(), { type: 'advance' }, ctx).violations[0]!.rule).toBe('strict.nextStepRequired');
    expect(evaluateMove(strict, deal(), { type: 'advance' }, { ...ctx, withNextStep: true }).allowed).toBe(true);
    expect(evaluateMove(strict, deal(), { type: 'advance' }, { ...ctx, openTasks: [task()] }).allowed).toBe(true);
    const withTemplates = { ...strict, stages: strict.stages.map((s) => (s.key === 'qualified' ? { ...s, taskTemplates: [{ subject: 'Call', type: 'call', due: { amount: 1, unit: 'days' as const }, assignee: { kind: 'dealOwner' as const }, required: false }] } : s)) };
    expect(evaluateMove(withTemplates, deal(), { type: 'advance' }, ctx).allowed).toBe(true);
    expect(evaluateMove(strict, deal(), { type: 'lose', reason: 'price' }, ctx).allowed).toBe(true);
  });
});
