import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

// Review 16i #4: an option value with surrounding whitespace was accepted at define, but a CSV import reads cells
// trimmed, so the export of such a value did not import back into a fresh crm. Refused at define and update alike.
describe('select option values', () => {
  it('refuses surrounding whitespace at define and at update (VALIDATION at options.<i>.value), nothing written', async () => {
    const { crm } = await createTestCrm();
    for (const value of [' sp', 'sp ', '\tsp', 'sp\n']) {
      await expect(crm.customFields.define({ entity: 'contact', key: 'sel', label: 'S', type: 'select', options: [{ value: 'ok' }, { value }] })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [expect.objectContaining({ path: ['options', 1, 'value'] })] } });
    }
    expect(await crm.customFields.list('contact')).toEqual([]);
    await crm.customFields.define({ entity: 'contact', key: 'sel', label: 'S', type: 'multiselect', options: [{ value: 'a b' }] });
    await expect(crm.customFields.update('contact', 'sel', { options: [{ value: 'a b' }, { value: ' c' }] })).rejects.toMatchObject({ code: 'VALIDATION' });
  });
});
