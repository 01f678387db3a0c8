import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import { validationError, type CrmError } from '../errors/crm-error.js';
import { decodeOpaque, encodeOpaque } from '../query/cursor.js';
import type { Operation } from '../crm/operation.js';
import { scopedAggregate } from '../crm/list-options.js';
import { moneyList, requireFields, type CurrencyAmount, type DrillDown, type TabularReport } from './report-types.js';

export interface CustomerReportOptions {
  /** Customers without an interaction for this many days are at risk (default 90). */
  readonly inactiveDays?: number;
  /** Currency that ranks customers (default: the instance's default currency). */
  readonly currency?: string;
  /** Customers per list and page (default 100, at most 1000). */
  readonly limit?: number;
  /** `nextCursor` of the previous page: the next customers of both lists, in the same ranking. */
  readonly cursor?: string;
}

/** A customer's value and activity. */
export interface CustomerValue {
  readonly type: 'contact' | 'company';
  readonly id: string;
  /** Absent when a field rule hides the customer's name from the principal. */
  readonly name?: string;
  readonly wonDeals: number;
  /** Value of won deals over the whole relationship, per currency. */
  readonly lifetimeValue: readonly CurrencyAmount[];
  /** Cumulative share of the ranked lifetime value up to this customer (0–1): the Pareto curve. */
  readonly cumulativeShare: number | null;
  readonly lastInteractionAt: string | null;
  readonly daysInactive: number | null;
  readonly atRisk: boolean;
  readonly drill: DrillDown;
}

export interface CustomerReport extends TabularReport {
  /** One page of contacts, most valuable first. */
  readonly contacts: readonly CustomerValue[];
  /** One page of companies, most valuable first. */
  readonly companies: readonly CustomerValue[];
  /** Paying customers of this page inactive for `inactiveDays` or more, most valuable first. */
  readonly atRisk: readonly CustomerValue[];
  /** Present exactly when either list has more customers: pass it as `cursor` for the next page. */
  readonly nextCursor?: string;
}

/** Where each list of a customer report continues: after this ranking key, or `null` when it is done. */
interface CustomerCursor {
  readonly currency: string;
  readonly contact: RankKey | null;
  readonly company: RankKey | null;
}

/** A customer's place in the ranking: value in the ranking currency, won deals, id. */
type RankKey = readonly [value: number, wonDeals: number, id: string];

function invalidCursor(why: string): CrmError<'VALIDATION'> {
  return validationError('reports.customers', [{ path: ['cursor'], code: 'invalid_cursor', message: why }]);
}

function isRankKey(value: unknown): value is RankKey {
  return Array.isArray(value) && value.length === 3 && Number.isFinite(value[0]) && Number.isFinite(value[1]) && typeof value[2] === 'string';
}

function readCursor(cursor: string, currency: string): CustomerCursor {
  const parsed = decodeOpaque(cursor) as Partial<CustomerCursor> | undefined;
  if (!parsed || typeof parsed !== 'object' || (parsed.contact !== null && !isRankKey(parsed.contact)) || (parsed.company !== null && !isRankKey(parsed.company))) {
    throw invalidCursor('not a cursor of reports.customers');
  }
  if (parsed.currency !== currency) throw invalidCursor(`the cursor ranks by ${String(parsed.currency)}, not ${currency}`);
  return parsed as CustomerCursor;
}

const DAY = 86_400_000;

/** Ranks every customer of a type by lifetime value in the ranking currency (won deals, then id, break ties). */
async function rank(
  op: Operation,
  type: 'contact' | 'company',
  options: Required<Omit<CustomerReportOptions, 'cursor'>>,
  after: RankKey | null | undefined,
): Promise<{ page: CustomerValue[]; last: RankKey | null }> {
  if (after === null) return { page: [], last: null };
  const field = type === 'contact' ? 'contactId' : 'companyId';
  const groups = await scopedAggregate(op, 'deal', {
    filter: { op: 'eq', field: 'status', value: 'won' },
    groupBy: [field, 'value.currency'],
    metrics: { n: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' } },
  }, 'reports.customers');
  const byCustomer = new Map<string, { n: number; values: CurrencyAmount[] }>();
  // In a view, customers whose card the principal cannot read are left out (their names would show).
  const hidden = new Set<string>();
  if (op.guard) {
    const ids = [...new Set(groups.map((g) => g.group[field] as string | null).filter((id): id is string => !!id))];
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      const rows = await op.getMany<Contact | Company>(type, chunk);
      chunk.forEach((id, j) => {
        const row = rows[j];
        if (row ? !op.guard!.canRead(type, row) : !op.guard!.reachesAll(type, 'read')) hidden.add(id);
      });
    }
  }
  for (const g of groups) {
    const id = g.group[field] as string | null;
    if (!id || hidden.has(id)) continue;
    const entry = byCustomer.get(id) ?? { n: 0, values: [] };
    entry.n += g.values.n as number;
    entry.values.push({ currency: String(g.group['value.currency']), amount: g.values.amount as number });
    byCustomer.set(id, entry);
  }
  const inCurrency = (values: readonly CurrencyAmount[]) => values.find((v) => v.currency === options.currency)?.amount ?? 0;
  const keyOf = ([id, entry]: [string, { n: number; values: CurrencyAmount[] }]): RankKey => [inCurrency(entry.values), entry.n, id];
  const compare = (a: RankKey, b: RankKey) => b[0] - a[0] || b[1] - a[1] || (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0);
  const ranked = [...byCustomer.entries()].sort((a, b) => compare(keyOf(a), keyOf(b)));
  const total = ranked.reduce((s, [, e]) => s + inCurrency(e.values), 0);
  const start = after === undefined ? 0 : ranked.findIndex((entry) => compare(keyOf(entry), after) > 0);
  const from = start < 0 ? ranked.length : start;
  const top = ranked.slice(from, from + options.limit);
  const records = await op.getMany<Contact | Company>(type, top.map(([id]) => id));
  const named = !op.guard || op.guard.readable(type, 'name');
  // The Pareto share counts every customer ranked before this page too.
  let running = ranked.slice(0, from).reduce((s, [, e]) => s + inCurrency(e.values), 0);
  const page = top.map(([id, entry], i) => {
    running += inCurrency(entry.values);
    const record = records[i];
    const last = record?.lastInteractionAt ?? null;
    const daysInactive = last ? Math.floor((op.nowMs - Date.parse(last)) / DAY) : null;
    return {
      type,
      id,
      ...(named ? { name: record?.name ?? '(removed)' } : {}),
      wonDeals: entry.n,
      lifetimeValue: entry.values,
      cumulativeShare: total ? running / total : null,
      lastInteractionAt: last,
      daysInactive,
      atRisk: daysInactive === null || daysInactive >= options.inactiveDays,
      drill: { entity: 'deal', where: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'won' }, { op: 'eq', field, value: id }] } },
    } satisfies CustomerValue;
  });
  const more = from + top.length < ranked.length;
  return { page, last: more ? keyOf(top[top.length - 1]!) : null };
}

/**
 * Lifetime value per contact and company (won deals), last interaction, inactivity and the at-risk
 * list — a page of each list at a time, with a cursor that reaches every customer.
 *
 * @throws CrmError `VALIDATION` for a cursor that is not one of this report (or ranks by another currency).
 */
export async function customerReport(op: Operation, options: CustomerReportOptions): Promise<CustomerReport> {
  requireFields(op, 'customers', 'deal', ['value', 'status', 'contactId', 'companyId']);
  // Inactivity and the at-risk list derive from each customer's last interaction.
  requireFields(op, 'customers', 'contact', ['lastInteractionAt']);
  requireFields(op, 'customers', 'company', ['lastInteractionAt']);
  const full = { inactiveDays: options.inactiveDays ?? 90, currency: options.currency ?? op.ctx.defaultCurrency, limit: options.limit ?? 100 };
  const position = options.cursor === undefined ? undefined : readCursor(options.cursor, full.currency);
  const contacts = await rank(op, 'contact', full, position?.contact);
  const companies = await rank(op, 'company', full, position?.company);
  const atRisk = [...contacts.page, ...companies.page].filter((c) => c.atRisk);
  const row = ({ drill: _drill, lifetimeValue, ...rest }: CustomerValue) => ({ ...rest, lifetimeValue: moneyList(lifetimeValue) });
  const next: CustomerCursor = { currency: full.currency, contact: contacts.last, company: companies.last };
  return {
    contacts: contacts.page,
    companies: companies.page,
    atRisk,
    rows: [...contacts.page, ...companies.page].map(row),
    ...(next.contact || next.company ? { nextCursor: encodeOpaque(next) } : {}),
  };
}
