import { formatMoney as formatIn, type CrmEvent, type Money } from '@crmkit/core';

/** `€1,234.56`-style text of integer minor units, with the currency's ISO 4217 decimals. */
export function formatMoney(money: Pick<Money, 'amount' | 'currency'>): string {
  return formatIn(money, 'en-GB');
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

/** One line describing a timeline event. */
export function describeEvent(event: CrmEvent): string {
  switch (event.type) {
    case 'deal.created':
      return 'Deal created';
    case 'deal.stageChanged':
      return `Moved ${event.data.direction}: ${event.data.from} → ${event.data.to}`;
    case 'deal.postponed':
      return `Next step postponed to ${formatWhen(event.data.until)}${event.data.reason ? `: ${event.data.reason}` : ''}`;
    case 'deal.lost':
      return `Lost: ${event.data.reason}${event.data.comment ? ` (${event.data.comment})` : ''}`;
    case 'deal.won':
      return 'Won';
    case 'deal.updated':
      return `Updated ${Object.keys(event.data.changes).join(', ')}`;
    case 'task.created':
      return 'Task planned';
    case 'task.completed':
      return 'Task completed';
    case 'task.postponed':
      return 'Task postponed';
    case 'task.cancelled':
      return 'Task cancelled';
    case 'activity.logged':
      return `${event.data.activity.kind}: ${event.data.activity.outcome ?? event.data.activity.subject ?? ''}`;
    default:
      return event.type;
  }
}
