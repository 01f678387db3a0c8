import type { Filter } from '../query/query-spec.js';
import type { ReportRow } from '../domain/analytics/csv.js';
import type { Operation } from '../crm/operation.js';
import { formatMoney, toMajorUnits } from '../domain/money-format.js';

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

/**
 * Every report offers its figures as plain rows for tables and `toCsv`. Rows are for people: money in
 * them is in major units with the currency's ISO 4217 decimals (`'1234.56'`, `'1.500 KWD'`), while the
 * typed fields next to `rows` keep integer minor units for programs.
 */
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
  requireFields(op, report, 'deal', ['value']);
}

/**
 * Refuses a report for a principal who may not read a field its figures derive from (a forecast's
 * weighted amounts give the probability away, its months the expected close date).
 *
 * @throws CrmError `FORBIDDEN` naming the fields.
 */
export function requireFields(op: Operation, report: string, entity: string, fields: readonly string[]): void {
  op.guard?.checkReadFields(entity, fields, `reports.${report}`);
}
/** Several amounts in one cell: `'1234.56 EUR; 5000 JPY; 1.500 KWD'`. */
export const moneyList = (values: readonly CurrencyAmount[]): string => values.map((v) => formatMoney(v)).join('; ');

/** One amount of a row that has its own currency column, in major units (`null` stays `null`). */
export const major = (amount: number | null, currency: string): string | null => (amount === null ? null : toMajorUnits({ amount, currency }));
