import { externalKeyOf, type ExternalRef } from '../schema/external-ref.js';

/** Entities whose records carry external refs. */
export const EXTERNAL_ENTITIES: ReadonlySet<string> = new Set(['lead', 'contact', 'company', 'deal', 'task', 'activity']);

/** `refs` without repeats (same system and id), in first-seen order. */
export function distinctRefs(refs: readonly ExternalRef[]): ExternalRef[] {
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(externalKeyOf(ref)) && !!seen.add(externalKeyOf(ref)));
}

/**
 * The record with `externalKeys` matching its `externalRefs` (and no empty lists): the same object
 * when they match already, changed in place when it is not frozen yet (a record being built), else a
 * copy. Every write of an entity with external refs passes through it (`Operation`), so the unique
 * index always says what the refs say.
 */
export function withExternalKeys<T extends object>(record: T): T {
  const target = record as { externalRefs?: readonly ExternalRef[]; externalKeys?: readonly string[] };
  const refs = target.externalRefs;
  if (refs === undefined && target.externalKeys === undefined) return record;
  const distinct = refs?.length ? distinctRefs(refs) : undefined;
  const keys = distinct?.map(externalKeyOf);
  const stored = target.externalKeys;
  if (keys && distinct!.length === refs!.length && stored?.length === keys.length && keys.every((k, i) => stored[i] === k)) return record;
  const out = (Object.isFrozen(record) ? { ...record } : record) as { externalRefs?: readonly ExternalRef[]; externalKeys?: readonly string[] };
  if (keys) {
    if (distinct!.length !== refs!.length) out.externalRefs = distinct;
    out.externalKeys = keys;
  } else {
    delete out.externalKeys;
    delete out.externalRefs;
  }
  return out as T;
}
