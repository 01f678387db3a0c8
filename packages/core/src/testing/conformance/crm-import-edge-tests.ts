import { describe, expect, it } from 'vitest';
import { csvSource } from '../../csv/csv-source.js';
import type { CrmSubject } from './crm-harness.js';

/** Edge cases of `crm.import.run` found by review (issue 16): refs of one system, dry runs across chunks, normalised keys (e-mail, domain, phone), views. */
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

    it('a dry run agrees with the real run when rows of different chunks share an external ref (create and upsert)', async () => {
      const s = await open();
      const verdicts = (r: { rows: readonly { outcome: string; error?: string }[] }) => r.rows.map((x) => [x.outcome, x.error]);
      const create = { entity: 'contact' as const, rows: [{ n: 'A', s: '1' }, { n: 'B', s: '1' }, { n: 'C', s: '2' }], mapping: { name: 'n', 'externalRefs.shop': 's' }, chunkSize: 1 };
      const dry = await s.crm.import.run({ ...create, dryRun: true });
      expect(await s.crm.contacts.list()).toMatchObject({ items: [] });
      const real = await s.crm.import.run(create);
      expect(verdicts(real)).toEqual([['created', undefined], ['failed', 'CONFLICT'], ['created', undefined]]);
      expect(verdicts(dry)).toEqual(verdicts(real));
      const upsert = { entity: 'contact' as const, mode: 'upsert' as const, key: 'externalRef:shop', rows: [{ n: 'D', s: '11', e: 'E1' }, { n: 'E', s: '12', e: 'E1' }, { n: 'F', s: '11', e: 'E1' }], mapping: { name: 'n', 'externalRefs.shop': 's', 'externalRefs.erp': 'e' }, chunkSize: 1 };
      const dry2 = await s.crm.import.run({ ...upsert, dryRun: true });
      const real2 = await s.crm.import.run(upsert);
      expect(verdicts(real2)).toEqual([['created', undefined], ['failed', 'CONFLICT'], ['failed', 'VALIDATION']]);
      expect(verdicts(dry2)).toEqual(verdicts(real2));
      // An update of the record that holds the ref is no conflict, in either mode.
      const same = { entity: 'contact' as const, mode: 'upsert' as const, key: 'email', rows: [{ n: 'G', m: 'g@example.com', s: '21' }, { n: 'G2', m: 'G@example.com', s: '21' }, { n: 'H', m: 'h@example.com', s: '21' }], mapping: { name: 'n', email: 'm', 'externalRefs.shop': 's' }, chunkSize: 1 };
      const dry3 = await s.crm.import.run({ ...same, dryRun: true });
      const real3 = await s.crm.import.run(same);
      expect(verdicts(dry3)).toEqual(verdicts(real3));
      expect(verdicts(real3)).toEqual([['created', undefined], ['failed', 'VALIDATION'], ['failed', 'CONFLICT']]);
    });

    it('domain keys compare in canonical form (case, www.), like e-mail keys; imports store domains as companies.create does', async () => {
      const s = await open();
      const acme = await s.crm.companies.create({ name: 'Acme', domain: 'acme.com' });
      const options = { entity: 'company' as const, mode: 'upsert' as const, key: 'domain', mapping: { name: 'n', domain: 'd' } };
      const report = await s.crm.import.run({ ...options, rows: [{ n: 'Acme GmbH', d: 'ACME.com' }, { n: 'A2', d: 'www.Acme.COM' }, { n: 'Beta', d: 'Beta.EXAMPLE' }] });
      expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['updated', undefined], ['failed', 'duplicate_key'], ['created', undefined]]);
      const companies = (await s.crm.companies.list({ limit: 100 })).items;
      expect(companies.map((c) => [c.name, c.domain]).sort()).toEqual([['Acme GmbH', 'acme.com'], ['Beta', 'beta.example']]);
      expect(report.rows[0]!.id).toBe(acme.id);
      // A later file in another spelling finds the imported company; create mode with the key refuses it.
      const again = await s.crm.import.run({ ...options, rows: [{ n: 'Beta AG', d: 'BETA.example' }] });
      expect(again.rows.map((r) => r.outcome)).toEqual(['updated']);
      const create = await s.crm.import.run({ entity: 'company', key: 'domain', mapping: { name: 'n', domain: 'd' }, rows: [{ n: 'Acme 3', d: 'Acme.Com' }] });
      expect(create.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['failed', 'already_exists']]);
      // The bulk import stores the canonical domain too.
      const [bulk] = await s.crm.imports.companies([{ name: 'Gamma', domain: 'WWW.Gamma.example' }]);
      expect(bulk!.domain).toBe('gamma.example');
      expect((await s.crm.companies.list({ limit: 100 })).items).toHaveLength(3);
    });

    it('phone keys compare by the E.164 identity the duplicate finder reads (contacts, leads, companies): in the file and against stored records', async () => {
      const s = await open();
      const ada = await s.crm.contacts.create({ name: 'Ada', phone: '+1 415 555 2671' });
      const options = { entity: 'contact' as const, mode: 'upsert' as const, key: 'phone', mapping: { name: 'n', phone: 'p' } };
      const report = await s.crm.import.run({ ...options, rows: [{ n: 'Ada Lovelace', p: '+14155552671' }, { n: 'Ada again', p: '001 (415) 555-2671' }, { n: 'Grace', p: '+44 20 7946 0958' }, { n: 'Grace again', p: '+442079460958' }] });
      expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['updated', undefined], ['failed', 'duplicate_key'], ['created', undefined], ['failed', 'duplicate_key']]);
      expect(report.rows[0]!.id).toBe(ada.id);
      expect(report.rows[1]!.issues![0]!.message).toContain('row 1');
      expect((await s.crm.contacts.list({ limit: 100 })).items.map((c) => c.name).sort()).toEqual(['Ada Lovelace', 'Grace']);
      // A later file in yet another spelling finds the record; create mode with the key refuses it.
      const again = await s.crm.import.run({ ...options, rows: [{ n: 'Grace Hopper', p: '0044 20 7946 0958' }] });
      expect(again.rows.map((r) => [r.outcome, r.id])).toEqual([['updated', report.rows[2]!.id]]);
      const create = await s.crm.import.run({ entity: 'contact', key: 'phone', mapping: { name: 'n', phone: 'p' }, rows: [{ n: 'Ada twin', p: '+1-415-555-2671' }] });
      expect(create.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['failed', 'already_exists']]);
      // Two stored records with one number in two spellings: an update by it would have to guess.
      await s.crm.contacts.create({ name: 'Ada twin', phone: '+1 (415) 555-2671' });
      const twins = await s.crm.import.run({ ...options, mode: 'update', rows: [{ n: 'Who', p: '+14155552671' }] });
      expect(twins.rows[0]!.issues![0]).toMatchObject({ path: ['phone'], code: 'ambiguous_key' });
      // Leads and companies carry phones too: the same rule.
      const lead = await s.crm.leads.create({ name: 'Lead', phone: '+33 6 12 34 56 78' });
      const leads = await s.crm.import.run({ entity: 'lead', mode: 'upsert', key: 'phone', rows: [{ name: 'Lead v2', phone: '+33612345678' }] });
      expect(leads.rows.map((r) => [r.outcome, r.id])).toEqual([['updated', lead.id]]);
      const acme = await s.crm.companies.create({ name: 'Acme', phone: '+49 30 1234567' });
      const companies = await s.crm.import.run({ entity: 'company', mode: 'upsert', key: 'phone', rows: [{ name: 'Acme GmbH', phone: '0049 30 1234567' }, { name: 'Acme AG', phone: '+49301234567' }] });
      expect(companies.rows.map((r) => [r.outcome, r.issues?.[0]?.code ?? r.id])).toEqual([['updated', acme.id], ['failed', 'duplicate_key']]);
    });

    it('in a view: an import row whose ref a hidden record holds fails without naming it; the merge log hides hidden duplicates in links', async () => {
      const s = await open();
      await s.crm.access.setPolicy({ roles: { rep: { grants: { contact: { '*': 'own' }, deal: { '*': 'all' } } } }, defaultRoles: ['rep'] });
      await s.crm.access.setDirectory({ teams: [], users: [{ id: 'rita' }, { id: 'ben' }] });
      const rita = s.crm.as({ userId: 'rita' });
      const held = await s.crm.contacts.create({ name: 'Ben secret', ownerId: 'ben', externalRefs: [{ system: 'shop', id: '42' }] });
      const report = await rita.import.run({ entity: 'contact', mode: 'upsert', key: 'externalRef:shop', rows: [{ n: 'X', s: '42' }], mapping: { name: 'n', 'externalRefs.shop': 's' } });
      expect(report.rows.map((r) => r.outcome)).toEqual(['failed']);
      expect(JSON.stringify(report)).not.toContain(held.id);
      expect((await s.crm.contacts.get(held.id)).version).toBe(held.version);
      // Merge log: a duplicate rita cannot read is named nowhere (ids, field sources, the links' values before).
      const x = await s.crm.contacts.create({ name: 'X', ownerId: 'rita' });
      const y = await s.crm.contacts.create({ name: 'Hidden Y', ownerId: 'ben' });
      await s.crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
      const deal = await s.crm.deals.create({ title: 'Dy', contactId: y.id });
      const { merge } = await s.crm.contacts.merge(x.id, [y.id]);
      const seen = await rita.merges.get(merge.id);
      expect(seen.duplicateIds).toEqual([]);
      expect(seen.links.find((l) => l.entity === 'deal')).toMatchObject({ id: deal.id, field: 'contactId', from: null });
      expect(JSON.stringify(seen)).not.toContain(y.id);
      expect(JSON.stringify(await rita.merges.list({ survivorId: x.id }))).not.toContain(y.id);
      // The root still sees every link as it was.
      expect((await s.crm.merges.get(merge.id)).links.find((l) => l.entity === 'deal')!.from).toBe(y.id);
    });

    it('export writes every id of a system a record holds, and the file imports back with as: list', async () => {
      const s = await open();
      const two = await s.crm.contacts.create({ name: 'Two', externalRefs: [{ system: 'shop', id: '1' }, { system: 'erp', id: 'E' }, { system: 'shop', id: '2' }] });
      await s.crm.contacts.create({ name: 'One', externalRefs: [{ system: 'shop', id: '3' }] });
      const mapping = { name: 'Name', 'externalRefs.shop': { column: 'Shop', as: 'list' as const } };
      let csv = '';
      for await (const chunk of s.crm.export.run({ entity: 'contact', mapping, orderBy: [{ field: 'name' }] })) csv += chunk;
      expect(csv.split('\r\n').filter(Boolean)).toEqual(['"Name","Shop"', '"One","3"', '"Two","1,2"']);
      let plain = '';
      for await (const chunk of s.crm.export.run({ entity: 'contact', mapping: { name: 'Name', 'externalRefs.shop': 'Shop' }, orderBy: [{ field: 'name' }] })) plain += chunk;
      expect(plain).toContain('"Two","1,2"');
      const back = await s.crm.import.run({ entity: 'contact', mode: 'upsert', key: 'externalRef:shop', csv: csvSource(csv), mapping });
      expect(back.rows.map((r) => [r.outcome, r.reason])).toEqual([['skipped', 'unchanged'], ['skipped', 'unchanged']]);
      expect((await s.crm.contacts.get(two.id)).externalRefs).toHaveLength(3);
    });
  });
}
