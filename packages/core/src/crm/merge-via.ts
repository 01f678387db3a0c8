import { validationError } from '../errors/crm-error.js';
import type { MergeEntity, MergeOptions, MergeResult } from '../schema/merge.js';
import type { RecordBase } from '../schema/record.js';
import type { CrmContext } from './context.js';

/** The service of each mergeable kind, as method names spell it (`merges.companies`, `contacts.merge`). */
export const MERGE_SERVICES: Readonly<Record<MergeEntity, string>> = { contact: 'contacts', company: 'companies', lead: 'leads' };

/** `crm.<cards>.merge`: the merges feature's merge with this crm's (or view's) context. */
export function mergeVia<T extends RecordBase>(ctx: CrmContext, entity: MergeEntity, survivorId: string, duplicateIds: readonly string[], options: MergeOptions | undefined): Promise<MergeResult<T>> {
  const hook = ctx.hooks.merges;
  if (!hook) {
    const message = 'merging needs the merges() feature from @crmkit/core/merges';
    return Promise.reject(validationError(`${MERGE_SERVICES[entity]}.merge`, [{ path: [], code: 'feature_required', message }]));
  }
  return hook.merge(ctx, entity, survivorId, duplicateIds, options) as Promise<MergeResult<T>>;
}
