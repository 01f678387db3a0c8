import { expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

const rejection = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a rejection'); }, (e: unknown) => e as Error & { code: string; details: Record<string, unknown> });

/** CONFLICT messages name an external ref as the caller gave it, never the stored `externalKeys` (review16h #10). */
it('create, update and import name "external ref <system>:<id>" and the holder; in a view a hidden holder is "another" record', async () => {
  const { crm } = await createTestCrm();
  const held = await crm.contacts.create({ name: 'Ada', ownerId: 'ben', externalRefs: [{ system: 'shop', id: '7' }] });
  const created = await rejection(crm.contacts.create({ name: 'Twin', externalRefs: [{ system: 'shop', id: '7' }] }));
  expect(created).toMatchObject({ code: 'CONFLICT', message: `external ref shop:7 is already taken by contact ${held.id}` });
  const other = await crm.contacts.create({ name: 'Bob', ownerId: 'anna' });
  const updated = await rejection(crm.contacts.update(other.id, { externalRefs: [{ system: 'shop', id: '7' }] }));
  expect(updated).toMatchObject({ code: 'CONFLICT', message: `external ref shop:7 is already taken by contact ${held.id}` });
  const imported = await crm.import.run({ entity: 'contact', rows: [{ name: 'Twin', 'externalRefs.shop': '7' }] });
  expect(imported.rows[0]!.issues).toEqual([{ path: ['externalRefs', 'shop'], code: 'conflict', message: `external ref shop:7 is already taken by contact ${held.id}` }]);

  await crm.access.setPolicy({ roles: { rep: { grants: { contact: { '*': 'own' } } } }, defaultRoles: ['rep'] });
  await crm.access.setDirectory({ teams: [], users: [{ id: 'anna' }, { id: 'ben' }] });
  const anna = crm.as({ userId: 'anna' });
  for (const error of [
    await rejection(anna.contacts.create({ name: 'Twin', externalRefs: [{ system: 'shop', id: '7' }] })),
    await rejection(anna.contacts.update(other.id, { externalRefs: [{ system: 'shop', id: '7' }] })),
  ]) {
    expect(error).toMatchObject({ code: 'CONFLICT', message: 'external ref shop:7 is already taken by another contact', details: { key: { field: 'externalKeys', value: 'shop:7' } } });
    expect(JSON.stringify(error.details)).not.toContain(held.id);
  }
  const viewImport = await anna.import.run({ entity: 'contact', rows: [{ name: 'Twin', 'externalRefs.shop': '7' }] });
  expect(viewImport.rows[0]!.issues).toEqual([{ path: ['externalRefs', 'shop'], code: 'conflict', message: 'external ref shop:7 is already taken by another contact' }]);
  expect((await crm.contacts.list()).items).toHaveLength(2);
});
