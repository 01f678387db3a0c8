import type { CrmContext } from '@crmkit/core';

type Bus = CrmContext['bus'];
type Emitted = Parameters<Bus['emitAll']>;

/**
 * An event bus for services run inside a push's transaction: it holds what they emit until the
 * transaction commits (`release` hands it to the crm's bus); a rolled-back command's events are
 * dropped. Everything else (listeners, `wantsRows`) is the crm's bus.
 */
export function heldEvents(bus: Bus): { readonly bus: Bus; release(): void } {
  const held: Emitted[] = [];
  const holder = Object.create(bus) as Bus & { emitAll: Bus['emitAll'] };
  holder.emitAll = (...args: Emitted) => void held.push(args);
  return {
    bus: holder,
    release: () => {
      for (const args of held.splice(0)) bus.emitAll(...args);
    },
  };
}
