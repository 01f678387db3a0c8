import { formatMoney, type Board } from '@crmkit/core';

/** Minor units as people read them, with the currency's ISO 4217 decimals (JPY has none, KWD three). */
const money = (amount: number, currency: string) => formatMoney({ amount, currency }, 'en-GB');

/** A plain-text table of deals by stage: count, amount and weighted amount per currency. */
export function renderBoard(board: Board): string {
  const rows = board.columns.map((column) => {
    const totals = column.totals.length ? column.totals : [{ currency: 'EUR', amount: 0, weighted: 0 }];
    return [
      column.stage.name,
      String(column.count),
      totals.map((t) => money(t.amount, t.currency)).join(' + '),
      totals.map((t) => money(t.weighted, t.currency)).join(' + '),
    ];
  });
  const header = ['Stage', 'Deals', 'Amount', 'Weighted'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
