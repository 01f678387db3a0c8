import type { CrmFeature } from '../crm/feature.js';
import { MergeService } from './merge-service.js';
import { indexParticipants } from './participant-index.js';

/** The merges feature: adds `crm.merges`. */
export type MergesFeature = CrmFeature<'merges', MergeService>;

/**
 * Merging duplicates with undo as a crm feature: `crm.merges.contacts/companies/leads(survivorId,
 * duplicateIds, { fields, fillEmpty })` keep one record, take the chosen fields from the others,
 * move their external refs, tags and everything linked to them (deals, tasks, activities, contacts,
 * converted leads, timeline entries) to it and delete them, in one transaction with a merge log entry;
 * `crm.merges.undo(mergeId)` restores them exactly unless a record the merge touched changed since.
 * Pairs with `crm.duplicates.find` (the duplicates feature), which finds the candidates.
 *
 * @returns The feature to pass to `createCrm({ features })`.
 * @example
 * import { merges } from '@crmkit/core/merges';
 * const crm = await createCrm({ storage, tenantId: 'acme', features: [merges()] });
 * const { merge } = await crm.merges.contacts(keepId, [dropId]);
 * await crm.merges.undo(merge.id);
 */
export function merges(): MergesFeature {
  return {
    key: 'merges',
    setup: (root) => ({
      api: (ctx) => new MergeService(ctx),
      // Activities stored before storage schema 10 get the participants' index a merge finds them by.
      async start() {
        const { indexed, done } = await indexParticipants(root);
        if (indexed) root.logger.info('crmkit: indexed activity participants', { activities: indexed });
        // Merges stay right meanwhile (they also scan the activities without the index), only slower; a later start goes on.
        if (!done) root.logger.warn('crmkit: indexing activity participants did not finish (concurrent writes); merges scan all activities until a start completes it', { activities: indexed });
      },
      // crm.contacts/companies/leads.merge run the same merge with the caller's context.
      hooks: {
        merges: {
          merge: (ctx, entity, survivorId, duplicateIds, options) => {
            const service = new MergeService(ctx);
            return entity === 'contact' ? service.contacts(survivorId, duplicateIds, options) : entity === 'company' ? service.companies(survivorId, duplicateIds, options) : service.leads(survivorId, duplicateIds, options);
          },
        },
      },
    }),
  };
}
