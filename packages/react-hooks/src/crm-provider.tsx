import type { ObservedCrm } from '@crmkit/core/observe';
import { createContext, useContext, type ReactNode } from 'react';

const CrmContext = createContext<ObservedCrm | null>(null);

/** Props of `CrmProvider`. */
export interface CrmProviderProps {
  /** The CRM instance every hook below reads from (one tenant), created with the `observers()` feature. */
  readonly crm: ObservedCrm;
  readonly children?: ReactNode;
}

/**
 * Makes a CRM instance available to the hooks below it. The hooks read through core observers, so
 * the crm must be created with the `observers()` feature of `@crmkit/core/observe`. Replacing `crm`
 * re-creates every observer under the provider (a new tenant or storage); keep it stable otherwise.
 *
 * @param props `crm` and the children.
 * @returns The children, with the CRM in context.
 * @throws Error when `crm` has no observers (created without the `observers()` feature).
 * @example
 * import { observers } from '@crmkit/core/observe';
 * const crm = await createCrm({ storage: createIndexedDbStorage({ name: 'crm' }), tenantId: 'acme', features: [observers()] });
 * createRoot(el).render(<CrmProvider crm={crm}><App /></CrmProvider>);
 */
export function CrmProvider({ crm, children }: CrmProviderProps): ReactNode {
  if (!crm || typeof crm !== 'object' || !('observe' in crm) || !crm.observe) {
    throw new Error('CrmProvider: the crm has no observers; create it with createCrm({ …, features: [observers()] }) (observers from @crmkit/core/observe)');
  }
  return <CrmContext.Provider value={crm}>{children}</CrmContext.Provider>;
}

/**
 * The CRM of the nearest `CrmProvider`, for calls the hooks do not wrap (`crm.deals.create`, …).
 * Name the crm's type to reach its other features' APIs (`crm.tasks`, `crm.activities`): the
 * provider holds the instance you gave it, so the type is yours to state.
 *
 * @returns The CRM instance.
 * @throws Error when no `CrmProvider` is above the component.
 * @example
 * type AppCrm = CrmWith<[TasksFeature, ObserversFeature]>;
 * const crm = useCrm<AppCrm>();
 * const onDone = () => crm.tasks.complete(task.id);
 */
export function useCrm<C extends ObservedCrm = ObservedCrm>(): C {
  const crm = useContext(CrmContext);
  if (!crm) throw new Error('useCrm: no <CrmProvider crm={…}> above this component');
  return crm as C;
}
