import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import type { Money } from '../schema/primitives.js';

/** What a sentence may use to render values in the caller's locale. */
export interface EventFormat {
  /** The BCP 47 locale asked for (`'en'`, `'de-DE'` …). */
  readonly locale: string;
  /** Money in the locale (ISO 4217 decimals): `€4,644.00`. */
  money(money: Pick<Money, 'amount' | 'currency'>): string;
  /** An ISO-8601 instant as a local date and time (the `timeZone` option, else UTC). */
  dateTime(iso: string): string;
  /** A stage key as the name to show (the `stageName` option, else the key). */
  stage(key: string): string;
  /** A list of words in the locale: `a, b and c`. */
  list(items: readonly string[]): string;
  /**
   * The record whose timeline shows the event (the `timelineOf` option), when it is not the event's subject:
   * a merge reads "Merged into another contact" on a duplicate's timeline, "Merged 1 duplicate contact into this one" on the survivor's.
   */
  readonly timelineOf?: { readonly type: string; readonly id: string };
}

/** Turns one event type into a sentence. */
export type EventSentence<K extends CrmEventName> = (event: CrmEvent<K>, format: EventFormat) => string;

/** An event whose type no table knows (a newer crmkit, a host's own event). */
export interface UnknownEvent {
  readonly type: string;
  readonly subjectType: string;
  readonly data: Readonly<Record<string, unknown>>;
}

/**
 * A locale's sentences: one per event type it translates, and a fallback for the rest. Types a
 * table leaves out fall back to the English sentence (a partial translation still reads well).
 */
export type EventMessages = { readonly [K in CrmEventName]?: EventSentence<K> } & {
  readonly fallback?: (event: UnknownEvent, format: EventFormat) => string;
};

/** A table with a sentence for every event type: what the built-in English table is. */
export type CompleteEventMessages = { readonly [K in CrmEventName]: EventSentence<K> } & {
  readonly fallback: (event: UnknownEvent, format: EventFormat) => string;
};
