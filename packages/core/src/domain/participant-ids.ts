/**
 * The activity with `participantContactIds` — the contact ids of its `participants`, each once, in
 * order — matching them (no empty list stored): the indexed list a merge finds the activities a
 * contact took part in by, from stored data (the change feed lists them too, but can be pruned).
 * Returns the same object when it matches already, else a copy.
 */
export function withParticipantIds<T extends object>(activity: T): T {
  const { participantContactIds: stored = [], ...rest } = activity as { participants?: readonly { contactId?: string }[]; participantContactIds?: readonly string[] };
  const ids = [...new Set((rest.participants ?? []).flatMap((p) => (p.contactId ? [p.contactId] : [])))];
  if (ids.length === stored.length && ids.every((id, i) => stored[i] === id)) return activity;
  return (ids.length ? { ...rest, participantContactIds: ids } : rest) as T;
}
