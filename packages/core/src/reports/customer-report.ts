import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { Operation } from '../crm/operation.js';
import { requireAmounts, type CurrencyAmount, type DrillDown, type TabularReport } from './report-types.js';

export interface CustomerReportOptions {
  /** Customers without an interaction for this many days are at risk (default 90). */
  readonly inactiveDays?: number;
  /** Currency that ranks customers (default: the instance's default currency). */
  readonly currency?: string;
  /** Customers per list (default 100, at most 1000). */
  readonly limit?: number;
}

/** A customer's value and activity. */
export interface CustomerValue {
  readonly type: 'contact' | 'company';
  readonly id: string;
  readonly name: string;
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
  readonly contacts: readonly CustomerValue[];
  readonly companies: readonly CustomerValue[];
  /** Paying customers inactive for `inactiveDays` or more, most valuable first. */
  readonly atRisk: readonly CustomerValue[];
}

const DAY = 86_400_000;

async function rank(op: Operation, type: 'contact' | 'company', options: Required<CustomerReportOptions>): Promise<CustomerValue[]> {
  const field = type === 'contact' ? 'contactId' : 'companyId';
  const groups = await op.tx.aggregate('deal', op.tenantId, {
    filter: op.scoped('deal', { op: 'eq', field: 'status', value: 'won' })!,
    groupBy: [field, 'value.currency'],
    metrics: { n: { fn: 'count' }, amount: { fn: 'sum', field: 'value.amount' } },
  });
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
  const ranked = [...byCustomer.entries()].sort((a, b) => inCurrency(b[1].values) - inCurrency(a[1].values) || b[1].n - a[1].n || (a[0] < b[0] ? -1 : 1));
  const total = ranked.reduce((s, [, e]) => s + inCurrency(e.values), 0);
  const top = ranked.slice(0, options.limit);
  const records = await op.getMany<Contact | Company>(type, top.map(([id]) => id));
  let running = 0;
  return top.map(([id, entry], i) => {
    running += inCurrency(entry.values);
    const record = records[i];
    const last = record?.lastInteractionAt ?? null;
    const daysInactive = last ? Math.floor((op.nowMs - Date.parse(last)) / DAY) : null;
    return {
      type,
      id,
      name: record?.name ?? '(removed)',
      wonDeals: entry.n,
      lifetimeValue: entry.values,
      cumulativeShare: total ? running / total : null,
      lastInteractionAt: last,
      daysInactive,
      atRisk: daysInactive === null || daysInactive >= options.inactiveDays,
      drill: { entity: 'deal', where: { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'won' }, { op: 'eq', field, value: id }] } },
    };
  });
}

/** Lifetime value per contact and company (won deals), last interaction, inactivity and the at-risk list. */
export async function customerReport(op: Operation, options: CustomerReportOptions): Promise<CustomerReport> {
  requireAmounts(op, 'customers');
  const full: Required<CustomerReportOptions> = { inactiveDays: options.inactiveDays ?? 90, currency: options.currency ?? op.ctx.defaultCurrency, limit: options.limit ?? 100 };
  const contacts = await rank(op, 'contact', full);
  const companies = await rank(op, 'company', full);
  const atRisk = [...contacts, ...companies].filter((c) => c.atRisk);
  const row = ({ drill: _drill, lifetimeValue, ...rest }: CustomerValue) => ({ ...rest, lifetimeValue: lifetimeValue.map((v) => `${v.amount} ${v.currency}`).join('; ') });
  return { contacts, companies, atRisk, rows: [...contacts, ...companies].map(row) };
}
