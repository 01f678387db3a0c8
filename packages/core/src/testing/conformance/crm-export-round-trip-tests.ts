import { describe, expect, it } from 'vitest';
import { csvSource } from '../../csv/csv-source.js';
import type { CrmSubject, FullCrm } from './crm-harness.js';

type Entity = 'contact' | 'company' | 'lead' | 'deal' | 'activity';
type Service = 'contacts' | 'companies' | 'leads' | 'deals' | 'activities';
const SERVICE: Readonly<Record<Entity, Service>> = { contact: 'contacts', company: 'companies', lead: 'leads', deal: 'deals', activity: 'activities' };

async function exported(crm: FullCrm, entity: Entity, format: 'csv' | 'json'): Promise<string> {
  let out = '';
  for await (const chunk of crm.export.run({ entity, format })) out += chunk;
  return out;
}

async function records(crm: FullCrm, entity: Entity): Promise<Record<string, unknown>[]> {
  const service = crm[SERVICE[entity]] as unknown as { list(o: object): Promise<{ items: Record<string, unknown>[] }> };
  return (await service.list({ limit: 100 })).items.sort((a, b) => String(a.id).localeCompare(String(b.id)));
}

/** Custom fields of every type on every customizable entity (a money field with and without a fixed currency). */
async function defineCustomFields(crm: FullCrm): Promise<void> {
  for (const entity of ['contact', 'company', 'lead', 'deal'] as const) {
    await crm.customFields.define({ entity, key: 'note', label: 'Note', type: 'text' });
    await crm.customFields.define({ entity, key: 'seats', label: 'Seats', type: 'number' });
    await crm.customFields.define({ entity, key: 'vip', label: 'VIP', type: 'boolean' });
    await crm.customFields.define({ entity, key: 'since', label: 'Since', type: 'date' });
    await crm.customFields.define({ entity, key: 'tier', label: 'Tier', type: 'select', options: [{ value: 'gold' }, { value: 'silver' }] });
    await crm.customFields.define({ entity, key: 'topics', label: 'Topics', type: 'multiselect', options: [{ value: 'ai' }, { value: 'b2b, retail' }, { value: 'cloud' }] });
    await crm.customFields.define({ entity, key: 'budget', label: 'Budget', type: 'money' });
    await crm.customFields.define({ entity, key: 'fee', label: 'Fee', type: 'money', currency: 'JPY' });
  }
}

const FULL_CUSTOM = { note: '=not a formula, "quoted"', seats: 12.5, vip: false, since: '2024-02-29', tier: 'gold', topics: ['ai', 'b2b, retail'], budget: { amount: -123456, currency: 'KWD' }, fee: { amount: 1500, currency: 'JPY' } };

/** Records with every field kind filled, and a second of each with only what it needs (empty, nullable fields). */
async function seed(crm: FullCrm): Promise<void> {
  await defineCustomFields(crm);
  const pipeline = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'offer', name: 'Offer' }] });
  const company = await crm.companies.create({
    name: 'Analytical Engines, Ltd.', domain: 'engines.example', phone: '+442071234567', industry: 'Machinery', country: 'GB', website: 'https://engines.example',
    notes: 'line one\nline two', tags: ['b2b', 'a,b'], custom: FULL_CUSTOM, externalRefs: [{ system: 'shop', id: 'C-1' }, { system: 'erp', id: 'K 7' }],
  });
  await crm.companies.create({ name: 'Bare', externalRefs: [{ system: 'shop', id: 'C-2' }] });
  const ada = await crm.contacts.create({
    name: 'Lovelace, Ada', email: 'ada@example.com', phone: '+442071234568', jobTitle: 'Analyst', companyId: company.id, ownerId: 'anna', source: 'fair', country: 'GB',
    notes: '  spaced  ', tags: ['vip', 'math'], custom: FULL_CUSTOM,
    externalRefs: [{ system: 'shop', id: '10042' }, { system: 'shop', id: '10043,x' }, { system: 'erp.v2', id: 'K-1' }],
  });
  await crm.contacts.create({ name: 'Bare', email: 'bare@example.com', externalRefs: [{ system: 'shop', id: '2' }] });
  await crm.leads.create({
    name: 'Grace Hopper', email: 'grace@example.com', phone: '+12025550123', companyName: 'Navy', title: 'Rear Admiral', source: 'web', campaign: 'spring', country: 'US',
    probability: 35, expectedValue: { amount: 4999, currency: 'USD' }, website: 'https://navy.example', message: 'Call me', tags: ['cobol'], custom: FULL_CUSTOM,
    externalRefs: [{ system: 'shop', id: 'L-1' }],
  });
  await crm.leads.create({ name: 'Bare', externalRefs: [{ system: 'shop', id: 'L-2' }] });
  await crm.deals.create({
    title: 'Engines', pipelineId: pipeline.id, stageKey: 'offer', contactId: ada.id, companyId: company.id, currency: 'EUR', probability: 50, expectedCloseDate: '2026-03-31',
    source: 'fair', country: 'DE', tags: ['big'], custom: FULL_CUSTOM, externalRefs: [{ system: 'shop', id: 'D-1' }],
    lineItems: [{ productRef: 'SKU-1', name: 'Difference engine', quantity: 2.5, unitPrice: 199999, discountPercent: 12.5 }, { name: 'Manual', quantity: 1, unitPrice: 0 }],
  });
  await crm.deals.create({ title: 'Valued', pipelineId: pipeline.id, value: { amount: 1500, currency: 'JPY' }, externalRefs: [{ system: 'shop', id: 'D-2' }] });
  await crm.deals.create({ title: 'Bare', pipelineId: pipeline.id, externalRefs: [{ system: 'shop', id: 'D-3' }] });
  await crm.activities.log({
    kind: 'call', channel: 'phone', direction: 'inbound', subject: 'Engines', body: 'Discussed\r\n"numbers"', outcome: 'follow up', durationMinutes: 25,
    participants: [{ contactId: ada.id, name: 'Ada', address: '+442071234568' }, { userId: 'anna' }], contactId: ada.id, companyId: company.id, ownerId: 'anna',
    occurredAt: '2026-01-02T10:30:00.000Z', externalRefs: [{ system: 'phone', id: 'call-1' }],
  });
  await crm.activities.log({ kind: 'note', externalRefs: [{ system: 'phone', id: 'note-1' }] });
}

/** Review 16: an export without a mapping is what an import without one reads back, every entity and every field kind. */
export function crmExportRoundTripTests(open: () => Promise<CrmSubject>): void {
  describe('import and export', () => {
    for (const format of ['csv', 'json'] as const) {
      it(`a ${format.toUpperCase()} export without a mapping imports back unchanged: every entity, every field kind`, async () => {
        const s = await open();
        await seed(s.crm);
        for (const entity of ['company', 'contact', 'lead', 'deal'] as const) {
          const before = await records(s.crm, entity);
          const text = await exported(s.crm, entity, format);
          const source = format === 'csv' ? { csv: csvSource(text) } : { rows: JSON.parse(text) as Record<string, unknown>[] };
          const report = await s.crm.import.run({ entity, mode: 'upsert', key: 'externalRef:shop', ...source });
          expect(report.rows.map((r) => [r.outcome, r.reason ?? r.issues]), `${entity}\n${text}`).toEqual(before.map(() => ['skipped', 'unchanged']));
          expect(await records(s.crm, entity), entity).toEqual(before);
        }
        // Activities are logged, never updated: their export logs the same activities on a copy of the crm.
        const copy = await open();
        await defineCustomFields(copy.crm);
        for (const entity of ['company', 'contact', 'activity'] as const) {
          const text = await exported(s.crm, entity, format);
          const report = await copy.crm.import.run({ entity, ...(format === 'csv' ? { csv: csvSource(text) } : { rows: JSON.parse(text) as Record<string, unknown>[] }) });
          expect(report.rows.map((r) => [r.outcome, r.issues]), `${entity}\n${text}`).toEqual((await records(s.crm, entity)).map(() => ['created', undefined]));
        }
        const strip = ({ createdAt: _c, updatedAt: _u, ...rest }: Record<string, unknown>) => rest;
        expect((await records(copy.crm, 'activity')).map(strip)).toEqual((await records(s.crm, 'activity')).map(strip));
      });
    }

    // Review 16g #6: a mapped column without `as` is written and read by its field's kind (a number, a list, JSON).
    it('an export with a mapping imports back with the same mapping, with and without as: every card entity, every field kind', async () => {
      const s = await open();
      await seed(s.crm);
      const custom = (as: boolean) => ({
        'custom.note': 'Note', 'custom.seats': as ? { column: 'Seats', as: 'number' as const } : 'Seats', 'custom.vip': as ? { column: 'VIP', as: 'boolean' as const } : 'VIP',
        'custom.since': as ? { column: 'Since', as: 'date' as const } : 'Since', 'custom.tier': 'Tier', 'custom.topics': as ? { column: 'Topics', as: 'list' as const } : 'Topics',
        'custom.budget': as ? { column: 'Budget', as: 'money' as const, currencyColumn: 'Budget currency' } : 'Budget', 'custom.fee': as ? { column: 'Fee', as: 'money' as const, currency: 'JPY' } : 'Fee',
      });
      const mappings = (as: boolean) => ({
        company: { 'externalRefs.shop': { column: 'Shop', as: 'list' as const }, name: 'Name', tags: as ? { column: 'Tags', as: 'list' as const } : 'Tags', 'externalRefs.erp': 'ERP', ...custom(as) },
        contact: { 'externalRefs.shop': 'Shop', name: 'Name', email: 'Email', notes: 'Notes', tags: 'Tags', ...custom(as) },
        lead: { 'externalRefs.shop': 'Shop', name: 'Name', probability: as ? { column: 'P', as: 'number' as const } : 'P', expectedValue: as ? { column: 'EV', as: 'money' as const, currencyColumn: 'EV currency' } : 'EV', ...custom(as) },
        deal: { 'externalRefs.shop': 'Shop', title: 'Title', probability: as ? { column: 'P', as: 'integer' as const } : 'P', expectedCloseDate: as ? { column: 'Close', as: 'date' as const } : 'Close', lineItems: 'Lines', ...custom(as) },
      });
      for (const as of [false, true]) {
        for (const [entity, mapping] of Object.entries(mappings(as)) as [Exclude<Entity, 'activity'>, Record<string, unknown>][]) {
          const before = await records(s.crm, entity);
          let text = '';
          for await (const chunk of s.crm.export.run({ entity, mapping: mapping as never, locale: 'de-DE' })) text += chunk;
          const report = await s.crm.import.run({ entity, mode: 'upsert', key: 'externalRef:shop', mapping: mapping as never, locale: 'de-DE', csv: csvSource(text) });
          expect(report.rows.map((r) => [r.outcome, r.reason ?? r.issues]), `${entity} (as: ${as})\n${text}`).toEqual(before.map(() => ['skipped', 'unchanged']));
          expect(await records(s.crm, entity), entity).toEqual(before);
        }
      }
    });

    it('an export without a mapping leaves out index and access copies; an import ignores bookkeeping and refuses to change a create-only field', async () => {
      const s = await open();
      await seed(s.crm);
      const header = (await exported(s.crm, 'deal', 'csv')).split('\r\n')[0]!.replace(/"/g, '').split(',');
      expect(header.filter((c) => ['externalKeys', 'searchKeys', 'shareKeys', 'tenantId'].includes(c))).toEqual([]);
      expect(header).toEqual(expect.arrayContaining(['id', 'version', 'createdAt', 'lineItems', 'externalRefs', 'custom.budget.amount', 'custom.budget.currency']));
      const deal = await s.crm.deals.getByExternalRef('shop', 'D-2');
      const report = await s.crm.import.run({ entity: 'deal', mode: 'upsert', key: 'externalRef:shop', rows: [
        { title: 'Valued', stageKey: 'offer', 'externalRefs.shop': 'D-2' },
        { title: 'Renamed', version: 99, createdAt: '2000-01-01T00:00:00.000Z', status: 'won', 'externalRefs.shop': 'D-2x' },
      ] });
      expect(report.rows.map((r) => [r.outcome, r.issues?.map((i) => [i.path, i.code])])).toEqual([['failed', [[['stageKey'], 'invalid_value']]], ['created', undefined]]);
      expect(await s.crm.deals.get(deal!.id)).toEqual(deal);
      expect(await s.crm.deals.get(report.rows[1]!.id!)).toMatchObject({ title: 'Renamed', version: 1, status: 'open', createdAt: '2026-01-05T09:00:00.000Z' });
    });
  });
}

/**
 * Review16i #4b: an empty list is a value, not the absence of one. An export writes it `[]` (CSV cells,
 * mapped JSON cells) or keeps it a list (JSON without a mapping), and an import reads it back as the empty
 * list; an empty cell stays no value. So an empty multiselect, tag list or participant list comes back as
 * it was — into the same crm (`unchanged`) and into a fresh one — on every adapter.
 */
export function crmEmptyListRoundTripTests(open: () => Promise<CrmSubject>): void {
  describe('import and export of empty lists', () => {
    const mapping = { 'externalRefs.shop': 'Shop', name: 'Name', tags: 'Tags', 'custom.topics': 'Topics', 'custom.tier': 'Tier' };
    const listed = (r: Record<string, unknown>) => [r.name, r.tags, (r.custom as Record<string, unknown>).topics ?? 'absent', (r.custom as Record<string, unknown>).tier ?? 'absent'];
    for (const format of ['csv', 'json'] as const) {
      for (const mapped of [false, true]) {
        it(`${format.toUpperCase()} ${mapped ? 'with' : 'without'} a mapping: an empty multiselect and tag list come back empty, an absent value absent`, async () => {
          const s = await open();
          const copy = await open();
          for (const crm of [s.crm, copy.crm]) await defineCustomFields(crm);
          await s.crm.contacts.create({ name: 'Empty', tags: [], custom: { topics: [] }, externalRefs: [{ system: 'shop', id: 'E-1' }] });
          await s.crm.contacts.create({ name: 'Absent', externalRefs: [{ system: 'shop', id: 'E-2' }] });
          await s.crm.contacts.create({ name: 'Full', tags: ['[]', 'a,b'], custom: { topics: ['ai'], tier: 'gold' }, externalRefs: [{ system: 'shop', id: 'E-3' }] });
          await s.crm.leads.create({ name: 'Lead', custom: { topics: [] }, externalRefs: [{ system: 'shop', id: 'L-1' }] });
          for (const entity of ['contact', 'lead'] as const) {
            let text = '';
            for await (const chunk of s.crm.export.run({ entity, format, ...(mapped ? { mapping } : {}) })) text += chunk;
            const source = () => ({ ...(mapped ? { mapping } : {}), ...(format === 'csv' ? { csv: csvSource(text) } : { rows: JSON.parse(text) as Record<string, unknown>[] }) });
            const before = await records(s.crm, entity);
            const same = await s.crm.import.run({ entity, mode: 'upsert', key: 'externalRef:shop', ...source() });
            expect(same.rows.map((r) => [r.outcome, r.reason ?? r.issues]), `${entity}\n${text}`).toEqual(before.map(() => ['skipped', 'unchanged']));
            expect(await records(s.crm, entity)).toEqual(before);
            const fresh = await copy.crm.import.run({ entity, ...source() });
            expect(fresh.rows.map((r) => [r.outcome, r.issues]), `${entity}\n${text}`).toEqual(before.map(() => ['created', undefined]));
            const byName = (rows: Record<string, unknown>[]) => rows.map(listed).sort((a, b) => String(a[0]).localeCompare(String(b[0])));
            expect(byName(await records(copy.crm, entity)), `${entity}\n${text}`).toEqual(byName(before));
          }
          expect((await records(copy.crm, 'contact')).map(listed).sort((a, b) => String(a[0]).localeCompare(String(b[0])))).toEqual([['Absent', [], 'absent', 'absent'], ['Empty', [], [], 'absent'], ['Full', ['[]', 'a,b'], ['ai'], 'gold']]);
        });
      }
    }

    it('an activity without participants comes back with an empty list; `[]` in a row clears a list, an empty cell leaves it', async () => {
      const s = await open();
      const copy = await open();
      await s.crm.activities.log({ kind: 'note', subject: 'Alone', participants: [], externalRefs: [{ system: 'shop', id: 'A-1' }] });
      const activity = { kind: 'Kind', subject: 'Subject', participants: 'Participants', 'externalRefs.shop': 'Shop' };
      for (const [format, mapping] of [['csv', activity], ['json', activity], ['csv', undefined]] as const) {
        let text = '';
        for await (const chunk of s.crm.export.run({ entity: 'activity', format, ...(mapping ? { mapping } : {}) })) text += chunk;
        const report = await copy.crm.import.run({ entity: 'activity', mode: 'upsert', key: 'externalRef:shop', ...(mapping ? { mapping } : {}), ...(format === 'csv' ? { csv: csvSource(text) } : { rows: JSON.parse(text) as Record<string, unknown>[] }) });
        expect(report.rows.map((r) => [r.outcome, r.issues]), text).toEqual([[format === 'csv' && mapping ? 'created' : 'skipped', undefined]]);
        expect((await copy.crm.activities.get(report.rows[0]!.id!)).participants, text).toEqual([]);
      }
      await defineCustomFields(s.crm);
      const ada = await s.crm.contacts.create({ name: 'Ada', tags: ['vip'], custom: { topics: ['ai'] }, externalRefs: [{ system: 'shop', id: 'C-1' }] });
      const csv = 'externalRefs.shop,tags,custom.topics\r\nC-1,,\r\n';
      expect((await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', csv: csvSource(csv) })).rows.map((r) => r.reason)).toEqual(['unchanged']);
      await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', csv: csvSource('externalRefs.shop,tags,custom.topics\r\nC-1,[],[]\r\n') });
      expect(await s.crm.contacts.get(ada.id)).toMatchObject({ tags: [], custom: { topics: [] } });
    });
  });
}
