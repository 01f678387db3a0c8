/**
 * Readable events: `describeEvent(event, { locale })` turns each crmkit event into a sentence
 * (English built in; other locales through an {@link EventMessages} table).
 * @packageDocumentation
 */
export { describeEvent, type DescribableEvent, type DescribeEventOptions } from './describe-event.js';
export { englishEventMessages } from './english-messages.js';
export type { CompleteEventMessages, EventFormat, EventMessages, EventSentence, UnknownEvent } from './event-messages.js';
