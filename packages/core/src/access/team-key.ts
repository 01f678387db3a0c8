import type { DirectoryIndex } from './access-directory.js';

/**
 * Setting row marking that every deal of the tenant carries its owner's team key (`scopeTeam`): set by
 * the first `setDirectory` after it fills them; until then scopes do not use the key.
 */
export const TEAM_KEYS_KEY = 'accessTeamKeys';

/** A user's teams in the directory, sorted and joined by `|` (team ids never contain it); `''` for none or an unknown user. */
export function teamKeyOf(directory: DirectoryIndex, userId: string): string {
  return [...new Set(directory.users.get(userId)?.teamIds ?? [])].sort().join('|');
}

/** A deal with `scopeTeam` set from its owner (absent when unowned); the same object when already right. */
export function withTeamKey<T extends object>(deal: T, directory: DirectoryIndex): T {
  const d = deal as T & { ownerId?: string; scopeTeam?: string };
  const key = d.ownerId === undefined ? undefined : teamKeyOf(directory, d.ownerId);
  if (d.scopeTeam === key) return deal;
  const next = { ...d };
  if (key === undefined) delete next.scopeTeam;
  else next.scopeTeam = key;
  return next;
}
