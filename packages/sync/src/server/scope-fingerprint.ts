import type { CrmContext, Principal } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { base64url } from '../protocol/exit-tag.js';
import { PROTOCOL } from '../protocol/messages.js';

/**
 * What a principal's read scope depends on besides the rows themselves (design sync.md §7): the
 * access policy's and directory's versions, the principal as the host passes it, the protocol. A
 * change makes the next pull a reset. First 16 base64url characters of SHA-256 over
 * `[policyVersion, directoryVersion, userId, roles, teamIds, protocol]` (roles and teams sorted, without
 * duplicates; 0/null without `access()`).
 */
export async function scopeFingerprint(ctx: CrmContext, tx: StorageTx, principal: Principal): Promise<string> {
  const [policy, directory] = ctx.hooks.access ? await tx.getMany('setting', ctx.tenantId, ['accessPolicy', 'accessDirectory']) : [];
  // Roles and teams are sets: a host listing them in another order has not changed the scope.
  const set = (list: readonly string[] | undefined) => (list ? [...new Set(list)].sort() : null);
  const text = JSON.stringify([policy?.version ?? 0, directory?.version ?? 0, principal.userId, set(principal.roles), set(principal.teamIds), PROTOCOL]);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return base64url(new Uint8Array(digest)).slice(0, 16);
}
