import type { Filter } from '../query/query-spec.js';
import type { ReportRow } from '../domain/analytics/csv.js';
import type { Operation } from '../crm/operation.js';

/** The records behind a figure: list them with `crm.reports.drill(drill)`. */
export interface DrillDown {
  readonly entity: 'deal' | 'stageVisit' | 'lead' | 'task' | 'event' | 'contact' | 'company';
  readonly where: Filter;
}

/** Money per currency; amounts never mix currencies. */
export interface CurrencyAmount {
  readonly currency: string;
  readonly amount: number;
}

/** Every report offers its figures as plain rows for tables and `toCsv`. */
export interface TabularReport {
  readonly rows: readonly ReportRow[];
}

export const ratio = (part: number, whole: number): number | null => (whole === 0 ? null : part / whole);

/**
 * Refuses a report made of deal amounts for a principal who may not read them (`value` hidden by a
 * field rule): its figures would give the amounts away.
 *
 * @throws CrmError `FORBIDDEN` naming the field.
 */
export function requireAmounts(op: Operation, report: string): void {
  op.guard?.checkReadFields('deal', ['value'], `reports.${report}`);
}
