import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCrmError, type CrmError } from '../../errors/crm-error.js';
import { FIRST_INSTANT, LAST_INSTANT } from '../../schema/primitives.js';
import type { CrmSubject } from './crm-harness.js';

const DAY = 86_400_000;
const LAST = '9999-12-31T23:59:59.999Z';
const iso = (ms: number) => new Date(Math.min(Math.max(ms, FIRST_INSTANT), LAST_INSTANT)).toISOString();

/** Every stored date or timestamp has ISO 8601's four-digit year: none is written '+010000-…' or '10000-01-01'. */
async function expectStoredInRange(s: CrmSubject): Promise<void> {
  const years = [...(await s.dump()).matchAll(/"([-+]?\d+)-\d\d-\d\d(?=[T"])/g)].map((m) => m[1]!);
  expect(years.filter((y) => !/^\d{4}$/.test(y))).toEqual([]);
}

/** The VALIDATION error of a call, with its issue paths; anything else fails the test. */
async function refused(call: Promise<unknown>): Promise<string[]> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isCrmError(error, 'VALIDATION')) throw new Error(`expected VALIDATION, got ${error instanceof Error ? error.message : String(error)}`);
  return (error as CrmError<'VALIDATION'>).details.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

/** A call that may be refused with VALIDATION only (its verdict is the property's, not this helper's). */
async function validOrRefused<T>(call: Promise<T>, allowed: readonly string[] = []): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (isCrmError(error, 'VALIDATION') || (isCrmError(error) && allowed.includes(error.code))) return undefined;
    throw error;
  }
}

const ZONES = ['UTC', 'Pacific/Kiritimati', 'Pacific/Pago_Pago', 'America/New_York'];
const UNITS = ['minutes', 'hours', 'days', 'businessDays', 'workingHours'] as const;

/**
 * Computed times stay within UTC years 0000–9999 (review12h #1): ISO 8601 writes a year outside with a
 * sign, and '+010000-…' sorts before every timestamp — a notice past 9999-12-31 spun the scheduler. Every
 * operation that computes a time from another refuses with `VALIDATION` naming the field (writing nothing),
 * holds a bound at the last instant, or — a notice, a series, rotting — never fires; the scheduler's tick ends.
 */
export function crmTimeRangeTests(open: () => Promise<CrmSubject>, numRuns = 8): void {
  describe('computed times within UTC years 0000-9999', () => {
    it('near either end, every operation refuses with VALIDATION or stores times within the range; ticks end (property)', async () => {
      const scenario = fc.record({
        upper: fc.boolean(),
        offset: fc.integer({ min: 0, max: 20 * DAY }),
        due: fc.integer({ min: -2 * DAY, max: 3 * DAY }),
        reminders: fc.uniqueArray(fc.integer({ min: 0, max: 2 * 1440 }), { maxLength: 2 }),
        allDay: fc.boolean(),
        zone: fc.constantFrom(...ZONES),
        recurrence: fc.option(fc.constantFrom('FREQ=DAILY', 'FREQ=WEEKLY;BYDAY=MO,FR', 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29'), { nil: undefined }),
        template: fc.record({ amount: fc.integer({ min: 0, max: 40 }), unit: fc.constantFrom(...UNITS) }),
        chain: fc.record({ amount: fc.integer({ min: 0, max: 40 }), unit: fc.constantFrom(...UNITS) }),
        mode: fc.constantFrom('auto', 'suggest') as fc.Arbitrary<'auto' | 'suggest'>,
        wait: fc.record({ amount: fc.integer({ min: 1, max: 40 }), unit: fc.constantFrom('minutes', 'hours', 'days', 'businessDays') as fc.Arbitrary<'days'> }),
        rottenDays: fc.integer({ min: 1, max: 40 }),
        postpone: fc.integer({ min: 1, max: 3 * DAY }),
        later: fc.integer({ min: 0, max: 3 * DAY }),
      });
      await fc.assert(
        fc.asyncProperty(scenario, async (sc) => {
          const s = await open();
          const { crm, clock } = s;
          const now = sc.upper ? LAST_INSTANT - sc.offset : FIRST_INSTANT + sc.offset;
          clock.set(now);
          await crm.tasks.defineType({ key: 'demo', label: 'Demo', chain: { type: 'call', delay: sc.chain, mode: sc.mode } });
          const pipeline = await crm.pipelines.create({
            name: 'P',
            stages: [
              { key: 'new', name: 'New', rottenDays: sc.rottenDays },
              { key: 'next', name: 'Next', rottenDays: sc.rottenDays, taskTemplates: [{ subject: 'Follow', type: 'call', due: sc.template }] },
            ],
          });
          await crm.automations.define({ name: 'Wait', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'a' }, { type: 'wait', for: sc.wait }, { type: 'createTask', task: { subject: 'Late', type: 'todo', due: sc.template } }] });
          await crm.automations.define({ name: 'Soon', trigger: { type: 'taskDue', before: { amount: 3, unit: 'days' } }, actions: [{ type: 'emit', name: 'soon' }] });
          const dueAt = iso(now + sc.due);
          const task = await validOrRefused(
            crm.tasks.create({ subject: 'T', type: 'demo', dueAt, reminders: sc.reminders, allDay: sc.allDay, timezone: sc.zone, ...(sc.recurrence ? { recurrence: sc.recurrence } : {}) }),
          );
          const deal = await crm.deals.create({ title: 'D', pipelineId: pipeline.id });
          await crm.automations.drain();
          await validOrRefused(crm.deals.advance(deal.id, {}));
          const until = iso(now + sc.postpone);
          // Postponing into the past or before the next step's due time is a rule of the funnel, not of the range.
          if (until > iso(now)) await validOrRefused(crm.deals.postpone(deal.id, { until, reason: 'later' }), ['RULE_VIOLATION']);
          const agenda = await crm.tasks.agenda({});
          expect(agenda.validUntil >= iso(now)).toBe(true);
          if (task) await validOrRefused(crm.tasks.complete(task.id), ['RULE_VIOLATION']);
          clock.set(Math.min(now + sc.later, LAST_INSTANT));
          await crm.scheduler.tick();
          await crm.scheduler.tick();
          // Nothing is due again: a notice stored '+010000-…' would be claimed on every tick.
          expect(await crm.scheduler.tick()).toMatchObject({ reminders: 0, due: 0, overdue: 0, recurrences: 0, rotting: 0 });
          await expectStoredInRange(s);
        }),
        { numRuns },
      );
    });

    it('a recurring task whose next occurrence would fall in year 10000 ends its series: no task, and the tick ends', async () => {
      const s = await open();
      s.clock.set('9999-06-01T00:00:00.000Z');
      const task = await s.crm.tasks.create({ subject: 'Yearly review', dueAt: '9999-06-01T09:00:00.000Z', recurrence: 'FREQ=YEARLY' });
      s.clock.set('9999-06-01T12:00:00.000Z');
      expect(await s.crm.scheduler.tick()).toMatchObject({ due: 1, overdue: 1, recurrences: 1 });
      expect(await s.crm.scheduler.tick()).toMatchObject({ due: 0, overdue: 0, recurrences: 0 });
      expect((await s.crm.tasks.list()).items.map((t) => t.id)).toEqual([task.id]);
      // Completing it does not continue the series either.
      expect((await s.crm.tasks.complete(task.id)).created).toEqual([]);
      // A rule whose first occurrence is after 9999 has none.
      expect(await refused(s.crm.tasks.create({ subject: 'Leap', dueAt: '9999-03-01T09:00:00.000Z', recurrence: 'FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29' }))).toEqual(['recurrence: the rule produces no occurrence']);
      await expectStoredInRange(s);
    });

    it('entering a stage whose template task would be due after 9999 is refused naming the template; completing a chain likewise', async () => {
      const s = await open();
      s.clock.set('9999-12-20T09:00:00.000Z');
      const pipeline = await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer', taskTemplates: [{ subject: 'Call', type: 'call', due: { amount: 10, unit: 'businessDays' } }] }] });
      const deal = await s.crm.deals.create({ title: 'D', pipelineId: pipeline.id });
      await s.crm.tasks.defineType({ key: 'demo', label: 'Demo', chain: { type: 'call', delay: { amount: 30, unit: 'days' }, mode: 'suggest' } });
      const task = await s.crm.tasks.create({ subject: 'Demo', type: 'demo', dueAt: '9999-12-21T09:00:00.000Z' });
      const before = await s.dump();
      expect(await refused(s.crm.deals.advance(deal.id, {}))).toEqual(['stages.offer.taskTemplates.0.due: would fall outside UTC years 0000-9999']);
      expect(await refused(s.crm.deals.create({ title: 'E', pipelineId: pipeline.id, stageKey: 'offer' }))).toEqual(['stages.offer.taskTemplates.0.due: would fall outside UTC years 0000-9999']);
      expect(await refused(s.crm.tasks.complete(task.id))).toEqual(['taskTypes.demo.chain.delay: would fall outside UTC years 0000-9999']);
      expect(await s.dump()).toBe(before);
    });

    it('an all-day task on a day after 9999-12-31 in its zone is refused; moving one there too', async () => {
      const s = await open();
      s.clock.set('9999-12-30T09:00:00.000Z');
      // 20:00 UTC on 9999-12-31 is already 10000-01-01 in Kiritimati (UTC+14).
      expect(await refused(s.crm.tasks.create({ subject: 'New year', allDay: true, dueAt: '9999-12-31T20:00:00.000Z', timezone: 'Pacific/Kiritimati' }))).toEqual([
        'dueAt: falls on a day outside years 0000-9999 in Pacific/Kiritimati',
      ]);
      const task = await s.crm.tasks.create({ subject: 'Eve', allDay: true, dueDate: '9999-12-30', timezone: 'Pacific/Kiritimati' });
      const before = await s.dump();
      expect(await refused(s.crm.tasks.postpone(task.id, { until: '9999-12-31T20:00:00.000Z' }))).toEqual(['until: falls on a day outside years 0000-9999 in Pacific/Kiritimati']);
      expect(await refused(s.crm.tasks.update(task.id, { dueAt: '9999-12-31T20:00:00.000Z' }))).toEqual(['dueAt: falls on a day outside years 0000-9999 in Pacific/Kiritimati']);
      expect(await s.dump()).toBe(before);
      // The last day itself is fine; its deadline west of UTC is held at the last instant.
      const west = await s.crm.tasks.create({ subject: 'Last', allDay: true, dueDate: '9999-12-31', timezone: 'Pacific/Pago_Pago' });
      expect([west.dueAt, west.deadlineAt]).toEqual(['9999-12-31T11:00:00.000Z', LAST]);
    });

    it('an automation wait or task due after 9999 fails its run naming the action; nothing out of range is stored', async () => {
      const s = await open();
      s.clock.set('9999-12-31T12:00:00.000Z');
      const pipeline = await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
      await s.crm.automations.define({ name: 'Wait', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'addTag', tag: 'a' }, { type: 'wait', for: { amount: 1, unit: 'days' } }, { type: 'addTag', tag: 'b' }] });
      await s.crm.automations.define({ name: 'Task', trigger: { type: 'event', event: 'deal.created' }, actions: [{ type: 'createTask', task: { subject: 'Call', type: 'call', due: { amount: 2, unit: 'days' } } }] });
      await s.crm.deals.create({ title: 'D', pipelineId: pipeline.id });
      await s.crm.automations.drain();
      const runs = (await s.crm.automations.runs()).items.map((r) => [r.ruleName, r.status, r.error?.message]).sort();
      expect(runs).toEqual([
        ['Task', 'failed', 'Invalid input to automations: task.due: would fall outside UTC years 0000-9999'],
        ['Wait', 'failed', 'Invalid input to automations: actions.1.for: would fall outside UTC years 0000-9999'],
      ]);
      expect((await s.crm.tasks.list()).items).toEqual([]);
      await expectStoredInRange(s);
    });

    it('a consumer retry, a lease and a previous secret past 9999 are held at the last instant', async () => {
      const s = await open();
      s.clock.set('9999-12-31T23:59:00.000Z');
      const consumer = await s.crm.events.consume(
        'late',
        () => {
          throw new Error('not yet');
        },
        { start: false, partitions: 1, maxAttempts: 5, backoff: { initialMs: 3_600_000, multiplier: 1, maxMs: 3_600_000 } },
      );
      await s.crm.contacts.create({ name: 'A' });
      expect(await consumer.drain()).toMatchObject({ failed: 1, nextRetryAt: LAST });
      const endpoint = await s.crm.webhooks.create({ url: 'https://example.com/h' });
      await s.crm.webhooks.rotateSecret(endpoint.id, { keepPreviousForMs: DAY });
      expect((await s.dump()).split(LAST).length).toBeGreaterThan(2);
      await expectStoredInRange(s);
      await consumer.stop();
    });

    it('on 9999-12-31 the agenda lists the day, valid until the last instant at most', async () => {
      const s = await open();
      s.clock.set('9999-12-31T10:00:00.000Z');
      const task = await s.crm.tasks.create({ subject: 'Tonight', dueAt: '9999-12-31T20:00:00.000Z' });
      const agenda = await s.crm.tasks.agenda({});
      expect([agenda.today.map((t) => t.id), agenda.upcoming, agenda.validUntil]).toEqual([[task.id], [], '9999-12-31T20:00:00.001Z']);
      s.clock.set('9999-12-31T21:00:00.000Z');
      expect((await s.crm.tasks.agenda({})).overdue.map((t) => t.id)).toEqual([task.id]);
      expect((await s.crm.tasks.agenda({})).validUntil).toBe(LAST);
    });

    it('near year 0000, cut-offs (rotting, retention, agenda) hold at the first instant and nothing earlier is stored', async () => {
      const s = await open();
      s.clock.set('0000-01-02T00:00:00.000Z');
      const pipeline = await s.crm.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New', rottenDays: 30 }] });
      const deal = await s.crm.deals.create({ title: 'D', pipelineId: pipeline.id });
      const early = await s.crm.tasks.create({ subject: 'Early', dueAt: '0000-01-02T05:00:00.000Z', reminders: [60 * 24 * 3] });
      const all = await s.crm.tasks.create({ subject: 'First day', allDay: true, dueDate: '0000-01-03', timezone: 'Pacific/Pago_Pago' });
      expect([all.dueDate, all.deadlineAt]).toEqual(['0000-01-03', '0000-01-03T11:22:47.999Z']);
      expect((await s.crm.deals.list({ rotting: true })).items).toEqual([]);
      // Today in UTC: the all-day task's day began at 11:22:48 UTC (Pago Pago kept local mean time then).
      expect((await s.crm.tasks.agenda({ from: '0000-01-02T01:00:00.000Z' })).today.map((t) => t.id)).toEqual([early.id, all.id]);
      s.clock.set('0000-02-05T00:00:00.000Z');
      expect(await s.crm.scheduler.tick()).toMatchObject({ rotting: 1 });
      expect((await s.crm.deals.get(deal.id)).rottingSince).toBe('0000-02-01T00:00:00.000Z');
      await expectStoredInRange(s);
    });
  });
}
