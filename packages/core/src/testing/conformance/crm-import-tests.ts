import { describe, expect, it } from 'vitest';
import { csvSource } from '../../csv/csv-source.js';
import { isCrmError } from '../../errors/crm-error.js';
import { where } from '../../query/query-spec.js';
import type { StorageAdapter, StorageTx } from '../../storage/storage-adapter.js';
import type { CrmSubject } from './crm-harness.js';

const contactsCsv = [
  'Name;E-Mail;Umsatz;Seit',
  'Ada Lovelace;ada@example.com;1.234,5;22.11.2033',
  '"King, Ada";ada2@example.com;7;01.02.2030',
  'Grace Hopper;not-an-email;3;01.01.2030',
].join('\r\n');

async function contactNames(s: CrmSubject): Promise<string[]> {
  const page = await s.crm.contacts.list({ limit: 1000 });
  return page.items.map((c) => c.name).sort();
}

/** Wraps a storage so that the nth write call (1-based) of the tenant fails: a crash mid-chunk. */
function failingWrites(storage: StorageAdapter, failAt: number): { storage: StorageAdapter } {
  let writes = 0;
  const wrap = (tx: StorageTx): StorageTx =>
    new Proxy(tx, {
      get(target, prop, receiver) {
        if (prop === 'write') {
          return async (...args: Parameters<StorageTx['write']>) => {
            if (args[0] === 'contact' && ++writes === failAt) throw new Error('injected failure');
            return target.write(...args);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  const proxy = new Proxy(storage, {
    get(target, prop, receiver) {
      if (prop === 'transaction') return (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(wrap(tx)));
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { storage: proxy };
}

/** `crm.import` and `crm.export` on this adapter: mapping, modes, per-row reports, dry runs, chunks and resume. */
export function crmImportTests(open: () => Promise<CrmSubject>): void {
  describe('import and export', () => {
    it('imports a German CSV with a mapping: localised numbers and dates, a per-row report with the API\'s issues', async () => {
      const s = await open();
      await s.crm.customFields.define({ entity: 'contact', key: 'revenue', label: 'Revenue', type: 'number' });
      await s.crm.customFields.define({ entity: 'contact', key: 'since', label: 'Since', type: 'date' });
      const report = await s.crm.import.run({
        entity: 'contact',
        csv: csvSource(new TextEncoder().encode(`\uFEFF${contactsCsv}`)),
        locale: 'de-DE',
        mapping: { name: 'Name', email: 'E-Mail', 'custom.revenue': { column: 'Umsatz', as: 'number' }, 'custom.since': { column: 'Seit', as: 'date' } },
      });
      expect(report.counts).toEqual({ created: 2, updated: 0, skipped: 0, failed: 1 });
      expect(report.rows.map((r) => [r.row, r.outcome])).toEqual([[1, 'created'], [2, 'created'], [3, 'failed']]);
      expect(report.rows[2]).toMatchObject({ error: 'VALIDATION', issues: [{ path: ['email'] }] });
      const ada = await s.crm.contacts.get(report.rows[0]!.id!);
      expect(ada).toMatchObject({ name: 'Ada Lovelace', email: 'ada@example.com', custom: { revenue: 1234.5, since: '2033-11-22' } });
      const job = await s.crm.import.job(report.jobId!);
      expect(job).toMatchObject({ status: 'completed', rowsDone: 3, counts: { created: 2, failed: 1 } });
    });

    it('refuses a mapped field the entity does not have before reading a row: a typo, a custom field nobody defined; no job is written', async () => {
      const s = await open();
      await s.crm.customFields.define({ entity: 'contact', key: 'revenue', label: 'Revenue', type: 'number' });
      const before = await s.dump();
      const run = (mapping: Record<string, string | { column: string; as: 'number' }>) => s.crm.import.run({ entity: 'contact', rows: [{ n: 'Ada', r: '1' }], mapping });
      await expect(run({ name: 'n', nmae: 'n' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'nmae'], code: 'unknown_field' }] } });
      await expect(run({ name: 'n', 'adress.city': 'r' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'adress.city'], code: 'unknown_field' }] } });
      await expect(run({ name: 'n', 'custom.revenu': 'r' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'custom.revenu'], code: 'unknown_field' }] } });
      // A deal's own fields are not a contact's, and the other way round.
      await expect(run({ name: 'n', title: 'n' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'title'] }] } });
      expect(await s.dump()).toBe(before);
      const ok = await run({ name: 'n', 'custom.revenue': { column: 'r', as: 'number' }, 'externalRefs.shop': 'r' });
      expect(ok.rows).toEqual([{ row: 1, outcome: 'created', id: expect.any(String) }]);
    });

    it('a dry run gives the same report and writes nothing', async () => {
      const s = await open();
      const options = { entity: 'contact' as const, rows: [{ n: 'A', e: 'a@example.com' }, { n: '', e: 'b@example.com' }], mapping: { name: 'n', email: 'e' } };
      const before = await s.dump();
      const dry = await s.crm.import.run({ ...options, dryRun: true });
      expect(await s.dump()).toBe(before);
      expect(dry.jobId).toBeUndefined();
      const real = await s.crm.import.run(options);
      expect(dry.rows.map(({ id: _id, ...r }) => r)).toEqual(real.rows.map(({ id: _id, ...r }) => r));
      expect(real.counts).toEqual({ created: 1, updated: 0, skipped: 0, failed: 1 });
    });

    it('upsert by e-mail updates, creates, and fails a key repeated within the file', async () => {
      const s = await open();
      const ada = await s.crm.contacts.create({ name: 'Ada', email: 'ada@example.com' });
      const report = await s.crm.import.run({
        entity: 'contact',
        mode: 'upsert',
        key: 'email',
        rows: [
          { name: 'Ada Lovelace', email: 'ada@example.com' },
          { name: 'Grace', email: 'grace@example.com' },
          { name: 'Grace again', email: 'grace@example.com' },
        ],
      });
      expect(report.rows.map((r) => r.outcome)).toEqual(['updated', 'created', 'failed']);
      expect(report.rows[0]!.id).toBe(ada.id);
      expect(report.rows[2]!.issues![0]).toMatchObject({ path: ['email'], code: 'duplicate_key' });
      expect((await s.crm.contacts.get(ada.id)).name).toBe('Ada Lovelace');
      expect(await contactNames(s)).toEqual(['Ada Lovelace', 'Grace']);
      // The same rows again change nothing: reported unchanged, no new version (judged by version, not object identity).
      const before = await s.crm.contacts.get(ada.id);
      const again = await s.crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', rows: [{ name: 'Ada Lovelace', email: 'ada@example.com' }] });
      expect(again.rows[0]).toMatchObject({ outcome: 'skipped', reason: 'unchanged', id: ada.id });
      expect((await s.crm.contacts.get(ada.id)).version).toBe(before.version);
    });

    it('a row that fails still holds its key: a later row with it is a duplicate, not a record of its own', async () => {
      const s = await open();
      const report = await s.crm.import.run({
        entity: 'contact',
        mode: 'upsert',
        key: 'email',
        rows: [{ name: '', email: 'ada@example.com' }, { name: 'Grace', email: 'grace@example.com' }, { name: 'Ada', email: 'ADA@example.com' }],
      });
      expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['failed', expect.any(String)], ['created', undefined], ['failed', 'duplicate_key']]);
      expect(report.rows[2]!.issues![0]!.message).toContain('row 1');
      expect(await contactNames(s)).toEqual(['Grace']);
    });

    it('e-mail keys compare without case: stored records, rows of one file, ambiguity, create mode', async () => {
      const s = await open();
      const ada = await s.crm.contacts.create({ name: 'Ada', email: 'Ada.Lovelace@Example.com' });
      const report = await s.crm.import.run({
        entity: 'contact',
        mode: 'upsert',
        key: 'email',
        rows: [
          { name: 'Ada Lovelace', email: 'ada.lovelace@example.com' },
          { name: 'Grace', email: 'dup@example.com' },
          { name: 'Grace again', email: 'DUP@Example.com' },
        ],
      });
      expect(report.rows.map((r) => r.outcome)).toEqual(['updated', 'created', 'failed']);
      expect(report.rows[0]!.id).toBe(ada.id);
      expect(report.rows[2]!.issues![0]).toMatchObject({ path: ['email'], code: 'duplicate_key' });
      expect(await contactNames(s)).toEqual(['Ada Lovelace', 'Grace']);
      const update = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'email', rows: [{ name: 'Grace Hopper', email: 'Dup@EXAMPLE.com' }] });
      expect(update.rows[0]).toMatchObject({ outcome: 'updated', id: report.rows[1]!.id });
      const create = await s.crm.import.run({ entity: 'contact', key: 'email', rows: [{ name: 'Ada twin', email: 'ADA.LOVELACE@example.COM' }] });
      expect(create.rows[0]).toMatchObject({ outcome: 'failed', issues: [{ code: 'already_exists' }] });
      await s.crm.contacts.create({ name: 'Grace twin', email: 'dup@example.com' });
      const twins = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'email', rows: [{ name: 'Who', email: 'dup@example.com' }] });
      expect(twins.rows[0]!.issues![0]).toMatchObject({ code: 'ambiguous_key' });
      expect(await contactNames(s)).toEqual(['Ada Lovelace', 'Grace Hopper', 'Grace twin']);
    });

    it('e-mail keys compare in Unicode NFC: an NFD spelling (macOS files) finds the NFC record and repeats it in the file (review16j #1)', async () => {
      const s = await open();
      const zoe = await s.crm.contacts.create({ name: 'Zoë', email: 'zo\u00eb@example.com' });
      const nfd = 'Zoe\u0308@Example.com';
      const report = await s.crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', rows: [{ name: 'Zoë L', email: nfd }, { name: 'Zoë again', email: 'zo\u00eb@example.com' }] });
      expect(report.rows.map((r) => [r.outcome, r.id ?? r.issues?.[0]?.code])).toEqual([['updated', zoe.id], ['failed', 'duplicate_key']]);
      expect((await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'email', rows: [{ name: 'Zoë', email: nfd }] })).rows[0]).toMatchObject({ outcome: 'updated', id: zoe.id });
      expect(await contactNames(s)).toEqual(['Zoë']);
    });

    it('upsert keyed by an external ref: the shop\'s customer number finds the record, its other refs stay', async () => {
      const s = await open();
      const ada = await s.crm.contacts.create({ name: 'Ada', externalRefs: [{ system: 'shop', id: '10042' }, { system: 'erp', id: 'K-1' }] });
      const options = { entity: 'contact' as const, mode: 'upsert' as const, key: 'externalRef:shop', mapping: { name: 'Name', 'externalRefs.shop': 'Kundennr' } };
      const first = await s.crm.import.run({ ...options, rows: [{ Name: 'Ada Lovelace', Kundennr: '10042' }, { Name: 'Grace', Kundennr: '10043' }] });
      expect(first.rows.map((r) => r.outcome)).toEqual(['updated', 'created']);
      const updated = await s.crm.contacts.get(ada.id);
      expect(updated.name).toBe('Ada Lovelace');
      expect(updated.externalRefs).toEqual([{ system: 'shop', id: '10042' }, { system: 'erp', id: 'K-1' }]);
      // Idempotent on re-run: the same file changes nothing.
      const again = await s.crm.import.run({ ...options, rows: [{ Name: 'Ada Lovelace', Kundennr: '10042' }, { Name: 'Grace', Kundennr: '10043' }] });
      expect(again.rows.map((r) => r.outcome)).toEqual(['skipped', 'skipped']);
      expect((await s.crm.contacts.getByExternalRef('shop', '10043')).name).toBe('Grace');
    });

    it('a row whose external ref is taken (by a stored record or an earlier row) fails alone; the dry run agrees', async () => {
      const s = await open();
      const holder = await s.crm.contacts.create({ name: 'Holder', externalRefs: [{ system: 'shop', id: '2' }] });
      const rows = [{ name: 'C1', ref: '1' }, { name: 'C2', ref: '2' }, { name: 'C3', ref: '3' }, { name: 'C4', ref: '1' }, { name: 'C5', ref: '5' }];
      const options = { entity: 'contact' as const, rows, mapping: { name: 'name', 'externalRefs.shop': 'ref' } };
      const dry = await s.crm.import.run({ ...options, dryRun: true });
      const real = await s.crm.import.run(options);
      const outcomes = [['created', undefined], ['failed', 'CONFLICT'], ['created', undefined], ['failed', 'CONFLICT'], ['created', undefined]];
      expect(dry.rows.map((r) => [r.outcome, r.error])).toEqual(outcomes);
      expect(real.rows.map((r) => [r.outcome, r.error])).toEqual(outcomes);
      expect(real.counts).toEqual({ created: 3, updated: 0, skipped: 0, failed: 2 });
      expect(await contactNames(s)).toEqual(['C1', 'C3', 'C5', 'Holder']);
      expect((await s.crm.contacts.getByExternalRef('shop', '1')).name).toBe('C1');
      expect((await s.crm.contacts.get(holder.id)).version).toBe(holder.version);
    });

    it('an update adds the row\'s external refs to the record\'s, keeping (never replacing) the others', async () => {
      const s = await open();
      const ada = await s.crm.contacts.create({ name: 'Ada', email: 'ada@example.com', externalRefs: [{ system: 'shop', id: '1' }, { system: 'erp', id: 'K-1' }] });
      // Keyed by e-mail, mapping only the shop id: a new shop id joins the refs, none is dropped.
      const byEmail = await s.crm.import.run({ entity: 'contact', mode: 'upsert', key: 'email', rows: [{ email: 'ada@example.com', name: 'Ada', shop: '2' }], mapping: { email: 'email', name: 'name', 'externalRefs.shop': 'shop' } });
      expect(byEmail.rows.map((r) => r.outcome)).toEqual(['updated']);
      expect((await s.crm.contacts.get(ada.id)).externalRefs).toEqual([{ system: 'shop', id: '1' }, { system: 'erp', id: 'K-1' }, { system: 'shop', id: '2' }]);
      // Keyed by the shop ref, mapping a new crm system too: it is added.
      const byRef = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', rows: [{ shop: '2', crm: 'Z-9' }], mapping: { 'externalRefs.shop': 'shop', 'externalRefs.crm': 'crm' } });
      expect(byRef.rows.map((r) => r.outcome)).toEqual(['updated']);
      expect((await s.crm.contacts.get(ada.id)).externalRefs).toEqual([{ system: 'shop', id: '1' }, { system: 'erp', id: 'K-1' }, { system: 'shop', id: '2' }, { system: 'crm', id: 'Z-9' }]);
      // The same file again changes nothing.
      const again = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', rows: [{ shop: '2', crm: 'Z-9' }], mapping: { 'externalRefs.shop': 'shop', 'externalRefs.crm': 'crm' } });
      expect(again.rows.map((r) => [r.outcome, r.reason])).toEqual([['skipped', 'unchanged']]);
    });

    it('an update or upsert by a key several records share fails that row as ambiguous, writing nothing', async () => {
      const s = await open();
      const a = await s.crm.companies.create({ name: 'Acme' });
      const b = await s.crm.companies.create({ name: 'Acme' });
      for (const mode of ['update', 'upsert'] as const) {
        const report = await s.crm.import.run({ entity: 'company', mode, key: 'name', rows: [{ name: 'Acme', website: 'https://acme.example' }] });
        expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['failed', 'ambiguous_key']]);
      }
      expect([(await s.crm.companies.get(a.id)).version, (await s.crm.companies.get(b.id)).version]).toEqual([a.version, b.version]);
      expect((await s.crm.companies.list()).items).toHaveLength(2);
    });

    it('update mode fails rows without a match; create mode with a key fails existing ones', async () => {
      const s = await open();
      await s.crm.companies.create({ name: 'Acme', domain: 'acme.com' });
      const update = await s.crm.import.run({ entity: 'company', mode: 'update', key: 'domain', rows: [{ domain: 'acme.com', industry: 'Tools' }, { domain: 'nope.com', industry: 'X' }] });
      expect(update.rows.map((r) => [r.outcome, r.error])).toEqual([['updated', undefined], ['failed', 'NOT_FOUND']]);
      const create = await s.crm.import.run({ entity: 'company', key: 'domain', rows: [{ name: 'Acme 2', domain: 'acme.com' }] });
      expect(create.rows[0]).toMatchObject({ outcome: 'failed', issues: [{ code: 'already_exists' }] });
    });

    it('refuses a mapping without a required field or a column the file lacks, writing nothing', async () => {
      const s = await open();
      const before = await s.dump();
      const noName = s.crm.import.run({ entity: 'contact', rows: [{ e: 'a@example.com' }], mapping: { email: 'e' } });
      await expect(noName).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'name'], code: 'unmapped_required' }] } });
      const missing = s.crm.import.run({ entity: 'contact', csv: csvSource('Name\nAda\n'), mapping: { name: 'Name', email: 'Mail' } });
      await expect(missing).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['csv', 'Mail'], code: 'missing_column' }] } });
      expect(await s.dump()).toBe(before);
    });

    it('malformed CSV fails rows (ragged, stray quote); wrong encodings fail the run', async () => {
      const s = await open();
      const report = await s.crm.import.run({ entity: 'contact', csv: csvSource('name,email\nAda,ada@example.com\nBob\nCy,"cy@example.com\n'), chunkSize: 1 });
      expect(report.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['created', undefined], ['failed', 'ragged_row'], ['failed', 'unbalanced_quote']]);
      const latin1 = new Uint8Array([...new TextEncoder().encode('name\n'), 0x4a, 0xfc, 0x72, 0x67, 0x65, 0x6e, 0x0a]);
      await expect(s.crm.import.run({ entity: 'contact', csv: csvSource(latin1) })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'invalid_encoding' }] } });
      const ok = await s.crm.import.run({ entity: 'contact', csv: csvSource(latin1, { encoding: 'windows-1252' }) });
      expect((await s.crm.contacts.get(ok.rows[0]!.id!)).name).toBe('Jürgen');
    });

    it('a quote never closed mid-file fails the run naming its row and line (no rows vanish); a line of spaces is skipped like an empty line', async () => {
      const s = await open();
      const before = await s.dump();
      for (const eol of ['\n', '\r\n']) {
        const file = ['name,email', 'Ada,ada@example.com', '"Bob,bob@example.com', 'Cy,cy@example.com', 'Dan,dan@example.com', ''].join(eol);
        for (const dryRun of [true, false]) {
          const error = await s.crm.import.run({ entity: 'contact', csv: csvSource(file), dryRun }).catch((e: unknown) => e);
          expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['csv'], code: 'unbalanced_quote' }] } });
          expect((error as { details: { issues: { message: string }[] } }).details.issues[0]!.message).toMatch(/^row 2 \(line 3\) opens a quote that is never closed: the 2 lines after it/);
        }
      }
      expect(await s.dump()).toBe(before);
      const spaces = await s.crm.import.run({ entity: 'contact', csv: csvSource('name,email\nAda,ada@example.com\n   \n \t \nBob,bob@example.com\n,\n') });
      expect(spaces.rows.map((r) => [r.row, r.outcome])).toEqual([[1, 'created'], [2, 'created']]);
      expect(spaces.counts).toEqual({ created: 2, updated: 0, skipped: 0, failed: 0 });
    });

    it('a failure injected mid-chunk leaves that chunk unwritten; resume continues after the last committed chunk', async () => {
      const s = await open();
      const rows = Array.from({ length: 10 }, (_, i) => ({ name: `P${i}`, email: `p${i}@example.com` }));
      // Contact writes are one per row: the 7th is in the second chunk of 4 (rows 5–8).
      const { storage } = failingWrites(s.storage, 7);
      const { createCrm } = await import('../../crm/create-crm.js');
      const { imports } = await import('../../imports/imports-feature.js');
      const flaky = await createCrm({ storage, tenantId: s.crm.tenantId, clock: s.clock, closeStorage: false, features: [imports()] });
      let jobId: string | undefined;
      await expect(flaky.import.run({ entity: 'contact', mode: 'upsert', key: 'email', rows, chunkSize: 4, onProgress: (p) => (jobId = p.jobId) })).rejects.toThrow('injected failure');
      await flaky.close();
      expect(await contactNames(s)).toEqual(['P0', 'P1', 'P2', 'P3']);
      expect(await s.crm.import.job(jobId!)).toMatchObject({ status: 'failed', rowsDone: 4, chunksDone: 1 });
      const resumed = await s.crm.import.resume(jobId!, { entity: 'contact', mode: 'upsert', key: 'email', rows, chunkSize: 4 });
      expect(resumed).toMatchObject({ resumedFrom: 4, rowsDone: 10, counts: { created: 6, failed: 0 } });
      expect(await contactNames(s)).toEqual(rows.map((r) => r.name).sort());
      expect(await s.crm.import.job(jobId!)).toMatchObject({ status: 'completed', counts: { created: 10 } });
    });

    it('a crash after chunk k resumes at k+1 without duplicates (create mode)', async () => {
      const s = await open();
      const rows = Array.from({ length: 9 }, (_, i) => ({ name: `Q${i}` }));
      let jobId: string | undefined;
      const crash = s.crm.import.run({ entity: 'contact', rows, chunkSize: 3, onChunk: (_r, p) => {
        jobId = p.jobId;
        if (p.chunks === 2) throw new Error('process died');
      } });
      await expect(crash).rejects.toThrow('process died');
      expect((await contactNames(s)).length).toBe(6);
      const resumed = await s.crm.import.resume(jobId!, { entity: 'contact', rows, chunkSize: 3 });
      expect(resumed.rows.map((r) => r.row)).toEqual([7, 8, 9]);
      expect(await contactNames(s)).toEqual(rows.map((r) => r.name).sort());
      await expect(s.crm.import.resume(jobId!, { entity: 'contact', rows, chunkSize: 3 })).rejects.toMatchObject({ code: 'VALIDATION' });
    });

    it('deals with line items and money in a locale; activities', async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
      const report = await s.crm.import.run({
        entity: 'deal',
        locale: 'de-DE',
        rows: [{ Titel: 'Stühle', Betrag: '1.299,00' }, { Titel: 'Tische', Pos: JSON.stringify([{ name: 'Tisch', quantity: 2, unitPrice: 50000 }]) }],
        mapping: {
          title: 'Titel',
          value: { column: 'Betrag', as: 'money', currency: 'EUR' },
          lineItems: { column: 'Pos', transform: (v) => JSON.parse(v) as unknown },
          currency: { value: 'EUR' },
        },
      });
      expect(report.counts.created).toBe(2);
      expect((await s.crm.deals.get(report.rows[0]!.id!)).value).toEqual({ amount: 129900, currency: 'EUR' });
      expect((await s.crm.deals.get(report.rows[1]!.id!)).value).toEqual({ amount: 100000, currency: 'EUR' });
      const activities = await s.crm.import.run({ entity: 'activity', rows: [{ kind: 'call', dealId: report.rows[0]!.id }, { kind: 'bogus' }] });
      expect(activities.rows.map((r) => r.outcome)).toEqual(['created', 'failed']);
    });

    it('duplicates: the finder\'s matches are skipped or flagged', async () => {
      const s = await open();
      const ada = await s.crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@example.com' });
      const skip = await s.crm.import.run({ entity: 'contact', rows: [{ name: 'Ada Lovelace', email: 'ada@example.com' }], duplicates: { action: 'skip' } });
      expect(skip.rows[0]).toMatchObject({ outcome: 'skipped', reason: 'duplicate', id: ada.id });
      const flag = await s.crm.import.run({ entity: 'contact', rows: [{ name: 'Ada Lovelace', email: 'ada@example.com' }], duplicates: { action: 'flag' } });
      expect(flag.rows[0]).toMatchObject({ outcome: 'created', duplicateOf: [ada.id] });
    });

    it('duplicates: a row like an earlier row of the same file (same chunk or an earlier one) is skipped, flagged or updated; the dry run agrees within a chunk', async () => {
      const s = await open();
      const rows = [{ name: 'Grace Hopper', email: 'grace@example.com' }, { name: 'Alan Turing', email: 'alan@example.com' }, { name: 'Grace Hopper', email: 'grace@example.com', jobTitle: 'Admiral' }];
      for (const chunkSize of [500, 1]) {
        // A dry run rolls each chunk back: it sees earlier rows of its chunk only (documented).
        for (const dryRun of chunkSize === 1 ? [false] : [true, false]) {
          const run = await s.crm.import.run({ entity: 'contact', rows, duplicates: { action: 'flag' }, chunkSize, dryRun });
          expect(run.rows.map((r) => r.outcome), `flag chunkSize ${chunkSize} dryRun ${dryRun}`).toEqual(['created', 'created', 'created']);
          expect(run.rows[2]!.duplicateOf).toEqual([run.rows[0]!.id]);
          expect(run.rows[1]!.duplicateOf).toBeUndefined();
        }
        const flagged = await s.crm.contacts.list({ limit: 100 });
        for (const c of flagged.items) await s.crm.contacts.remove(c.id);
        const skip = await s.crm.import.run({ entity: 'contact', rows, duplicates: { action: 'skip' }, chunkSize });
        expect(skip.rows.map((r) => r.outcome)).toEqual(['created', 'created', 'skipped']);
        expect(skip.rows[2]).toMatchObject({ reason: 'duplicate', id: skip.rows[0]!.id });
        for (const c of (await s.crm.contacts.list({ limit: 100 })).items) await s.crm.contacts.remove(c.id);
        const update = await s.crm.import.run({ entity: 'contact', rows, duplicates: { action: 'update' }, chunkSize });
        expect(update.rows.map((r) => r.outcome)).toEqual(['created', 'created', 'updated']);
        expect((await s.crm.contacts.get(update.rows[0]!.id!)).jobTitle).toBe('Admiral');
        const all = await s.crm.contacts.list({ limit: 100 });
        expect(all.items).toHaveLength(2);
        for (const c of all.items) await s.crm.contacts.remove(c.id);
      }
    });

    it('a view imports within its scope and exports only what it may read', async () => {
      const s = await open();
      await s.crm.access.setPolicy({ roles: { rep: { grants: { contact: { read: 'own', create: 'own', update: 'own', delete: 'none' } } } } });
      await s.crm.contacts.create({ name: 'Hidden', email: 'hidden@example.com', ownerId: 'boss' });
      const rep = s.crm.as({ userId: 'rita', roles: ['rep'] });
      const report = await rep.import.run({ entity: 'contact', mode: 'upsert', key: 'email', rows: [{ name: 'Mine', email: 'mine@example.com' }, { name: 'Hidden (again)', email: 'hidden@example.com' }] });
      // The hidden contact is not found by the view's lookup: its row creates a new one the rep owns.
      expect(report.rows.map((r) => r.outcome)).toEqual(['created', 'created']);
      let csv = '';
      for await (const chunk of rep.export.run({ entity: 'contact', mapping: { name: 'Name', email: 'E-Mail' } })) csv += chunk;
      expect(csv.split('\r\n').filter(Boolean).sort()).toEqual(['"Hidden (again)","hidden@example.com"', '"Mine","mine@example.com"', '"Name","E-Mail"']);
    });

    it('exports a mapped external ref by system (CSV and JSON), and the file upserts back by it', async () => {
      const s = await open();
      await s.crm.contacts.create({ name: 'Ada', externalRefs: [{ system: 'erp', id: 'K-1' }, { system: 'shop', id: '10042' }] });
      await s.crm.contacts.create({ name: 'Grace' });
      const mapping = { name: 'Name', 'externalRefs.shop': 'ShopId' };
      let csv = '';
      for await (const chunk of s.crm.export.run({ entity: 'contact', mapping, orderBy: [{ field: 'name' }] })) csv += chunk;
      expect(csv.split('\r\n').filter(Boolean)).toEqual(['"Name","ShopId"', '"Ada","10042"', '"Grace",']);
      let json = '';
      for await (const chunk of s.crm.export.run({ entity: 'contact', format: 'json', mapping, orderBy: [{ field: 'name' }] })) json += chunk;
      expect(JSON.parse(json)).toEqual([{ Name: 'Ada', ShopId: '10042' }, { Name: 'Grace', ShopId: null }]);
      const back = await s.crm.import.run({ entity: 'contact', mode: 'update', key: 'externalRef:shop', csv: csvSource(csv.split('\r\n').slice(0, 2).join('\r\n')), mapping });
      expect(back.rows.map((r) => [r.outcome, r.reason])).toEqual([['skipped', 'unchanged']]);
    });

    it('export mirrors import: a filter streamed as CSV imports back to the same records', async () => {
      const s = await open();
      await s.crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@example.com', country: 'GB', phone: '+442071234567', tags: ['vip', 'math'] });
      await s.crm.contacts.create({ name: '=cmd|calc', email: 'x@example.com', country: 'DE' });
      await s.crm.contacts.create({ name: 'Other', email: 'o@example.com', country: 'FR' });
      const mapping = { name: 'Name', email: 'E-Mail', phone: 'Phone', tags: { column: 'Tags', as: 'list' as const, separator: '|' } };
      const stream = s.crm.export.run({ entity: 'contact', where: where.in('country', ['GB', 'DE']), mapping, separator: ';', orderBy: [{ field: 'name' }] }).toReadableStream();
      let csv = '';
      const reader = stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) csv += r.value;
      expect(csv).toContain(`"'=cmd|calc"`);
      const target = await open();
      const back = await target.crm.import.run({ entity: 'contact', csv: csvSource(csv), mapping });
      expect(back.counts.created).toBe(2);
      const got = (await target.crm.contacts.list()).items.map((c) => ({ name: c.name, email: c.email, phone: c.phone, tags: c.tags })).sort((a, b) => a.name.localeCompare(b.name));
      expect(got).toEqual([
        { name: '=cmd|calc', email: 'x@example.com', phone: undefined, tags: [] },
        { name: 'Ada Lovelace', email: 'ada@example.com', phone: '+442071234567', tags: ['vip', 'math'] },
      ]);
      let json = '';
      for await (const chunk of s.crm.export.run({ entity: 'contact', format: 'json', where: where.eq('country', 'FR') })) json += chunk;
      expect((JSON.parse(json) as { name: string }[]).map((c) => c.name)).toEqual(['Other']);
    });

    it('bad options are typed errors', async () => {
      const s = await open();
      for (const bad of [{ entity: 'pipeline', rows: [] }, { entity: 'contact' }, { entity: 'contact', rows: [], mode: 'upsert' }, { entity: 'contact', rows: [], key: 'tags' }, { entity: 'activity', rows: [], mode: 'update', key: 'id' },
        { entity: 'contact', rows: 5 }, { entity: 'contact', rows: { a: 1 } }, { entity: 'contact', rows: 'name' }, { entity: 'contact', csv: 'name\nA' }, { entity: 'contact', stream: 7 }, { entity: 'contact', stream: null },
        { entity: 'contact', rows: [{ name: 'Typo' }], dryRun: 'yes' }, { entity: 'contact', rows: [{ name: 'Typo' }], dryRun: 1 }]) {
        const error = await s.crm.import.run(bad as never).catch((e: unknown) => e);
        expect(isCrmError(error, 'VALIDATION'), JSON.stringify(bad)).toBe(true);
      }
      // A dry run spelled wrong is refused, not run for real.
      expect(await contactNames(s)).toEqual([]);
      // A custom field is mappable but not a key (not unique, not indexed for look-up): refused before any row is read.
      await s.crm.customFields.define({ entity: 'contact', key: 'customerNo', label: 'Customer no.', type: 'text' });
      for (const mode of ['create', 'update', 'upsert'] as const) {
        const custom = s.crm.import.run({ entity: 'contact', mode, key: 'custom.customerNo', rows: [{ name: 'Ada', no: 'K-1' }], mapping: { name: 'name', 'custom.customerNo': 'no' } });
        await expect(custom).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['key'], code: 'invalid_value', message: expect.stringContaining('custom fields are not keys') }] } });
      }
      expect(await contactNames(s)).toEqual([]);
    });
  });
}
