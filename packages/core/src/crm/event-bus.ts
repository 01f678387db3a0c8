import { EventEmitter } from 'eventemitter3';
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
  private readonly emitter = new EventEmitter();
  private readonly batchListeners = new Set<EventBatchListener>();

  constructor(private readonly logger: Logger) {}

  on<K extends CrmEventName | '*'>(name: K, handler: CrmEventHandler<K>): () => void {
    const wrapped = (event: CrmEvent) => {
      try {
        (handler as (e: CrmEvent) => void)(event);
      } catch (error) {
        this.logger.error('crmkit: an event handler threw', { event: event.type, error });
      }
    };
    this.emitter.on(name, wrapped);
    return () => {
      this.emitter.off(name, wrapped);
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

  /** Delivers an event to its handlers; it is frozen first, since they all receive the same object. */
  emit(event: CrmEvent): void {
    deepFreeze(event);
    this.emitter.emit(event.type, event);
    this.emitter.emit('*', event);
    if (this.batchListeners.size) this.emitBatch([event], undefined);
  }

  /** Emits the events of one committed operation, in order (each frozen first, like `emit`). */
  emitAll(events: readonly CrmEvent[], rows: ReadonlyMap<string, Row | null> | undefined): void {
    for (const event of events) {
      deepFreeze(event);
      this.emitter.emit(event.type, event);
      this.emitter.emit('*', event);
    }
    if (this.batchListeners.size && events.length) this.emitBatch(events, rows);
  }

  private emitBatch(events: readonly CrmEvent[], rows: ReadonlyMap<string, Row | null> | undefined): void {
    for (const listener of [...this.batchListeners]) {
      try {
        listener(events, rows);
      } catch (error) {
        this.logger.error('crmkit: an event handler threw', { event: events[0]?.type, error });
      }
    }
  }

  clear(): void {
    this.emitter.removeAllListeners();
    this.batchListeners.clear();
  }
}
