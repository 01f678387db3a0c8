import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbitraries, createFakeClock } from '@crmkit/core/testing';
import { leadSchema } from '../../src/schema/lead.js';
import { contactSchema } from '../../src/schema/contact.js';
import { companySchema } from '../../src/schema/company.js';
import { dealSchema } from '../../src/schema/deal.js';
import { pipelineSchema } from '../../src/schema/pipeline.js';
import { taskSchema } from '../../src/schema/task.js';
import { activitySchema } from '../../src/schema/activity.js';
import { eventLogEntrySchema } from '../../src/schema/event.js';
import { stageVisitSchema } from '../../src/schema/stage-visit.js';
import { customFieldDefinitionSchema } from '../../src/schema/custom-field.js';

const schemas = {
  lead: leadSchema,
  contact: contactSchema,
  company: companySchema,
  deal: dealSchema,
  pipeline: pipelineSchema,
  task: taskSchema,
  activity: activitySchema,
  event: eventLogEntrySchema,
  stageVisit: stageVisitSchema,
  customField: customFieldDefinitionSchema,
};

describe('arbitraries', () => {
  for (const [name, arb] of Object.entries(arbitraries)) {
    it(`${name} records are valid against the ${name} schema`, () => {
      fc.assert(
        fc.property((arb as (o: { tenantId: string }) => fc.Arbitrary<unknown>)({ tenantId: 'tx' }), (record) => {
          const result = schemas[name as keyof typeof schemas]().safeParse(record);
          if (!result.success) throw new Error(JSON.stringify(result.error.issues));
          expect((record as { tenantId: string }).tenantId).toBe('tx');
        }),
        { numRuns: 200 },
      );
    });
  }
});

describe('fake clock', () => {
  it('fires timers in due order at their own time while advancing', () => {
    const clock = createFakeClock('2026-01-01T00:00:00Z');
    const seen: [string, number][] = [];
    clock.setTimer(() => seen.push(['b', clock.now()]), 2000);
    clock.setTimer(() => seen.push(['a', clock.now()]), 1000);
    const cancel = clock.setTimer(() => seen.push(['never', clock.now()]), 1500);
    cancel();
    clock.setTimer(() => clock.setTimer(() => seen.push(['nested', clock.now()]), 100), 1900);
    expect(clock.pendingTimers()).toBe(3);
    clock.advance(2500);
    const t0 = Date.parse('2026-01-01T00:00:00Z');
    expect(seen).toEqual([['a', t0 + 1000], ['b', t0 + 2000], ['nested', t0 + 2000]]);
    expect(clock.now()).toBe(t0 + 2500);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('jumps with set() and rejects invalid input', () => {
    const clock = createFakeClock(0);
    clock.set('2030-01-01T00:00:00Z');
    expect(new Date(clock.now()).toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(() => clock.set('nope')).toThrow(RangeError);
    expect(() => clock.advance(-1)).toThrow(RangeError);
  });
});
