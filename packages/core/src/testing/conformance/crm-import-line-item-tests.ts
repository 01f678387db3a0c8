import { describe, expect, it } from 'vitest';
import { csvSource } from '../../csv/csv-source.js';
import type { ImportRowReport } from '../../imports/import-types.js';
import type { CrmSubject } from './crm-harness.js';

/** A shop's order export: one row per order line, order cells repeated or left empty; CRLF and quotes. */
const ordersCsv = [
  'Order,Customer,SKU,Item,Qty,Price',
  '1001,Ada Lovelace,CH-1,"Chair, oak",4,"1,290.00"',
  '1002,"Grace ""Amazing"" Hopper",TB-1,"Table ""Big""",1,499.00',
  '1002,,CH-1,"Chair, oak",2,129.00',
  '1002,"Grace ""Amazing"" Hopper",LP-1,Lamp,1.5,20.00',
].join('\r\n');

const mapping = {
  title: 'Customer',
  'externalRefs.shop': 'Order',
  'lineItems.productRef': 'SKU',
  'lineItems.name': 'Item',
  'lineItems.quantity': { column: 'Qty', as: 'number' as const },
  'lineItems.unitPrice': { column: 'Price', as: 'money' as const, currency: 'EUR' },
};

type Row = Record<string, string>;
const line = (order: string, customer: string, item: string, qty = '1', price = '10.00'): Row => ({ Order: order, Customer: customer, SKU: '', Item: item, Qty: qty, Price: price });
const outcomes = (rows: readonly ImportRowReport[]) => rows.map((r) => [r.row, r.outcome, r.error]);
const withoutIds = (rows: readonly ImportRowReport[]) => rows.map(({ id: _id, ...r }) => r);

/** `crm.import.run` of deals from order-line rows (`lineItems.<field>` columns) on this adapter. */
export function crmImportLineItemTests(open: () => Promise<CrmSubject>): void {
  describe('import of deals from order-line rows', () => {
    const setup = async () => {
      const s = await open();
      await s.crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
      return s;
    };

    it('groups consecutive rows of one order into one deal with its lines (CSV with CRLF and quotes); the dry run gives the same report', async () => {
      const s = await setup();
      const options = { entity: 'deal' as const, csv: csvSource(ordersCsv), mapping, key: 'externalRef:shop' };
      const before = await s.dump();
      const dry = await s.crm.import.run({ ...options, csv: csvSource(ordersCsv), dryRun: true });
      expect(await s.dump()).toBe(before);
      const report = await s.crm.import.run(options);
      expect(outcomes(report.rows)).toEqual([[1, 'created', undefined], [2, 'created', undefined], [3, 'created', undefined], [4, 'created', undefined]]);
      expect(withoutIds(dry.rows)).toEqual(withoutIds(report.rows));
      expect(new Set(dry.rows.slice(1).map((r) => r.id)).size).toBe(1);
      const [a, b, b2, b3] = report.rows.map((r) => r.id);
      expect([b2, b3]).toEqual([b, b]);
      expect(a).not.toBe(b);
      expect(report.counts).toEqual({ created: 4, updated: 0, skipped: 0, failed: 0 });
      const ada = await s.crm.deals.getByExternalRef('shop', '1001');
      expect(ada).toMatchObject({ id: a, title: 'Ada Lovelace', value: { amount: 516_000, currency: 'EUR' } });
      expect(ada.lineItems).toEqual([{ productRef: 'CH-1', name: 'Chair, oak', quantity: 4, unitPrice: 129_000, total: 516_000 }]);
      const grace = await s.crm.deals.get(b!);
      expect(grace.title).toBe('Grace "Amazing" Hopper');
      expect(grace.lineItems.map((l) => [l.name, l.quantity, l.unitPrice, l.total])).toEqual([['Table "Big"', 1, 49_900, 49_900], ['Chair, oak', 2, 12_900, 25_800], ['Lamp', 1.5, 2_000, 3_000]]);
      expect(grace.value).toEqual({ amount: 78_700, currency: 'EUR' });
      expect((await s.crm.deals.list({ limit: 10 })).items).toHaveLength(2);
    });

    it('a chunk grows to finish its group: a deal is never split across chunks (chunkSize 2), and a group over the limit is refused', async () => {
      const s = await setup();
      const rows = [line('1', 'A', 'a1'), line('2', 'B', 'b1'), line('2', 'B', 'b2'), line('2', 'B', 'b3'), line('3', 'C', 'c1')];
      const chunks: number[][] = [];
      const report = await s.crm.import.run({ entity: 'deal', rows, mapping, key: 'externalRef:shop', chunkSize: 2, onChunk: (r) => void chunks.push(r.map((x) => x.row)) });
      expect(chunks).toEqual([[1, 2, 3, 4], [5]]);
      expect(report.rows.map((r) => r.outcome)).toEqual(['created', 'created', 'created', 'created', 'created']);
      expect((await s.crm.deals.getByExternalRef('shop', '2')).lineItems.map((l) => l.name)).toEqual(['b1', 'b2', 'b3']);
      expect(await s.crm.import.job(report.jobId!)).toMatchObject({ status: 'completed', rowsDone: 5, chunksDone: 2 });
      // A run that stops after its first chunk resumes after that chunk's last group: no deal twice, none split.
      let jobId = '';
      const again = [line('4', 'D', 'd1'), line('4', 'D', 'd2'), line('5', 'E', 'e1'), line('5', 'E', 'e2'), line('5', 'E', 'e3'), line('1', 'A', 'late')];
      const stop = (_r: readonly ImportRowReport[], p: { jobId?: string }) => {
        jobId = p.jobId!;
        throw new Error('the process died');
      };
      await expect(s.crm.import.run({ entity: 'deal', rows: again, mapping, key: 'externalRef:shop', chunkSize: 2, onChunk: stop })).rejects.toThrow('the process died');
      expect(await s.crm.import.job(jobId)).toMatchObject({ rowsDone: 2 });
      const resumed = await s.crm.import.resume(jobId, { entity: 'deal', rows: again, mapping, key: 'externalRef:shop', chunkSize: 2 });
      expect(outcomes(resumed.rows)).toEqual([[3, 'created', undefined], [4, 'created', undefined], [5, 'created', undefined], [6, 'failed', 'VALIDATION']]);
      expect((await s.crm.deals.getByExternalRef('shop', '4')).lineItems).toHaveLength(2);
      expect((await s.crm.deals.getByExternalRef('shop', '5')).lineItems).toHaveLength(3);
      expect((await s.crm.deals.list({ limit: 20 })).items).toHaveLength(5);
      const before = await s.dump();
      const huge = Array.from({ length: 501 }, (_, i) => line('9', 'Z', `z${i}`));
      await expect(s.crm.import.run({ entity: 'deal', rows: huge, mapping, key: 'externalRef:shop', dryRun: true })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ code: 'group_too_large' }] } });
      expect(await s.dump()).toBe(before);
    });

    it('a row that disagrees with its deal\'s first row, or a bad line, fails the whole group with per-row reasons; a key that comes back after other keys is a duplicate', async () => {
      const s = await setup();
      const rows = [line('1', 'Ada', 'a1'), line('1', 'Bob', 'a2'), line('2', 'Grace', 'g1'), line('2', '', 'g2', '0'), line('3', 'Cy', 'c1'), line('1', 'Ada', 'a3')];
      const report = await s.crm.import.run({ entity: 'deal', rows, mapping, key: 'externalRef:shop' });
      expect(outcomes(report.rows)).toEqual([[1, 'failed', 'VALIDATION'], [2, 'failed', 'VALIDATION'], [3, 'failed', 'VALIDATION'], [4, 'failed', 'VALIDATION'], [5, 'created', undefined], [6, 'failed', 'VALIDATION']]);
      expect(report.rows[0]!.issues).toEqual([expect.objectContaining({ code: 'group_failed' })]);
      expect(report.rows[1]!.issues).toEqual([expect.objectContaining({ path: ['title'], code: 'group_mismatch' })]);
      expect(report.rows[2]!.issues).toEqual([expect.objectContaining({ code: 'group_failed' })]);
      expect(report.rows[3]!.issues![0]).toMatchObject({ path: ['lineItems', 'quantity'] });
      expect(report.rows[5]!.issues).toEqual([expect.objectContaining({ path: ['externalRef:shop'], code: 'duplicate_key', message: expect.stringContaining('row 1') })]);
      const deals = await s.crm.deals.list({ limit: 10 });
      expect(deals.items.map((d) => d.title)).toEqual(['Cy']);
      const dry = await s.crm.import.run({ entity: 'deal', rows, mapping, key: 'externalRef:shop', mode: 'upsert', dryRun: true });
      const real = await s.crm.import.run({ entity: 'deal', rows, mapping, key: 'externalRef:shop', mode: 'upsert' });
      expect(dry.rows).toEqual(real.rows);
      expect(real.rows[4]).toMatchObject({ outcome: 'skipped', reason: 'unchanged', id: deals.items[0]!.id });
    });

    it('a group that fails parsing (a bad quantity) still holds its key: the order\'s later scattered lines are duplicates naming its row, not a new deal', async () => {
      const s = await setup();
      const rows = [line('1', 'Ada', 'Chair', 'x'), line('1', 'Ada', 'Table'), line('2', 'Bob', 'Lamp'), line('3', 'Cy', 'c1', '0'), line('1', 'Ada', 'Sofa'), line('3', 'Cy', 'c2')];
      for (const mode of ['create', 'upsert'] as const) {
        const report = await s.crm.import.run({ entity: 'deal', rows, mapping, key: 'externalRef:shop', mode });
        expect(outcomes(report.rows)).toEqual([[1, 'failed', 'VALIDATION'], [2, 'failed', 'VALIDATION'], [3, mode === 'create' ? 'created' : 'skipped', undefined], [4, 'failed', 'VALIDATION'], [5, 'failed', 'VALIDATION'], [6, 'failed', 'VALIDATION']]);
        expect(report.rows[4]!.issues).toEqual([expect.objectContaining({ path: ['externalRef:shop'], code: 'duplicate_key', message: expect.stringContaining('row 1') })]);
        expect(report.rows[5]!.issues).toEqual([expect.objectContaining({ code: 'duplicate_key', message: expect.stringContaining('row 4') })]);
      }
      await expect(s.crm.deals.getByExternalRef('shop', '1')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(s.crm.deals.getByExternalRef('shop', '3')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect((await s.crm.deals.list({ limit: 10 })).items.map((d) => d.title)).toEqual(['Bob']);
    });

    it('a ref key read `as: \'list\'` groups lines by the cell\'s first id (as a row without lines is keyed)', async () => {
      const s = await setup();
      const listMapping = { ...mapping, 'externalRefs.shop': { column: 'Order', as: 'list' as const } };
      const rows = [line('5001', 'Ada', 'Chair'), line('5001', 'Ada', 'Table'), line('5002,5003', 'Bob', 'Lamp')];
      const report = await s.crm.import.run({ entity: 'deal', rows, mapping: listMapping, key: 'externalRef:shop', mode: 'upsert' });
      expect(outcomes(report.rows)).toEqual([[1, 'created', undefined], [2, 'created', undefined], [3, 'created', undefined]]);
      expect((await s.crm.deals.getByExternalRef('shop', '5001')).lineItems.map((l) => l.name)).toEqual(['Chair', 'Table']);
      const bob = await s.crm.deals.getByExternalRef('shop', '5003');
      expect(bob).toMatchObject({ title: 'Bob', externalRefs: [{ system: 'shop', id: '5002' }, { system: 'shop', id: '5003' }] });
      const again = await s.crm.import.run({ entity: 'deal', rows, mapping: listMapping, key: 'externalRef:shop', mode: 'upsert' });
      expect(again.rows.map((r) => r.outcome)).toEqual(['skipped', 'skipped', 'skipped']);
    });

    it('upsert replaces a deal\'s line items with its group\'s lines; every row reports the deal', async () => {
      const s = await setup();
      const first = await s.crm.import.run({ entity: 'deal', rows: [line('7', 'Ada', 'old 1'), line('7', 'Ada', 'old 2')], mapping, key: 'externalRef:shop' });
      const id = first.rows[0]!.id!;
      const rows = [line('7', 'Ada', 'new 1', '2', '5.00'), line('7', 'Ada', 'new 2', '1', '1.50'), line('8', 'Bo', 'b1')];
      const options = { entity: 'deal' as const, rows, mapping, key: 'externalRef:shop', mode: 'upsert' as const };
      const dry = await s.crm.import.run({ ...options, dryRun: true });
      const report = await s.crm.import.run(options);
      expect(report.rows.slice(0, 2)).toEqual([{ row: 1, outcome: 'updated', id }, { row: 2, outcome: 'updated', id }]);
      expect(withoutIds(dry.rows)).toEqual(withoutIds(report.rows));
      const deal = await s.crm.deals.get(id);
      expect(deal.lineItems.map((l) => [l.name, l.total])).toEqual([['new 1', 1000], ['new 2', 150]]);
      expect(deal.value).toEqual({ amount: 1150, currency: 'EUR' });
      expect(deal.version).toBe(2);
    });

    it('export with the order-line mapping writes one row per line item, the deal\'s cells repeated, and the file imports back to the same deals', async () => {
      const s = await setup();
      await s.crm.import.run({ entity: 'deal', csv: csvSource(ordersCsv), mapping, key: 'externalRef:shop' });
      // A deal without lines is one row with empty line cells (its currency is the default: this mapping has no currency column).
      await s.crm.deals.create({ title: 'No lines yet', externalRefs: [{ system: 'shop', id: '1003' }] });
      const text = async (format: 'csv' | 'json') => {
        let out = '';
        for await (const chunk of s.crm.export.run({ entity: 'deal', mapping, format, orderBy: [{ field: 'title', direction: 'asc' }] })) out += chunk;
        return out;
      };
      const csv = await text('csv');
      expect(csv.split('\r\n')).toEqual([
        '"Customer","Order","SKU","Item","Qty","Price"',
        '"Ada Lovelace","1001","CH-1","Chair, oak","4","1290.00"',
        '"Grace ""Amazing"" Hopper","1002","TB-1","Table ""Big""","1","499.00"',
        '"Grace ""Amazing"" Hopper","1002","CH-1","Chair, oak","2","129.00"',
        '"Grace ""Amazing"" Hopper","1002","LP-1","Lamp","1.5","20.00"',
        '"No lines yet","1003",,,,',
        '',
      ]);
      expect(JSON.parse(await text('json'))).toHaveLength(5);
      const shape = async (subject: CrmSubject) => (await subject.crm.deals.list({ limit: 10, orderBy: [{ field: 'title', direction: 'asc' }] })).items.map((d) => [d.title, d.externalRefs, d.value, d.lineItems]);
      const copy = await setup();
      const back = await copy.crm.import.run({ entity: 'deal', csv: csvSource(csv), mapping, key: 'externalRef:shop' });
      expect(back.counts).toEqual({ created: 5, updated: 0, skipped: 0, failed: 0 });
      expect(await shape(copy)).toEqual(await shape(s));
      // Into the same crm by upsert: nothing changes.
      const again = await s.crm.import.run({ entity: 'deal', csv: csvSource(csv), mapping, key: 'externalRef:shop', mode: 'upsert' });
      expect(again.rows.map((r) => r.outcome)).toEqual(['skipped', 'skipped', 'skipped', 'skipped', 'skipped']);
      // A line field the line-item schema does not have is refused as the import refuses it.
      const drain = async (run: () => AsyncIterable<string>) => {
        const stream = run();
        for await (const _chunk of stream) void _chunk;
      };
      await expect(drain(() => s.crm.export.run({ entity: 'deal', mapping: { ...mapping, 'lineItems.nope': 'X' } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.nope'], code: 'unknown_field' }] } });
      await expect(drain(() => s.crm.export.run({ entity: 'contact', mapping: { name: 'Customer', 'lineItems.name': 'Item' } }))).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.name'], code: 'unknown_field' }] } });
    });

    it('a view without the right to write deals gets FORBIDDEN rows and writes nothing', async () => {
      const s = await setup();
      await s.crm.access.setPolicy({ roles: { viewer: { grants: { deal: { read: 'all', create: 'none', update: 'none', delete: 'none' } } } } });
      const viewer = s.crm.as({ userId: 'vic', roles: ['viewer'] });
      const report = await viewer.import.run({ entity: 'deal', rows: [line('1', 'A', 'a1'), line('1', 'A', 'a2'), line('2', 'B', 'b1')], mapping, key: 'externalRef:shop', mode: 'upsert' });
      expect(outcomes(report.rows)).toEqual([[1, 'failed', 'FORBIDDEN'], [2, 'failed', 'FORBIDDEN'], [3, 'failed', 'FORBIDDEN']]);
      expect((await s.crm.deals.list({ limit: 10 })).items).toHaveLength(0);
      // The job records the rows it handled; no deal, stage visit or event was written.
      expect(JSON.parse(await s.dump())).toMatchObject({ deal: [], stageVisit: [] });
    });

    it('refuses a bad line-item mapping before reading a row, writing nothing', async () => {
      const s = await setup();
      const before = await s.dump();
      const run = (extra: Record<string, unknown>, key: string | null = 'externalRef:shop') =>
        s.crm.import.run({ entity: 'deal', rows: [line('1', 'A', 'a1')], mapping: { ...mapping, ...extra } as never, ...(key ? { key } : {}) });
      await expect(run({ 'lineItems.nope': 'Item' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.nope'], code: 'unknown_field' }] } });
      await expect(run({}, null)).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['key'], code: 'required' }] } });
      const { 'lineItems.quantity': _quantity, ...noQuantity } = mapping;
      await expect(s.crm.import.run({ entity: 'deal', rows: [], mapping: noQuantity, key: 'externalRef:shop' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.quantity'], code: 'unmapped_required' }] } });
      await expect(run({ lineItems: 'Item' })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.productRef'], code: 'invalid_value' }] } });
      await expect(s.crm.import.run({ entity: 'contact', rows: [], mapping: { name: 'Customer', 'lineItems.name': 'Item' } })).rejects.toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mapping', 'lineItems.name'] }] } });
      expect(await s.dump()).toBe(before);
    });
  });
}
