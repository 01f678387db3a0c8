import type { Crm } from '@crmkit/core';
import { createContext, useContext, type ReactNode } from 'react';

const CrmContext = createContext<Crm | null>(null);

/** Props of `CrmProvider`. */
export interface CrmProviderProps {
  /** The CRM instance every hook below reads from (one tenant). */
  readonly crm: Crm;
  readonly children?: ReactNode;
}

/**
 * Makes a CRM instance available to the hooks below it. Replacing `crm` re-creates every observer
 * under the provider (a new tenant or storage); keep it stable otherwise.
 *
 * @param props `crm` and the children.
 * @returns The children, with the CRM in context.
 * @example
 * const crm = await createCrm({ storage: createIndexedDbStorage({ name: 'crm' }), tenantId: 'acme' });
 * createRoot(el).render(<CrmProvider crm={crm}><App /></CrmProvider>);
 */
export function CrmProvider({ crm, children }: CrmProviderProps): ReactNode {
  return <CrmContext.Provider value={crm}>{children}</CrmContext.Provider>;
}

/**
 * The CRM of the nearest `CrmProvider`, for calls the hooks do not wrap (`crm.deals.create`, …).
 *
 * @returns The CRM instance.
 * @throws Error when no `CrmProvider` is above the component.
 * @example
 * const crm = useCrm();
 * const onSave = () => crm.deals.update(deal.id, { title });
 */
export function useCrm(): Crm {
  const crm = useContext(CrmContext);
  if (!crm) throw new Error('useCrm: no <CrmProvider crm={…}> above this component');
  return crm;
}
