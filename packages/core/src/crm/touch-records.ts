import { produce } from '../domain/draft.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { Deal } from '../schema/deal.js';
import type { Operation } from './operation.js';

/**
 * Marks the records an interaction concerns as touched: a deal's rotting clock restarts, and
 * contacts and companies remember their last interaction (for inactivity and at-risk lists).
 */
export async function touchRecords(op: Operation, ids: { dealId?: string; contactId?: string; companyId?: string }, at: string): Promise<void> {
  if (ids.dealId) {
    const deal = await op.get<Deal>('deal', ids.dealId);
    if (deal && deal.lastActivityAt < at) {
      const next = produce(deal, (d) => {
        d.lastActivityAt = at;
        delete d.rottingSince;
        d.version = deal.version + 1;
        d.updatedAt = op.now;
      });
      await op.update('deal', deal, next);
    }
  }
  for (const [entity, id] of [['contact', ids.contactId], ['company', ids.companyId]] as const) {
    if (!id) continue;
    const record = await op.get<Contact | Company>(entity, id);
    if (record && (record.lastInteractionAt ?? '') < at) {
      const next = produce(record, (d) => {
        d.lastInteractionAt = at;
        d.version = record.version + 1;
        d.updatedAt = op.now;
      });
      await op.update(entity, record, next);
    }
  }
}
