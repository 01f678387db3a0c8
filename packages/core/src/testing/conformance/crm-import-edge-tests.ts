import { describe, expect, it } from 'vitest';
import type { CrmSubject } from './crm-harness.js';

/** Edge cases of `crm.import.run` found by review (issue 16): refs of one system, dry runs across chunks, normalised keys, views. */
export function crmImportEdgeTests(open: () => Promise<CrmSubject>): void {
  describe('import edge cases', () => {
    it('an update never drops a ref of a record holding several ids of one system; a new id joins the list', async () => {
      const s = await open();
      const two = await s.crm.contacts.create({ name: 'Two', externalRefs: [{ system: 'shop', id: '1' }, { system: 'shop', id: '2' }, { system: 'erp', id: 'E' }] });
      const byShop = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', rows: [{ s: '2', n: 'Two v2' }], mapping: { name: 'n', 'externalRefs.shop': 's' } });
      expect(byShop.rows.map((r) => r.outcome)).toEqual(['updated']);
      const after = await s.crm.contacts.get(two.id);
      expect(after.name).toBe('Two v2');
      expect(after.externalRefs).toEqual([{ system: 'shop', id: '1' }, { system: 'shop', id: '2' }, { system: 'erp', id: 'E' }]);
      const byErp = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:erp', rows: [{ s: '3', e: 'E', n: 'Two v3' }], mapping: { name: 'n', 'externalRefs.shop': 's', 'externalRefs.erp': 'e' } });
      expect(byErp.rows.map((r) => r.outcome)).toEqual(['updated']);
      expect((await s.crm.contacts.get(two.id)).externalRefs).toEqual([{ system: 'shop', id: '1' }, { system: 'shop', id: '2' }, { system: 'erp', id: 'E' }, { system: 'shop', id: '3' }]);
      // Every id still finds the record.
      for (const id of ['1', '2', '3']) expect((await s.crm.contacts.getByExternalRef('shop', id)).id).toBe(two.id);
    });
  });
}
