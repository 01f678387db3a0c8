import { expect, it } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { LeakWorld } from './access-leak-tests.js';

type Grants = AccessPolicy['roles'][string]['grants'];
type Fields = AccessPolicy['roles'][string]['fields'];

const policy = (grants: Grants, fields?: Fields): AccessPolicy => ({ roles: { r: { grants, ...(fields ? { fields } : {}) } }, defaultRoles: ['r'] }) as AccessPolicy;

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    if (isCrmError(error)) return error.code;
    throw error;
  }
}

const CARDS: Grants = { contact: { '*': 'all' }, company: { '*': 'all' }, lead: { '*': 'all' } };

/**
 * Merges and their undo in a view (issues 11 and 16), on every adapter: what they return is what the
 * principal may read (field rules, row scopes), and the undo faces the checks the merge and `update`
 * face — writable fields, assignment, the scope the record is left in; refused calls write nothing.
 */
export function accessMergeTests(open: () => Promise<LeakWorld>): void {
  it('merge and undo of contacts, companies and leads return no field the view may not read', async () => {
    const w = await open();
    await w.root.customFields.define({ entity: 'contact', key: 'salary', label: 'Salary', type: 'number' });
    await w.root.access.setPolicy(policy(CARDS, { contact: { read: { deny: ['notes', 'custom.salary'] } }, company: { read: { deny: ['notes'] } }, lead: { read: { deny: ['message'] } } }));
    const me = w.root.as({ userId: 'me' });
    const cases = [
      { make: (n: string) => w.root.contacts.create({ name: n, notes: `SECRET-${n}`, custom: { salary: 4242 } }), merge: (a: string, b: string) => me.merges.contacts(a, [b]) },
      { make: (n: string) => w.root.contacts.create({ name: n, notes: `SECRET-${n}`, custom: { salary: 4242 } }), merge: (a: string, b: string) => me.contacts.merge(a, [b]) },
      { make: (n: string) => w.root.companies.create({ name: n, notes: `SECRET-${n}` }), merge: (a: string, b: string) => me.merges.companies(a, [b]) },
      { make: (n: string) => w.root.companies.create({ name: n, notes: `SECRET-${n}` }), merge: (a: string, b: string) => me.companies.merge(a, [b]) },
      { make: (n: string) => w.root.leads.create({ name: n, message: `SECRET-${n}` }), merge: (a: string, b: string) => me.merges.leads(a, [b]) },
      { make: (n: string) => w.root.leads.create({ name: n, message: `SECRET-${n}` }), merge: (a: string, b: string) => me.leads.merge(a, [b]) },
    ];
    for (const [i, c] of cases.entries()) {
      const [a, b] = [await c.make(`A${i}`), await c.make(`B${i}`)];
      const merged = await c.merge(a.id, b.id);
      expect(merged.survivor.id).toBe(a.id);
      expect(JSON.stringify(merged), `merge ${i}`).not.toMatch(/SECRET|4242/);
      const undone = await me.merges.undo(merged.merge.id);
      expect(undone.duplicates.map((d) => d.id)).toEqual([b.id]);
      expect(JSON.stringify(undone), `undo ${i}`).not.toMatch(/SECRET|4242/);
    }
    // The trusted crm gets the whole records.
    const [a, b] = [await cases[0]!.make('A'), await cases[0]!.make('B')];
    const merged = await w.root.merges.contacts(a.id, [b.id]);
    expect(JSON.stringify(merged.survivor)).toContain('SECRET-A');
    expect(JSON.stringify(await w.root.merges.undo(merged.merge.id))).toContain('SECRET-B');
  });

  it('an undo faces the field-write rules the merge faces: a field the view may not write is not put back (custom fields too)', async () => {
    const w = await open();
    await w.root.customFields.define({ entity: 'contact', key: 'salary', label: 'Salary', type: 'number' });
    await w.root.access.setPolicy(policy(CARDS, { contact: { write: { deny: ['phone', 'custom.salary'] } } }));
    const me = w.root.as({ userId: 'me' });
    const a = await w.root.contacts.create({ name: 'A', phone: '+1 415 555 0001', custom: { salary: 1 } });
    const b = await w.root.contacts.create({ name: 'B', phone: '+1 415 555 0002', custom: { salary: 2 } });
    expect(await outcome(me.contacts.update(a.id, { phone: '+1 415 555 0003' }))).toBe('FORBIDDEN');
    expect(await outcome(me.merges.contacts(a.id, [b.id], { fields: { phone: b.id } }))).toBe('FORBIDDEN');
    expect(await outcome(me.merges.contacts(a.id, [b.id], { fields: { 'custom.salary': b.id } }))).toBe('FORBIDDEN');
    for (const fields of [{ phone: b.id }, { 'custom.salary': b.id }] as Record<string, string>[]) {
      const { merge } = await w.root.merges.contacts(a.id, [b.id], { fields });
      const before = await w.root.contacts.get(a.id);
      expect(await outcome(me.merges.undo(merge.id))).toBe('FORBIDDEN');
      expect(await w.root.contacts.get(a.id)).toEqual(before);
      expect((await w.root.merges.get(merge.id)).status).toBe('merged');
      expect(await outcome(w.root.contacts.get(b.id))).toBe('NOT_FOUND');
      await w.root.merges.undo(merge.id);
    }
    // Fields it may write are put back.
    const { merge } = await w.root.merges.contacts(a.id, [b.id], { fields: { name: b.id } });
    expect((await me.merges.undo(merge.id)).survivor).toMatchObject({ id: a.id, name: 'A' });
  });

  it('an undo that hands the survivor to another owner needs what update needs (assign), and is refused when the view could not read the result', async () => {
    const w = await open();
    // Contacts have no assign: a change of owner must stay within the update scope.
    await w.root.access.setPolicy(policy({ contact: { '*': 'own' }, lead: { '*': 'own', assign: 'all' } }));
    const me = w.root.as({ userId: 'me' });
    const a = await w.root.contacts.create({ name: 'A', ownerId: 'other', notes: 'OTHER-SECRET' });
    const b = await w.root.contacts.create({ name: 'B', ownerId: 'me' });
    expect(await outcome(me.contacts.update(b.id, { ownerId: 'other' }))).toBe('FORBIDDEN');
    const { merge } = await w.root.merges.contacts(a.id, [b.id], { fields: { ownerId: b.id } });
    const survivor = await w.root.contacts.get(a.id);
    const error = await me.merges.undo(merge.id).catch((e: unknown) => e);
    expect(isCrmError(error, 'FORBIDDEN'), String(error)).toBe(true);
    expect(JSON.stringify(error)).not.toContain('OTHER-SECRET');
    expect(await w.root.contacts.get(a.id)).toEqual(survivor);
    expect((await w.root.merges.get(merge.id)).status).toBe('merged');
    // Leads: assign lets the view hand its lead over, but the undo would return a record it cannot read.
    const l1 = await w.root.leads.create({ name: 'L1', ownerId: 'other', message: 'OTHER-SECRET' });
    const l2 = await w.root.leads.create({ name: 'L2', ownerId: 'me' });
    const leads = await w.root.merges.leads(l1.id, [l2.id], { fields: { ownerId: l2.id } });
    const lead = await w.root.leads.get(l1.id);
    const refused = await me.merges.undo(leads.merge.id).catch((e: unknown) => e);
    expect(isCrmError(refused, 'FORBIDDEN'), String(refused)).toBe(true);
    expect(JSON.stringify(refused)).not.toContain('OTHER-SECRET');
    expect(await w.root.leads.get(l1.id)).toEqual(lead);
    expect(await outcome(me.leads.get(l2.id))).toBe('NOT_FOUND');
  });
}
