import type { Operation } from '../crm/operation.js';
import { distinctRefs } from '../domain/external-keys.js';
import { validationError } from '../errors/crm-error.js';
import type { ExternalRef } from '../schema/external-ref.js';
import type { MergeEntity } from '../schema/merge.js';

/** The fields of each card a merge may take from a duplicate (custom fields: `custom.<key>`). */
export const MERGEABLE: Readonly<Record<MergeEntity, readonly string[]>> = {
  contact: ['name', 'email', 'phone', 'jobTitle', 'companyId', 'ownerId', 'source', 'country', 'notes'],
  company: ['name', 'domain', 'website', 'phone', 'industry', 'country', 'ownerId', 'notes'],
  lead: ['name', 'companyName', 'email', 'phone', 'website', 'title', 'message', 'source', 'campaign', 'country', 'territory', 'ownerId', 'expectedValue', 'probability'],
};

type Card = Readonly<Record<string, unknown>> & { readonly id: string };

/**
 * Refuses `custom.<key>` choices naming no custom field the tenant defines for the entity (archived
 * ones included: their values are still stored); the shape alone is checked before the operation.
 *
 * @throws CrmError `VALIDATION` (`unknown_field` at `['fields', path]`), before anything is written.
 */
export async function checkCustomChoices(op: Operation, entity: MergeEntity, paths: readonly string[], context: string): Promise<void> {
  if (!paths.length) return;
  const defined = new Set(((await op.ctx.hooks.customFields?.definitions(op, entity)) ?? []).map((d) => `custom.${d.key}`));
  const unknown = paths.filter((p) => !defined.has(p));
  if (unknown.length) throw validationError(context, unknown.map((p) => ({ path: ['fields', p], code: 'unknown_field', message: `${entity} has no custom field "${p.slice(7)}"` })));
}

const isEmpty = (value: unknown) => value === undefined || value === null || value === '';

/** The later of two optional ISO timestamps. */
const later = (a: unknown, b: unknown) => (typeof a !== 'string' ? b : typeof b !== 'string' ? a : a > b ? a : b);

/**
 * The survivor's fields after a merge (pure): each field in `choices` from the record it names, the
 * empty ones from the first duplicate that has a value when `fillEmpty`, tags and external refs as
 * the union (survivor's first), the latest interaction, and a contact's lead link when it had none.
 *
 * @param choices Field path → the record to take it from (already checked to be in the merge).
 * @returns The fields to write (without version bookkeeping) and where each changed field came from.
 */
export function mergeFields(
  entity: MergeEntity,
  survivor: Card,
  duplicates: readonly Card[],
  choices: ReadonlyMap<string, Card>,
  fillEmpty: boolean,
): { next: Record<string, unknown>; sources: Record<string, string> } {
  const next: Record<string, unknown> = { ...survivor };
  const custom: Record<string, unknown> = { ...((survivor.custom as Record<string, unknown> | undefined) ?? {}) };
  const sources: Record<string, string> = {};
  const take = (target: Record<string, unknown>, key: string, path: string, from: Card, value: unknown) => {
    if (value === undefined) delete target[key];
    else target[key] = value;
    if (from.id !== survivor.id) sources[path] = from.id;
  };
  const customKeys = new Set(Object.keys(custom));
  for (const d of duplicates) for (const key of Object.keys((d.custom as object | undefined) ?? {})) customKeys.add(key);
  const fields: [target: Record<string, unknown>, key: string, path: string, read: (card: Card) => unknown][] = [
    ...MERGEABLE[entity].map((key) => [next, key, key, (card: Card) => card[key]] as [Record<string, unknown>, string, string, (card: Card) => unknown]),
    ...[...customKeys].map((key) => [custom, key, `custom.${key}`, (card: Card) => (card.custom as Record<string, unknown> | undefined)?.[key]] as [Record<string, unknown>, string, string, (card: Card) => unknown]),
  ];
  for (const [target, key, path, read] of fields) {
    const chosen = choices.get(path);
    if (chosen) take(target, key, path, chosen, read(chosen));
    else if (fillEmpty && isEmpty(read(survivor))) {
      const donor = duplicates.find((d) => !isEmpty(read(d)));
      if (donor) take(target, key, path, donor, read(donor));
    }
  }
  next.custom = custom;
  const all = [survivor, ...duplicates];
  next.tags = [...new Set(all.flatMap((c) => (c.tags as string[] | undefined) ?? []))];
  const refs = distinctRefs(all.flatMap((c) => (c.externalRefs as ExternalRef[] | undefined) ?? []));
  if (refs.length) next.externalRefs = refs;
  else delete next.externalRefs;
  if (entity !== 'lead') {
    const last = all.reduce<unknown>((acc, c) => later(acc, c.lastInteractionAt), undefined);
    if (last !== undefined) next.lastInteractionAt = last;
  }
  if (entity === 'contact' && !next.leadId) {
    const leadId = duplicates.find((d) => d.leadId)?.leadId;
    if (leadId) next.leadId = leadId;
  }
  return { next, sources };
}
