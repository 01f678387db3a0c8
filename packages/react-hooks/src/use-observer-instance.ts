import type { ObservedCrm } from '@crmkit/core/observe';
import { useState } from 'react';
import { useCrm } from './crm-provider.js';

/**
 * The hooks' observer for the current CRM: created once in state (so StrictMode's double render
 * creates at most a spare one, which never subscribes: observers start lazily), and re-created
 * only when the provider's CRM changes. Later changes of the hook's arguments are synced by an effect.
 *
 * @internal
 */
export function useObserverInstance<O>(create: (crm: ObservedCrm) => O): O {
  const crm = useCrm();
  const [slot, setSlot] = useState(() => ({ crm, observer: create(crm) }));
  if (slot.crm === crm) return slot.observer;
  const next = { crm, observer: create(crm) };
  setSlot(next); // React re-renders this component at once with the new slot
  return next.observer;
}
