import type { Logger } from './logger.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import type { Row } from '../storage/storage-adapter.js';

/** Receives the events of one committed operation together, with the rows it wrote when known. */
export type EventBatchListener = (events: readonly CrmEvent[], rows: ReadonlyMap<string, Row | null> | undefined) => void;

/** Handler of one event type, or of every event with `'*'`. */
export type CrmEventHandler<K extends CrmEventName | '*'> = (event: K extends CrmEventName ? CrmEvent<K> : CrmEvent) => void;

/**
 * In-process delivery of committed events. A throwing handler is logged and never stops the
 * others or the operation that already committed.
 */
export class EventBus {
  /*
   * Handlers by event type ('*' = all). A Map of Sets rather than eventemitter3: the bus needs on, off
   * and emit only, and the library was ≈ 1 kB min+gzip of a core whose budget is 30 kB. Sets keep
   * insertion order; emit walks a copy, so a handler that unsubscribes (or subscribes) mid-emit
   * changes the next emit, not this one — eventemitter3's semantics.
   */
  /** @internal The scheduler's `dispatch` (scheduler/notice-dispatch.ts) reads them. */
  readonly handlers = new Map<string, Set<((event: CrmEvent) => void) & { readonly raw: (event: CrmEvent) => unknown }>>();
  /** @internal */
  readonly batchListeners = new Set<EventBatchListener>();

  constructor(private readonly logger: Logger) {}

  on<K extends CrmEventName | '*'>(name: K, handler: CrmEventHandler<K>): () => void {
    const raw = handler as (e: CrmEvent) => unknown;
    const wrapped = Object.assign((event: CrmEvent) => {
      try {
        raw(event);
      } catch (error) {
        this.logger.error('crmkit: an event handler threw', { event: event.type, error });
      }
    }, { raw });
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(wrapped);
    return () => {
      set.delete(wrapped);
    };
  }

  /**
   * Adds a listener of whole batches (views filter them for their principal). While any is attached,
   * operations keep the rows they write so visibility can be judged without reading them again.
   */
  onBatch(listener: EventBatchListener): () => void {
    this.batchListeners.add(listener);
    return () => {
      this.batchListeners.delete(listener);
    };
  }

  /** True while batch listeners want the written rows. */
  get wantsRows(): boolean {
    return this.batchListeners.size > 0;
  }

  /** Emits the events of one committed operation, in order; each is frozen first, since its handlers all receive the same object. */
  emitAll(events: readonly CrmEvent[], rows: ReadonlyMap<string, Row | null> | undefined): void {
    for (const event of events) {
      deepFreeze(event);
      this.deliver(event.type, event);
      this.deliver('*', event);
    }
    if (this.batchListeners.size && events.length) this.emitBatch(events, rows);
  }

  private deliver(name: string, event: CrmEvent): void {
    const set = this.handlers.get(name);
    if (set?.size) for (const handler of [...set]) handler(event);
  }

  /** @internal */
  emitBatch(events: readonly CrmEvent[], rows: ReadonlyMap<string, Row | null> | undefined): void {
    for (const listener of [...this.batchListeners]) {
      try {
        listener(events, rows);
      } catch (error) {
        this.logger.error('crmkit: an event handler threw', { event: events[0]?.type, error });
      }
    }
  }

  clear(): void {
    this.handlers.clear();
    this.batchListeners.clear();
  }
}
