import { CrmError, type Principal } from '@crmkit/core';
import type { ObservedCrm } from '@crmkit/core/observe';
import { createContext, useContext, useMemo, type ReactNode } from 'react';

const CrmContext = createContext<ObservedCrm | null>(null);

/** Props of `CrmProvider`. */
export interface CrmProviderProps {
  /** The CRM instance every hook below reads from (one tenant), created with the `observers()` feature. */
  readonly crm: ObservedCrm;
  /**
   * Act for this user: the hooks below read and write through `crm.as(principal)`, so they see and
   * change only what the tenant's access policy grants the user (with the `access()` feature), and
   * what they do is credited to the user. A view made elsewhere can be passed as `crm` instead.
   */
  readonly principal?: Principal;
  readonly children?: ReactNode;
}

/** A stable key of a principal, so a new object with the same content keeps the same view. */
function principalKey(principal: Principal | undefined): string {
  return principal ? JSON.stringify([principal.userId, principal.roles ?? null, principal.teamIds ?? null]) : '';
}

/**
 * Makes a CRM instance available to the hooks below it. The hooks read through core observers, so
 * the crm must be created with the `observers()` feature of `@crmkit/core/observe`. Replacing `crm`
 * (or `principal`, by content) re-creates every observer under the provider (a new tenant, storage
 * or user); keep them stable otherwise.
 *
 * @param props `crm`, optionally the `principal` to act for, and the children.
 * @returns The children, with the CRM in context.
 * @throws CrmError `VALIDATION` (`crm`, code `feature_required`) when `crm` has no observers (created without the `observers()` feature).
 * @example
 * import { observers } from '@crmkit/core/observe';
 * const crm = await createCrm({ storage: createIndexedDbStorage({ name: 'crm' }), tenantId: 'acme', features: [observers()] });
 * createRoot(el).render(<CrmProvider crm={crm} principal={{ userId: session.userId }}><App /></CrmProvider>);
 */
export function CrmProvider({ crm, principal, children }: CrmProviderProps): ReactNode {
  if (!crm || typeof crm !== 'object' || !('observe' in crm) || !crm.observe) {
    const message = 'create it with createCrm({ …, features: [observers()] }) (observers from @crmkit/core/observe)';
    throw new CrmError('VALIDATION', `CrmProvider: the crm has no observers; ${message}`, { issues: [{ path: ['crm'], code: 'feature_required', message }] });
  }
  const key = principalKey(principal);
  // The view follows the principal's content (key), not the identity of the object passed.
  const value = useMemo(() => (principal ? crm.as(principal) : crm), [crm, key]);
  return <CrmContext.Provider value={value}>{children}</CrmContext.Provider>;
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
