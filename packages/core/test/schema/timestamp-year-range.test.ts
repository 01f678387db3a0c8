import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline, expectCrmError, expectUnchanged } from '../helpers.js';

// ISO 8601 basic timestamps carry a four-digit year without a sign: a UTC year past 9999 would be
// stored as '+010000-…', which sorts before every other timestamp (review12h #1).
const OUT = ['9999-12-31T23:59:59-23:59', '9999-12-31T23:30:00-01:00', '0000-01-01T00:00:00+01:00'];
const EDGE = [
  ['9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z'],
  ['0000-01-01T01:00:00+01:00', '0000-01-01T00:00:00.000Z'],
] as const;

describe('timestamp inputs outside UTC years 0000–9999 are refused', () => {
  it.each(OUT)('tasks.create/update/postpone, activities.log, tasks.agenda, events.prune, webhooks.pruneDeliveries refuse %s and write nothing', async (value) => {
    const t = await crmWithPipeline();
    const { crm } = t;
    const task = await crm.tasks.create({ subject: 'ok', dueAt: '2026-01-01T00:00:00Z' });
    const before = t.storage.snapshot();
    const calls: [string, () => Promise<unknown>][] = [
      ['tasks.create', () => crm.tasks.create({ subject: 'far', dueAt: value })],
      ['tasks.update', () => crm.tasks.update(task.id, { dueAt: value })],
      ['tasks.postpone', () => crm.tasks.postpone(task.id, { until: value })],
      ['activities.log', () => crm.activities.log({ kind: 'note', subject: 'n', occurredAt: value })],
      ['tasks.agenda', () => crm.tasks.agenda({ from: value })],
      ['events.prune', () => crm.events.prune({ before: value })],
      ['webhooks.pruneDeliveries', () => crm.webhooks.pruneDeliveries({ before: value })],
    ];
    for (const [name, call] of calls) {
      const error = await expectCrmError(call(), 'VALIDATION');
      expect(JSON.stringify(error.details), name).toContain('UTC years 0000-9999');
    }
    expectUnchanged(t, before);
  });

  it.each(EDGE)('accepts the edge %s, stored as %s', async (value, stored) => {
    const { crm } = await createTestCrm();
    expect((await crm.tasks.create({ subject: 'edge', dueAt: value })).dueAt).toBe(stored);
  });
});

describe('deal moves share the rule', () => {
  it.each(OUT)('deals.postpone refuses until %s and writes nothing', async (value) => {
    const t = await crmWithPipeline();
    const deal = await t.crm.deals.create({ title: 'Big', pipelineId: t.pipelineId });
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.deals.postpone(deal.id, { until: value, reason: 'later' }), 'VALIDATION');
    expect(JSON.stringify(error.details)).toContain('UTC years 0000-9999');
    expectUnchanged(t, before);
  });
});
