import type { Operation } from '../crm/operation.js';
import { CHILD_ENTITIES } from '../domain/parent-access.js';
import { withParticipantIds } from '../domain/participant-ids.js';
import { participantsIndexed, unindexedParticipations } from './participant-index.js';
import { diffRecords } from '../domain/records.js';
import type { CrmEventName } from '../events/event-map.js';
import type { Filter } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { MergeEntity, MergeLink } from '../schema/merge.js';
import { withParentAccess } from '../crm/feature-writes.js';

/**
 * Every field that links a record to a lead, contact or company, by the entity linked to — found by
 * reading the schemas: deals, tasks and activities name their contact, company and lead; contacts
 * their company and source lead; a converted lead its contact and company. Activity participants
 * (found by `participantContactIds`) and the event log's `refs` (what timelines read) are handled apart.
 */
export const LINKS: Readonly<Record<MergeEntity, readonly (readonly [entity: string, field: string])[]>> = {
  contact: [['deal', 'contactId'], ['task', 'contactId'], ['activity', 'contactId'], ['lead', 'converted.contactId']],
  company: [['contact', 'companyId'], ['deal', 'companyId'], ['task', 'companyId'], ['activity', 'companyId'], ['lead', 'converted.companyId']],
  lead: [['contact', 'leadId'], ['deal', 'leadId'], ['task', 'leadId'], ['activity', 'leadId']],
};

/** Entities whose re-pointed records get a `<entity>.updated` event (activities and events have none). */
const UPDATE_EVENTS = new Set(['deal', 'task', 'contact', 'lead', 'company']);

type Row = RecordBase & Record<string, unknown>;

export function readPath(row: object, path: string): unknown {
  let value: unknown = row;
  for (const key of path.split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/** A copy of `row` with `path` set (`undefined` removes the field). */
export function writePath<T extends object>(row: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.') as [string, ...string[]];
  const out = { ...row } as Record<string, unknown>;
  const next = rest.length ? writePath((out[head] as object | undefined) ?? {}, rest.join('.'), value) : value;
  if (next === undefined) delete out[head];
  else out[head] = next;
  return out as T;
}

/** Reads every row of `entity` a filter selects, page by page (all of them: a merge must miss none). */
export async function readAll(op: Operation, entity: string, filter: Filter): Promise<Row[]> {
  const out: Row[] = [];
  let after: string | undefined;
  do {
    const page = await op.query<Row>(entity, { filter, sort: [{ field: 'id' }], limit: 500, ...(after ? { after } : {}) });
    out.push(...page.rows);
    after = page.nextCursor;
  } while (after);
  return out;
}

/** Changes planned for one record: field path → new value. */
export interface PlannedRecord {
  readonly entity: string;
  readonly row: Row;
  readonly set: Map<string, unknown>;
}

/**
 * Finds everything linked to the duplicates and plans re-pointing it to the survivor: link fields,
 * activity participants (contacts), and the event log's `refs` (the survivor's key is added, the
 * duplicate's kept, so the history reads the same from either side). Every link is found in stored
 * records through their indexes, never through the change feed: a host may prune it.
 */
export async function planLinks(op: Operation, entity: MergeEntity, survivorId: string, duplicateIds: readonly string[]): Promise<PlannedRecord[]> {
  const planned = new Map<string, PlannedRecord>();
  const plan = (linked: string, row: Row, field: string, value: unknown) => {
    const key = `${linked}:${row.id}`;
    let entry = planned.get(key);
    if (!entry) planned.set(key, (entry = { entity: linked, row, set: new Map() }));
    entry.set.set(field, value);
  };
  const dups = new Set(duplicateIds);
  for (const [linked, field] of LINKS[entity]) {
    for (const row of await readAll(op, linked, { op: 'in', field, values: [...duplicateIds] })) plan(linked, row, field, survivorId);
  }
  const survivorKey = `${entity}:${survivorId}`;
  for (const event of await readAll(op, 'event', { op: 'containsAny', field: 'refs', values: duplicateIds.map((id) => `${entity}:${id}`) })) {
    const refs = event.refs as string[];
    if (!refs.includes(survivorKey)) plan('event', event, 'refs', [...refs, survivorKey]);
  }
  if (entity === 'contact') {
    const indexed = await readAll(op, 'activity', { op: 'containsAny', field: 'participantContactIds', values: [...duplicateIds] });
    // Until the schema-10 backfill is done, activities stored before it may list the duplicates without the index.
    if (!(await participantsIndexed(op))) indexed.push(...((await unindexedParticipations(op, dups)) as Row[]));
    for (const row of indexed) {
      const participants = row.participants as { contactId?: string }[] | undefined;
      if (!participants?.some((p) => p.contactId && dups.has(p.contactId))) continue;
      // A participant listed as a duplicate and as the survivor is listed once.
      const seen = new Set<string>();
      const next = participants
        .map((p) => (p.contactId && dups.has(p.contactId) ? { ...p, contactId: survivorId } : p))
        .filter((p) => !p.contactId || (!seen.has(p.contactId) && !!seen.add(p.contactId)));
      const key = `activity:${row.id}`;
      plan('activity', planned.get(key)?.row ?? row, 'participants', next);
    }
  }
  return [...planned.values()];
}

/**
 * Writes planned link changes (versioned, one write per record; children re-derive the owner and
 * shares they copy from their parent) and records `<entity>.updated` for the record kinds that have
 * it. `known`: parents not stored yet (duplicates being restored).
 *
 * @returns The links as the merge log keeps them (`from`: the value before).
 */
export async function writeLinks(op: Operation, records: readonly PlannedRecord[], subject: { type: string; id: string }, known: readonly RecordBase[] = []): Promise<MergeLink[]> {
  const links: MergeLink[] = [];
  for (const { entity, row, set } of records) {
    let next: Row = { ...row, version: row.version + 1, updatedAt: op.now };
    for (const [field, value] of set) next = writePath(next, field, value);
    // The participants' index follows them (the merge and its undo); an activity stored before the index gets it.
    if (entity === 'activity') next = withParticipantIds(next);
    if ((CHILD_ENTITIES as readonly string[]).includes(entity)) next = (await withParentAccess(op, [next], known))[0]!;
    await op.update(entity, row, next);
    for (const field of set.keys()) links.push({ entity, id: row.id, field, from: readPath(row, field), versionAfter: next.version });
    if (UPDATE_EVENTS.has(entity)) {
      op.record(`${entity}.updated` as CrmEventName, { type: entity, id: row.id }, { changes: diffRecords(row, next, ['parentOwner', 'parentShareKeys']) } as never, [subject]);
    }
  }
  return links;
}
