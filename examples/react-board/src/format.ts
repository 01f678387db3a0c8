import { formatMoney as formatIn, type Money } from '@crmkit/core';

/**
 * `€1,234.56`-style text of integer minor units, with the currency's ISO 4217 decimals; `—` without an
 * amount: a user whose field rules hide a deal's `value` gets deals without it (and `weightedValue`),
 * though `Deal['value']` is typed as always there.
 */
export function formatMoney(money: Pick<Money, 'amount' | 'currency'> | undefined): string {
  return money ? formatIn(money, 'en-GB') : '—';
}

const dateFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/** A short local date and time. */
export function formatWhen(iso: string): string {
  return dateFormat.format(new Date(iso));
}

/** The `datetime-local` input value of an instant, in local time. */
export function toLocalInput(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
