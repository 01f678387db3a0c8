import type { CrmContext, Principal } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { base64url } from '../protocol/exit-tag.js';
import { PROTOCOL } from '../protocol/messages.js';
import { SYNCED_ENTITIES } from '../protocol/synced-entities.js';

/** What the fingerprint reads of a principal's access guard. */
interface ScopeGuard {
  readFilter(entity: string): unknown;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * The "shared with me" branch of a filter (`shareKeys` / `parentShareKeys` contain one of mine): it appears
 * when a record is first shared with the principal, a row change the pull delivers anyway (the shared
 * record and its children's copies are written), so it does not change the scope's rule (review13b B4).
 */
function isShareBranch(node: unknown): boolean {
  const n = node as { op?: unknown; field?: unknown } | null;
  return n?.op === 'containsAny' && (n.field === 'shareKeys' || n.field === 'parentShareKeys');
}

/**
 * A filter or role as JSON that does not depend on order: string lists sorted (roles, team keys a host
 * lists in any order), object keys sorted, an `ownerKey` index hint dropped (its owner list stays:
 * the hint follows the owners' other teams, not the scope), and the "shared with me" branch dropped.
 */
function canonical(value: unknown): Json {
  if (Array.isArray(value)) {
    const items = value.map(canonical);
    return items.every((i) => typeof i === 'string') ? [...(items as string[])].sort() : items;
  }
  if (value === null || typeof value !== 'object') return (value ?? null) as Json;
  const node = value as Record<string, unknown>;
  if (isShareBranch(node)) return canonical({ op: 'or', filters: [] });
  const filters = node.filters as { field?: string }[] | undefined;
  if (node.op === 'and' && filters?.length === 2 && filters[0]?.field === 'ownerKey') return canonical(filters[1]);
  if (node.op === 'or' && filters?.some(isShareBranch)) {
    const rest = filters.filter((f) => !isShareBranch(f));
    return canonical(rest.length === 1 ? rest[0] : { ...node, filters: rest });
  }
  return Object.fromEntries(Object.keys(node).sort().map((key) => [key, canonical(node[key])]));
}

/**
 * Fingerprints by guard: core compiles one guard per principal and configuration revision (a policy or
 * directory change, in this process or another, makes new guards), so a guard's fingerprint holds while it
 * is in use and the directory is not read again on every pull.
 */
const known = new WeakMap<ScopeGuard, { readonly userId: string; readonly fingerprint: string }>();

/**
 * What decides a principal's read scope (design sync.md §7), and only that: a change makes the next pull
 * a reset. With `access()`, the read filter of each synced entity as the guard compiled it (owners
 * resolved through the directory's teams and managers, share keys, a departed user's nothing) and the
 * definitions of the principal's roles (their field rules); roles and teams in any order give the same
 * filters. An edit elsewhere in the policy or directory (a new hire in another team, an unused role)
 * changes nothing (review13 R10). First 16 base64url characters of SHA-256 over
 * `[userId, roles, filters, PROTOCOL]`.
 *
 * Kept per guard (`known`).
 *
 * @param guard The principal's guard (`ctx.hooks.access.guard`); none without `access()`.
 */
export async function scopeFingerprint(ctx: CrmContext, tx: StorageTx, principal: Principal, guard: ScopeGuard | undefined): Promise<string> {
  const hit = guard && known.get(guard);
  if (hit?.userId === principal.userId) return hit.fingerprint;
  let roles: Json = null;
  let filters: Json = null;
  if (guard) {
    const [policy, directory] = await tx.getMany('setting', ctx.tenantId, ['accessPolicy', 'accessDirectory']);
    const defined = (policy?.value as { roles?: Record<string, unknown>; defaultRoles?: string[] } | undefined) ?? {};
    const user = ((directory?.value as { users?: { id: string; roles?: string[] }[] } | undefined)?.users ?? []).find((u) => u.id === principal.userId);
    const names = principal.roles ?? (user?.roles?.length ? user.roles : undefined) ?? defined.defaultRoles ?? [];
    roles = canonical(Object.fromEntries([...new Set(names)].map((name) => [name, defined.roles?.[name] ?? null])));
    filters = canonical(Object.fromEntries(SYNCED_ENTITIES.map((entity) => [entity, guard.readFilter(entity) ?? null])));
  }
  const text = JSON.stringify([principal.userId, roles, filters, PROTOCOL]);
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  const fingerprint = base64url(new Uint8Array(digest)).slice(0, 16);
  if (guard) known.set(guard, { userId: principal.userId, fingerprint });
  return fingerprint;
}
