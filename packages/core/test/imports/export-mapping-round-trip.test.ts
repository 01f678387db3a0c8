import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCrm, type AllFeatures } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';
import type { ColumnSpec, ImportMapping } from '@crmkit/core/imports';
import { text } from './export-text.js';

// Review 16g #6 and the `as: 'integer'/'datetime'` finding: an export with a mapping must write what an import with
// the same mapping reads back — for every field kind, with `as` or without it (the field's kind then decides).

type Crm = Awaited<ReturnType<typeof createTestCrm<AllFeatures>>>['crm'];
type Entity = 'contact' | 'company' | 'lead' | 'deal' | 'activity';
type Kind = 'text' | 'number' | 'integer' | 'boolean' | 'date' | 'time' | 'list' | 'ref' | 'ref1' | 'money' | 'object';

/** The `as` an export accepts for a kind of value (independent of the code's own table); `undefined`: no `as`. */
const AS: Readonly<Record<Kind, readonly (string | undefined)[]>> = {
  text: [undefined, 'text'],
  number: [undefined, 'number'],
  integer: [undefined, 'number', 'integer'],
  boolean: [undefined, 'boolean'],
  date: [undefined, 'text', 'date'],
  time: [undefined, 'text', 'datetime'],
  list: [undefined, 'list'],
  // Several ids of one system: a list (text would read them back as one id, so the export refuses it).
  ref: [undefined, 'list'],
  ref1: [undefined, 'text', 'list'],
  money: [undefined, 'money'],
  object: [undefined],
};

const SERVICE = { contact: 'contacts', company: 'companies', lead: 'leads', deal: 'deals', activity: 'activities' } as const;
const OPTIONS = [{ value: 'gold' }, { value: 'b2b, retail' }, { value: '"q"' }];
const CUSTOM = { 'custom.note': 'text', 'custom.seats': 'number', 'custom.vip': 'boolean', 'custom.since': 'date', 'custom.tier': 'text', 'custom.topics': 'list', 'custom.budget': 'money' } as const;

/** Mapped fields of each entity and the kind of value they hold. */
const FIELDS: Readonly<Record<Entity, Readonly<Record<string, Kind>>>> = {
  contact: { name: 'text', email: 'text', jobTitle: 'text', notes: 'text', tags: 'list', 'externalRefs.erp': 'ref', 'externalRefs.old': 'ref1', ...CUSTOM },
  company: { name: 'text', domain: 'text', industry: 'text', tags: 'list', ...CUSTOM },
  lead: { name: 'text', companyName: 'text', probability: 'number', expectedValue: 'money', tags: 'list', ...CUSTOM },
  deal: { title: 'text', value: 'money', probability: 'number', expectedCloseDate: 'date', tags: 'list', ...CUSTOM },
  activity: { kind: 'text', subject: 'text', durationMinutes: 'integer', occurredAt: 'time', participants: 'object', 'externalRefs.erp': 'ref', 'externalRefs.old': 'ref1' },
};

const word = fc.stringMatching(/^[A-Za-z0-9=+@'",;. -]{1,16}$/).filter((s) => s.trim() === s && s !== '');
const day = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9400-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
const instant = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => d.toISOString());
const money = fc.record({ amount: fc.integer({ min: -1e12, max: 1e12 }), currency: fc.constantFrom('EUR', 'JPY', 'KWD', 'USD') });
const number = fc.oneof(fc.integer({ min: -1e9, max: 1e9 }), fc.double({ min: -1e6, max: 1e6, noNaN: true })).map((n) => n || 0);

/**
 * A value of each field of an entity (a record's input, fields by path). Custom fields may be absent, and
 * lists empty (a multiselect `[]`, no tags, no participants): an empty list reads back as one, not as no
 * value (review16i #4b: an empty multiselect came back absent).
 */
function valuesOf(entity: Entity): fc.Arbitrary<Record<string, unknown>> {
  const fields = { note: word, seats: number, vip: fc.boolean(), since: day, tier: fc.constantFrom(...OPTIONS.map((o) => o.value)), topics: fc.subarray(OPTIONS.map((o) => o.value)), budget: money };
  const custom = fc.record(fields, { requiredKeys: [] });
  const tags = fc.uniqueArray(word, { maxLength: 4 });
  const erp = fc.uniqueArray(fc.stringMatching(/^[A-Za-z0-9 ,"-]{1,8}$/).filter((s) => s.trim() === s && s !== ''), { minLength: 1, maxLength: 3 });
  switch (entity) {
    case 'contact':
      return fc.record({ name: word, jobTitle: word, notes: word, tags, custom, erp, old: erp.map((ids) => ids.slice(0, 1)) });
    case 'company':
      return fc.record({ name: word, industry: word, tags, custom });
    case 'lead':
      return fc.record({ name: word, companyName: word, probability: fc.constantFrom(0, 1, 35, 50.5, 100), expectedValue: money, tags, custom });
    case 'deal':
      return fc.record({ title: word, value: money, probability: fc.constantFrom(0, 1, 35, 50.5, 100), expectedCloseDate: day, tags, custom });
    case 'activity':
      return fc.record({ kind: fc.constantFrom('call', 'email', 'meeting'), subject: word, durationMinutes: fc.integer({ min: 0, max: 600 }), occurredAt: instant, participants: fc.constantFrom([], [{ name: 'Ada', address: 'ada@x.org' }]), erp, old: erp.map((ids) => ids.slice(0, 1)) });
  }
}

async function crmWithFields(): Promise<Crm> {
  const { crm } = await createTestCrm();
  for (const entity of ['contact', 'company', 'lead', 'deal'] as const) {
    await crm.customFields.define({ entity, key: 'note', label: 'Note', type: 'text' });
    await crm.customFields.define({ entity, key: 'seats', label: 'Seats', type: 'number' });
    await crm.customFields.define({ entity, key: 'vip', label: 'VIP', type: 'boolean' });
    await crm.customFields.define({ entity, key: 'since', label: 'Since', type: 'date' });
    await crm.customFields.define({ entity, key: 'tier', label: 'Tier', type: 'select', options: OPTIONS });
    await crm.customFields.define({ entity, key: 'topics', label: 'Topics', type: 'multiselect', options: OPTIONS });
    await crm.customFields.define({ entity, key: 'budget', label: 'Budget', type: 'money' });
  }
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New', probability: 10 }] });
  return crm;
}

/** Creates the records; each gets `shop` ref i (the import's key) and its own e-mail/domain. */
async function seed(crm: Crm, entity: Entity, records: readonly Record<string, unknown>[]): Promise<void> {
  for (const [i, { erp, old, ...r }] of records.entries()) {
    const ids = (system: string, list: unknown) => ((list as string[] | undefined) ?? []).map((id) => ({ system, id: `${i}${id}` }));
    const externalRefs = [{ system: 'shop', id: `S${i}` }, ...ids('erp', erp), ...ids('old', old)];
    const extra = entity === 'contact' ? { email: `p${i}@x.org` } : entity === 'company' ? { domain: `c${i}.example` } : {};
    const service = crm[SERVICE[entity]] as unknown as { create?(i: object): Promise<unknown>; log?(i: object): Promise<unknown> };
    await (service.create ?? service.log)!.call(service, { ...r, ...extra, externalRefs });
  }
}

async function stored(crm: Crm, entity: Entity): Promise<Record<string, unknown>[]> {
  const service = crm[SERVICE[entity]] as unknown as { list(o: object): Promise<{ items: Record<string, unknown>[] }> };
  // In the order of their shop ids: an export lists activities newest first, the import creates them in that order.
  const shop = (r: Record<string, unknown>) => (r.externalRefs as { system: string; id: string }[]).find((ref) => ref.system === 'shop')!.id;
  return (await service.list({ limit: 100 })).items.sort((a, b) => shop(a).localeCompare(shop(b)));
}

function get(record: Record<string, unknown>, path: string): unknown {
  if (path.startsWith('externalRefs.')) {
    const ids = (record.externalRefs as { system: string; id: string }[]).filter((r) => r.system === path.slice(13)).map((r) => r.id);
    return ids.length ? ids.sort() : undefined;
  }
  return path.split('.').reduce<unknown>((node, key) => (node as Record<string, unknown> | undefined)?.[key], record);
}

/** A mapping of every field, each with one of the `as` its kind takes (`picks[i]` chooses). */
function mappingOf(entity: Entity, picks: readonly number[]): ImportMapping {
  const mapping: Record<string, ColumnSpec> = { 'externalRefs.shop': { column: 'Shop' } };
  Object.entries(FIELDS[entity]).forEach(([field, kind], i) => {
    const choices = AS[kind];
    const as = choices[picks[i]! % choices.length] as ColumnSpec['as'];
    mapping[field] = { column: `Col ${field}`, ...(as ? { as } : {}), ...(as === 'money' ? { currencyColumn: `Cur ${field}` } : {}) };
  });
  return mapping;
}

const LOCALES = ['en-US', 'de-DE', 'fr-FR', 'de-CH', 'th-TH', 'ar-EG', 'hi-IN'];

describe('an export with a mapping imports back with the same mapping: every entity, every field kind, with and without `as` (property)', () => {
  for (const entity of ['contact', 'company', 'lead', 'deal', 'activity'] as const) {
    it(entity, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(valuesOf(entity), { minLength: 1, maxLength: 3 }),
          fc.array(fc.nat(), { minLength: Object.keys(FIELDS[entity]).length, maxLength: Object.keys(FIELDS[entity]).length }),
          fc.constantFrom(...LOCALES),
          fc.constantFrom('csv' as const, 'json' as const),
          async (records, picks, locale, format) => {
            const crm = await crmWithFields();
            await seed(crm, entity, records);
            const mapping = mappingOf(entity, picks);
            const out = await text(crm.export.run({ entity, mapping, locale, format }));
            const source = format === 'csv' ? { csv: csvSource(out) } : { rows: JSON.parse(out) as Record<string, unknown>[] };
            const before = await stored(crm, entity);
            const fields = Object.keys(FIELDS[entity]);
            if (entity !== 'activity') {
              // The same crm: every row finds its record by the shop id and changes nothing.
              const report = await crm.import.run({ entity, mode: 'upsert', key: 'externalRef:shop', mapping, locale, ...source });
              expect(report.rows.map((r) => [r.outcome, r.reason ?? r.issues]), out).toEqual(before.map(() => ['skipped', 'unchanged']));
              expect(await stored(crm, entity)).toEqual(before);
            }
            // A fresh crm: the records the import creates hold the same values in every mapped field.
            const copy = await crmWithFields();
            const created = await copy.import.run({ entity, mapping, locale, ...(format === 'csv' ? { csv: csvSource(out) } : { rows: JSON.parse(out) as Record<string, unknown>[] }) });
            expect(created.rows.map((r) => [r.outcome, r.issues]), out).toEqual(before.map(() => ['created', undefined]));
            const after = await stored(copy, entity);
            for (const field of fields) expect(after.map((r) => get(r, field)), `${field}\n${out}`).toEqual(before.map((r) => get(r, field)));
          },
        ),
        { numRuns: 20 },
      );
    }, 120_000);
  }
});

describe('an `as` the import would not read back is refused, naming the column', () => {
  it("as: 'integer' of a fraction, as: 'text' of several ids: VALIDATION at mapping.<field>.as, nothing more written", async () => {
    const crm = await crmWithFields();
    await crm.contacts.create({ name: 'A', custom: { seats: 3 }, externalRefs: [{ system: 'erp', id: '1' }] });
    await crm.contacts.create({ name: 'B', custom: { seats: 2.5 }, externalRefs: [{ system: 'erp', id: '2' }, { system: 'erp', id: '3' }] });
    for (const [field, spec] of [['custom.seats', { column: 'Seats', as: 'integer' }], ['externalRefs.erp', { column: 'ERP', as: 'text' }]] as const) {
      const error = await text(() => crm.export.run({ entity: 'contact', mapping: { name: 'N', [field]: spec }, orderBy: [{ field: 'name' }] })).then(() => undefined, (e: unknown) => e);
      expect(error, field).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', field, 'as'], code: 'invalid_value', message: expect.stringContaining(`column "${spec.column}"`) }] } });
    }
    // Without `as` (or with the kind's own) both read back.
    const mapping = { name: 'N', 'custom.seats': 'Seats', 'externalRefs.erp': { column: 'ERP', as: 'list' as const } };
    const csv = await text(crm.export.run({ entity: 'contact', mapping, orderBy: [{ field: 'name' }] }));
    expect(csv).toBe('"N","Seats","ERP"\r\n"A","3","1"\r\n"B","2.5","2,3"\r\n');
    // JSON keeps numbers typed where the mapping gives no notation; an `as` writes the locale's.
    const json = JSON.parse(await text(crm.export.run({ entity: 'contact', format: 'json', locale: 'de-DE', mapping: { name: 'N', 'custom.seats': 'Seats' }, orderBy: [{ field: 'name' }] }))) as unknown[];
    expect(json).toEqual([{ N: 'A', Seats: 3 }, { N: 'B', Seats: 2.5 }]);
    const asNumber = JSON.parse(await text(crm.export.run({ entity: 'contact', format: 'json', locale: 'de-DE', mapping: { name: 'N', 'custom.seats': { column: 'Seats', as: 'number' } }, orderBy: [{ field: 'name' }] }))) as unknown[];
    expect(asNumber).toEqual([{ N: 'A', Seats: '3' }, { N: 'B', Seats: '2,5' }]);
  });

  it("as: 'date' and 'datetime' fit dates and instants apart: an instant as a date (its time lost) or a date as an instant is refused up front", async () => {
    const crm = await crmWithFields();
    const refused = (entity: 'contact' | 'deal' | 'activity', field: string, as: 'date' | 'datetime') => text(() => crm.export.run({ entity, mapping: { [field]: { column: 'X', as } } })).then(() => undefined, (e: unknown) => e);
    for (const [entity, field, as] of [['activity', 'occurredAt', 'date'], ['contact', 'custom.since', 'datetime'], ['deal', 'expectedCloseDate', 'datetime']] as const) {
      expect(await refused(entity, field, as), `${field} as ${as}`).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', field, 'as'], code: 'invalid_value' }] } });
    }
    // Years 0000-0999 are dates too: written with four digits, read back.
    await crm.contacts.create({ name: 'Old', custom: { since: '0999-05-01' } });
    const mapping = { name: 'N', 'custom.since': { column: 'S', as: 'date' as const } };
    for (const locale of ['en-US', 'de-DE', 'th-TH']) {
      const csv = await text(crm.export.run({ entity: 'contact', mapping, locale }));
      const { crm: copy } = await createTestCrm();
      await copy.customFields.define({ entity: 'contact', key: 'since', label: 'Since', type: 'date' });
      const report = await copy.import.run({ entity: 'contact', mapping, locale, csv: csvSource(csv) });
      expect(report.rows.map((r) => [r.outcome, r.issues]), `${locale}\n${csv}`).toEqual([['created', undefined]]);
      expect((await copy.contacts.list()).items[0]?.custom).toEqual({ since: '0999-05-01' });
    }
  });
});

// Review 16i #1: without a mapping the CSV wrote numbers in JS notation (`1.234`) whatever the locale, and an import
// in a decimal-comma locale read them as 1234 (or failed the row). Both directions now use the locale.
const PLAIN_LOCALES = [...LOCALES, 'fr-FR', 'fr-CH', 'es-ES', 'pt-BR', 'ru-RU', 'nb-NO', 'fa-IR'];

describe('an export without a mapping imports back without one: every entity, every field kind, CSV and JSON, many locales (property)', () => {
  for (const entity of ['contact', 'company', 'lead', 'deal', 'activity'] as const) {
    it(entity, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(valuesOf(entity), { minLength: 1, maxLength: 3 }), fc.constantFrom(...PLAIN_LOCALES), fc.constantFrom(',' as const, ';' as const), fc.constantFrom('csv' as const, 'json' as const), async (records, locale, separator, format) => {
          const crm = await crmWithFields();
          await seed(crm, entity, records);
          const out = await text(crm.export.run({ entity, locale, separator, format }));
          const source = () => (format === 'csv' ? { csv: csvSource(out, { delimiter: separator }) } : { rows: JSON.parse(out) as Record<string, unknown>[] });
          const before = await stored(crm, entity);
          if (entity !== 'activity') {
            const report = await crm.import.run({ entity, mode: 'upsert', key: 'externalRef:shop', locale, ...source() });
            expect(report.rows.map((r) => [r.outcome, r.reason ?? r.issues]), out).toEqual(before.map(() => ['skipped', 'unchanged']));
            expect(await stored(crm, entity)).toEqual(before);
          }
          const copy = await crmWithFields();
          const created = await copy.import.run({ entity, locale, ...source() });
          expect(created.rows.map((r) => [r.outcome, r.issues]), out).toEqual(before.map(() => ['created', undefined]));
          const after = await stored(copy, entity);
          for (const field of Object.keys(FIELDS[entity])) expect(after.map((r) => get(r, field)), `${field}\n${out}`).toEqual(before.map((r) => get(r, field)));
        }),
        { numRuns: 15 },
      );
    }, 120_000);
  }

  it('writes a fraction in the locale: 1.234 is "1,234" in de-DE and reads back as 1.234, not 1234', async () => {
    const crm = await crmWithFields();
    const a = await crm.contacts.create({ name: 'Ada', custom: { seats: 1.234 }, externalRefs: [{ system: 'shop', id: '1' }] });
    const out = await text(crm.export.run({ entity: 'contact', locale: 'de-DE', separator: ';' }));
    expect(out).toContain('"1,234"');
    const report = await crm.import.run({ entity: 'contact', mode: 'upsert', key: 'externalRef:shop', locale: 'de-DE', csv: csvSource(out, { delimiter: ";" }) });
    expect(report.rows.map((r) => r.outcome)).toEqual(['skipped']);
    expect((await crm.contacts.get(a.id)).custom).toMatchObject({ seats: 1.234 });
  });
});
