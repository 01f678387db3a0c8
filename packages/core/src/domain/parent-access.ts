/** The record kinds users own and share; tasks, activities and stage visits follow one of them. */
export const PARENT_TYPES = ['deal', 'lead', 'contact', 'company'] as const;
export type ParentType = (typeof PARENT_TYPES)[number];

/** The link field of each parent type on a child record. */
export const PARENT_LINKS: Readonly<Record<ParentType, 'dealId' | 'leadId' | 'contactId' | 'companyId'>> = {
  deal: 'dealId',
  lead: 'leadId',
  contact: 'contactId',
  company: 'companyId',
};

/** Entities whose rows follow a parent for visibility. */
export const CHILD_ENTITIES = ['task', 'activity', 'stageVisit'] as const;

/** The access fields a child copies from its parent (see `parentAccessShape`). */
export interface ParentAccess {
  readonly parentOwner?: string;
  readonly parentShareKeys?: readonly string[];
}

/** Reads an optional string field of any record. */
function field(record: object, name: string): string | undefined {
  const value = (record as Record<string, unknown>)[name];
  return typeof value === 'string' ? value : undefined;
}

function keysOf(record: object, name: string): readonly string[] | undefined {
  const value = (record as Record<string, unknown>)[name];
  return Array.isArray(value) ? (value as string[]) : undefined;
}

/**
 * The record a child follows: its most specific link — the deal, else the lead, else the contact,
 * else the company. A task of a deal follows the deal even when it also names the deal's contact.
 */
export function primaryParent(child: object): { readonly type: ParentType; readonly id: string } | undefined {
  for (const type of PARENT_TYPES) {
    const id = field(child, PARENT_LINKS[type]);
    if (id) return { type, id };
  }
  return undefined;
}

/** The access fields of a child of `type` whose parent is `parent` (missing parent: unowned). */
export function parentAccessOf(type: ParentType, parent: object | undefined): ParentAccess {
  const owner = `${type}:${(parent && field(parent, 'ownerId')) ?? ''}`;
  const keys = parent && keysOf(parent, 'shareKeys');
  return keys && keys.length ? { parentOwner: owner, parentShareKeys: [...keys] } : { parentOwner: owner };
}

function sameKeys(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((k, i) => k === y[i]);
}

/** Whether a parent's owner or shares changed, so its children's copies must follow. */
export function parentAccessChanged(before: object, after: object): boolean {
  return field(before, 'ownerId') !== field(after, 'ownerId') || !sameKeys(keysOf(before, 'shareKeys'), keysOf(after, 'shareKeys'));
}

/** Whether a child's copy differs from `access`. */
export function differsFrom(child: object, access: ParentAccess): boolean {
  return field(child, 'parentOwner') !== access.parentOwner || !sameKeys(keysOf(child, 'parentShareKeys'), access.parentShareKeys);
}

/** The child with `access` copied in (a new object; `parentShareKeys` dropped when empty). */
export function withAccess<T extends object>(child: T, access: ParentAccess): T {
  const next = { ...child, parentOwner: access.parentOwner } as T & { parentShareKeys?: readonly string[] };
  if (access.parentShareKeys) next.parentShareKeys = access.parentShareKeys;
  else delete next.parentShareKeys;
  return next;
}
