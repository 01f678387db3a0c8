import { EventEmitter } from 'eventemitter3';
import type { Logger } from './logger.js';
import type { CrmEvent, CrmEventName } from '../events/event-map.js';
import { deepFreeze } from '../storage/deep-freeze.js';

/** Handler of one event type, or of every event with `'*'`. */
export type CrmEventHandler<K extends CrmEventName | '*'> = (event: K extends CrmEventName ? CrmEvent<K> : CrmEvent) => void;

/**
 * In-process delivery of committed events. A throwing handler is logged and never stops the
 * others or the operation that already committed.
 */
export class EventBus {
  private readonly emitter = new EventEmitter();

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

  /** Delivers an event to its handlers; it is frozen first, since they all receive the same object. */
  emit(event: CrmEvent): void {
    deepFreeze(event);
    this.emitter.emit(event.type, event);
    this.emitter.emit('*', event);
  }

  clear(): void {
    this.emitter.removeAllListeners();
  }
}
