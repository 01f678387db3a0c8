import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';

const codes = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (e: unknown) => (isCrmError(e, 'VALIDATION') ? e.details.issues.map((i) => `${i.path.join('.')} ${i.code}`) : e),
  );

/** Issue codes callers can branch on: never zod's `custom` (review16j #6, the whole kind). */
describe('VALIDATION issue codes', () => {
  it('a check a refinement makes is invalid_value (or duplicate for an item listed twice), never custom', async () => {
    const { crm } = await createTestCrm();
    expect(await codes(crm.contacts.create({ name: 'Ada', email: 'ada@exa_mple..com' }))).toEqual(['email invalid_value']);
    expect(await codes(crm.leads.create({ name: 'Ada', probability: 0.5 }))).toEqual(['probability invalid_value']);
    expect(await codes(crm.companies.create({ name: 'Acme', domain: 'not a domain' }))).toEqual(['domain invalid_value']);
    expect(await codes(crm.assignment.createStrategy({ name: 'RR', entity: 'lead', kind: 'roundRobin', owners: [] }))).toEqual(['owners invalid_value']);
    // An item listed twice: duplicate.
    expect(await codes(crm.calendar.set({ workingDays: [1, 1] }))).toEqual(['workingDays duplicate']);
    expect(await codes(crm.customFields.define({ entity: 'contact', key: 'tier', label: 'Tier', type: 'select', options: [{ value: 'a', label: 'A' }, { value: 'a', label: 'A' }] }))).toEqual(['options.1.value duplicate']);
    expect(await codes(crm.assignment.createStrategy({ name: 'RR', entity: 'lead', kind: 'roundRobin', owners: [{ userId: 'u1' }, { userId: 'u1' }] }))).toEqual(['owners.1.userId duplicate']);
  });
});
