import type { EventBus } from '../crm/event-bus.js';
import type { CrmEvent } from '../events/event-map.js';
import { deepFreeze } from '../storage/deep-freeze.js';

// The event bus's delivery for a durable consumer, which only the scheduler is: functions over the bus
// rather than its methods, so a crm without the scheduler does not carry them.

/**
 * True when a handler of the crm itself receives events of this type (of it or `'*'`). Views' listeners
 * do not count: they hear what their process dispatches but are no delivery target of a durable consumer.
 */
export function handles(bus: EventBus, name: string): boolean {
  return !!(bus.handlers.get(name)?.size || bus.handlers.get('*')?.size);
}

/**
 * Delivers one event of a durable consumer (scheduler notices): its handlers run and are awaited, and the
 * first failure is thrown so the consumer retries the event (then parks it) rather than losing it.
 * Views' listeners hear it too (filtered for their principal, not awaited).
 */
export async function dispatch(bus: EventBus, event: CrmEvent): Promise<void> {
  deepFreeze(event);
  const handlers = [...(bus.handlers.get(event.type) ?? []), ...(bus.handlers.get('*') ?? [])];
  const failed = (await Promise.allSettled(handlers.map(async (h) => h.raw(event)))).find((r) => r.status === 'rejected');
  if (bus.batchListeners.size) bus.emitBatch([event], undefined);
  if (failed) throw failed.reason;
}
