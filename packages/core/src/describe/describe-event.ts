import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { formatMoney } from '../domain/money-format.js';
import { readCallerInput } from '../crm/parse-input.js';
import { validationError } from '../errors/crm-error.js';
import type { EventFormat, EventMessages, EventSentence, UnknownEvent } from './event-messages.js';
import { englishEventMessages } from './english-messages.js';

/** Options of {@link describeEvent}. */
export interface DescribeEventOptions {
  /** BCP 47 locale for money, dates and lists (default `'en'`). */
  readonly locale?: string;
  /** The locale's sentences; types it leaves out use the English ones. */
  readonly messages?: EventMessages;
  /** IANA time zone for dates (default `'UTC'`: crmkit timestamps are UTC). */
  readonly timeZone?: string;
  /** A stage key's display name (e.g. from the deal's pipeline); default: the key. */
  readonly stageName?: (key: string) => string;
  /**
   * The record whose timeline is shown (`crm.timeline(ref)`'s ref): sentences about another record read from
   * its side (a merged duplicate's timeline: "Merged into another contact", not "… into this one"). Default: the event's subject.
   */
  readonly timelineOf?: { readonly type: string; readonly id: string };
}

/** An event-log entry or a typed event: what `crm.timeline`, `crm.events.read` and `crm.on` hand out. */
export type DescribableEvent = CrmEvent | UnknownEvent;

/**
 * Turns an event into one sentence for a timeline or an activity feed, in English unless a message
 * table for another locale is given. Unknown event types get a fallback sentence, never an error.
 *
 * @param event - an event from `crm.timeline(...)`, `crm.events.read(...)` or a `crm.on` handler
 * @param options - `locale` (money, dates, lists via `Intl`), `messages` (another language's table,
 *   see {@link EventMessages}), `timeZone` (default UTC), `stageName` (stage key → name) and `timelineOf`
 *   (the record whose timeline is shown, for sentences that depend on the side: a merge's duplicate)
 * @returns the sentence, e.g. `Moved from New to Proposal`
 * @throws CrmError `VALIDATION` for a locale or time zone `Intl` cannot use
 * @example
 * const { items } = await crm.timeline({ type: 'deal', id: deal.id });
 * items.map((e) => describeEvent(e, { stageName: (key) => stages.get(key) ?? key }));
 * describeEvent(event, { locale: 'de', messages: { 'deal.won': (e, f) => `Gewonnen (${f.money(e.data.amount)})` } });
 */
export function describeEvent(event: DescribableEvent, options: DescribeEventOptions = {}): string {
  // Only the caller's event and options are read here: a missing event, a locale or zone Intl refuses (its
  // RangeError names which) is their VALIDATION.
  const { type, locale, lists, dates } = readCallerInput('describeEvent', () => {
    const locale = options.locale ?? 'en';
    const type = event.type as CrmEventName;
    if (typeof type !== 'string') throw validationError('describeEvent', [{ path: ['type'], code: 'invalid_type', message: 'must be an event type' }]);
    return {
      type,
      locale,
      lists: new Intl.ListFormat(locale, { type: 'conjunction' }),
      dates: new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: 'short', timeZone: options.timeZone ?? 'UTC' }),
    };
  });
  const format: EventFormat = {
    locale,
    money: (money) => formatMoney(money, locale),
    dateTime: (iso) => dates.format(new Date(iso)),
    stage: options.stageName ?? ((key) => key),
    list: (items) => lists.format(items),
    ...(options.timelineOf ? { timelineOf: options.timelineOf } : {}),
  };
  // Own keys only: an event type named like an Object.prototype member must not find it.
  const own = (table: EventMessages | undefined) => (table && Object.hasOwn(table, type) ? (table[type] as EventSentence<CrmEventName> | undefined) : undefined);
  const sentence = own(options.messages) ?? own(englishEventMessages);
  if (sentence) return sentence(event as CrmEvent, format);
  return (options.messages?.fallback ?? englishEventMessages.fallback)(event as UnknownEvent, format);
}
