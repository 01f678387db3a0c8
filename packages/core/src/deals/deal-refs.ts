import type { Deal } from '../schema/deal.js';
import type { EventRef } from '../crm/operation.js';

/** The records whose timelines show a deal's events. */
export function dealRefs(deal: Pick<Deal, 'contactId' | 'companyId' | 'leadId'>): EventRef[] {
  const refs: EventRef[] = [];
  if (deal.contactId) refs.push({ type: 'contact', id: deal.contactId });
  if (deal.companyId) refs.push({ type: 'company', id: deal.companyId });
  if (deal.leadId) refs.push({ type: 'lead', id: deal.leadId });
  return refs;
}
