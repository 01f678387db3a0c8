import type { Operation } from '../crm/operation.js';
import type { DirectoryIndex } from './access-directory.js';

/** Setting row marking that every deal carries its owner's team key (`StorageTx.setOwnerKeys`). */
export const OWNER_KEYS_KEY = 'accessOwnerKeys';

/** The entity whose rows carry their owner's team key where the adapter keeps one. */
const KEYED = 'deal';

/** Whether the adapter behind `op` keeps owner keys on deals. */
export const keepsOwnerKeys = (op: Operation): boolean => !!op.tx.setOwnerKeys && op.ctx.storage.capabilities.ownerKeys?.includes(KEYED) === true;

/** A user's team key: their teams, sorted, joined by `|`; `null` for no teams or no such user. */
export function teamKeyOf(directory: DirectoryIndex, userId: string): string | null {
  const teams = directory.users.get(userId)?.teamIds;
  return teams?.length ? [...teams].sort().join('|') : null;
}

/**
 * Gives the adapter the directory's team keys, in the directory change's transaction (under the
 * configuration lock): every key when they were never complete (`all`, then marked complete in the
 * same transaction by the caller: `OWNER_KEYS_KEY`), else only those of users whose teams changed.
 */
export async function stampOwnerKeys(op: Operation, previous: DirectoryIndex, next: DirectoryIndex, all: boolean): Promise<void> {
  const keys: Record<string, string | null> = {};
  for (const id of new Set([...previous.users.keys(), ...next.users.keys()])) {
    const key = teamKeyOf(next, id);
    if (all ? key !== null : key !== teamKeyOf(previous, id)) keys[id] = key;
  }
  if (all || Object.keys(keys).length) await op.tx.setOwnerKeys!(op.tenantId, keys, all);
}

/**
 * The key every owner in `owners` has, when they all have the same one (a team scope whose members
 * are in that team only): a scope may then also say `ownerKey = key`, which an index seeks. `exact`:
 * only when they are every user with that key (a team lead's team), so that every deal keyed so is
 * theirs unless its key is wrong: a page may seek the key alone and check its rows
 * (`CompiledAccess.readPage`).
 */
export function sharedTeamKey(directory: DirectoryIndex, owners: ReadonlySet<string>, exact?: boolean): string | undefined {
  let shared: string | undefined;
  for (const id of owners) {
    const key = teamKeyOf(directory, id);
    if (key === null || (shared !== undefined && key !== shared)) return undefined;
    shared = key;
  }
  return exact && [...directory.users.keys()].filter((id) => teamKeyOf(directory, id) === shared).length !== owners.size ? undefined : shared;
}

