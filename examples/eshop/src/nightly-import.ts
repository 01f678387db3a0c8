import { csvSource } from '@crmkit/core/csv';
import type { ImportReport } from '@crmkit/core/imports';
import type { ShopCrm } from './shop-flow.js';

/**
 * The nightly import of the shop's customer file into contacts: upsert keyed by e-mail (a customer
 * already in the crm is updated, or skipped when nothing changed), and a row that the duplicates
 * finder matches to another contact (the same person under another spelling of the address) is
 * skipped and reported instead of creating a second card. Rows the crm refuses fail with the API's
 * own `VALIDATION` issues; every other row is written.
 *
 * @param crm The shop's crm.
 * @param file The CSV text (`;`-separated, CRLF, header `Customer no;Name;E-mail;Phone;Company`).
 * @returns The per-row report.
 */
export function importCustomerFile(crm: ShopCrm, file: string): Promise<ImportReport> {
  return crm.import.run({
    entity: 'contact',
    csv: csvSource(file),
    mapping: { name: 'Name', email: 'E-mail', phone: 'Phone', source: { value: 'shop' } },
    mode: 'upsert',
    key: 'email',
    duplicates: { action: 'skip', minScore: 0.9 },
  });
}

/** The report as the back office reads it: one line per row, then the counts. */
export function renderImportReport(report: ImportReport): string {
  const lines = report.rows.map((r) => {
    const detail = r.outcome === 'failed' ? `${r.error}: ${(r.issues ?? []).map((i) => `${i.path.join('.')} ${i.message}`).join('; ')}` : r.reason === 'duplicate' ? `duplicate of ${r.duplicateOf?.join(', ')}` : (r.reason ?? '');
    return `  row ${String(r.row).padStart(2)}  ${r.outcome.padEnd(7)}  ${(r.id ?? '').padEnd(28)}  ${detail}`.trimEnd();
  });
  const { created, updated, skipped, failed } = report.counts;
  return [...lines, `  ${created} created, ${updated} updated, ${skipped} skipped, ${failed} failed`].join('\n');
}
