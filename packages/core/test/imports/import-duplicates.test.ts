import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

/** Per entity: a stored record, an import row of the same client, and the fields the row's update changes. */
const cases = [
  { entity: 'lead', stored: { name: 'Ada Lovelace', email: 'ada@acme.example', companyName: 'Acme GmbH' }, row: { name: 'Ada Lovelace', email: 'ada@acme.example', title: 'CTO' } },
  { entity: 'contact', stored: { name: 'Ada Lovelace', email: 'ada@acme.example' }, row: { name: 'Ada Lovelace', email: 'ada@acme.example', jobTitle: 'CTO' } },
  { entity: 'company', stored: { name: 'Acme GmbH', domain: 'acme.example' }, row: { name: 'Acme GmbH', domain: 'acme.example', industry: 'Software' } },
] as const;
const store = { lead: 'leads', contact: 'contacts', company: 'companies' } as const;

describe('import duplicate handling finds the same client on every entity (review 16g #3)', () => {
  for (const c of cases) {
    for (const action of ['skip', 'update', 'flag'] as const) {
      it(`${c.entity} × ${action}`, async () => {
        const { crm } = await createTestCrm();
        const service = crm[store[c.entity]] as unknown as { create(i: object): Promise<{ id: string }>; list(): Promise<{ items: Record<string, unknown>[] }> };
        const first = await service.create(c.stored);
        await service.create(c.entity === 'company' ? { name: 'Globex Corporation' } : { name: 'Grace Hopper', email: 'grace@navy.example' });
        // The finder's own verdict on the row: the import must match with the same score.
        const probe = c.entity === 'company' ? { companyName: c.row.name, domain: (c.row as { domain: string }).domain } : { name: c.row.name, email: (c.row as { email: string }).email };
        const [found] = await crm.duplicates.find(probe, { entities: [c.entity] });
        expect(found).toMatchObject({ record: { id: first.id } });
        expect(found!.score).toBeGreaterThanOrEqual(0.8);
        const report = await crm.import.run({ entity: c.entity, rows: [c.row], duplicates: { action } });
        const items = (await service.list()).items;
        const [row] = report.rows;
        if (action === 'skip') {
          expect(row).toMatchObject({ outcome: 'skipped', reason: 'duplicate', id: first.id, duplicateOf: [first.id] });
          expect(items).toHaveLength(2);
        } else if (action === 'update') {
          expect(row).toMatchObject({ outcome: 'updated', id: first.id, duplicateOf: [first.id] });
          expect(items).toHaveLength(2);
          const extra = Object.entries(c.row).find(([k]) => !(k in c.stored))!;
          expect(items.find((i) => i.id === first.id)).toMatchObject({ [extra[0]]: extra[1] });
        } else {
          expect(row).toMatchObject({ outcome: 'created', duplicateOf: [first.id] });
          expect(items).toHaveLength(3);
        }
        // Same score as the finder: with a minScore just above it the row is no duplicate.
        const above = await crm.import.run({ entity: c.entity, rows: [c.row], duplicates: { action: 'skip', minScore: Math.min(1, found!.score + 0.0001) }, dryRun: true });
        expect(above.rows[0]).toMatchObject({ outcome: 'created' });
        expect(above.rows[0]!.duplicateOf).toBeUndefined();
        const at = await crm.import.run({ entity: c.entity, rows: [c.row], duplicates: { action: 'skip', minScore: found!.score }, dryRun: true });
        expect(at.rows[0]).toMatchObject({ outcome: 'skipped', reason: 'duplicate' });
      });
    }
  }
});
