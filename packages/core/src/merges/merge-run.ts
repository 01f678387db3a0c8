import type { Operation } from '../crm/operation.js';
import { assertExpectedVersion } from '../crm/versioning.js';
import { lockRecords } from '../crm/references.js';
import { deepEqual } from '../domain/draft.js';
import { diffRecords } from '../domain/records.js';
import { CrmError, notFound, ruleViolation, type RuleViolation } from '../errors/crm-error.js';
import type { CrmEventName, FieldChanges } from '../events/event-map.js';
import { LIMITS } from '../schema/primitives.js';
import type { RecordBase } from '../schema/record.js';
import { checkCustomChoices, mergeFields } from './merge-fields.js';
import { LINKS, planLinks, readAll, readPath, writeLinks, type PlannedRecord } from './merge-links.js';
import { indexMoves } from '../crm/index-moves.js';
import type { MergeEntity, MergeRecord, MergeResult, RestoredVersion, UndoResult } from '../schema/merge.js';

type Card = RecordBase & Record<string, unknown>;

/** The parsed arguments of a merge (ids checked, `fields` resolved to record ids). */
export interface MergeCommand {
  readonly entity: MergeEntity;
  readonly survivorId: string;
  readonly duplicateIds: readonly string[];
  /** Field path → the id of the record to take it from (the survivor's own entries dropped). */
  readonly fields: ReadonlyMap<string, string>;
  /** Every `custom.<key>` path `fields` named (the survivor's own entries too): checked against the tenant's definitions. */
  readonly customPaths?: readonly string[];
  /** The method's name in errors (`merges.contacts`). */
  readonly context?: string;
  readonly fillEmpty: boolean;
  readonly version?: number;
}

/** The survivor with its duplicate-search keys recomputed (the duplicates feature), or as it is. */
async function withSearchKeys(op: Operation, entity: MergeEntity, card: Card): Promise<Card> {
  const duplicates = op.ctx.hooks.duplicates;
  const identity = duplicates && (await duplicates.identity(op));
  return duplicates && identity ? { ...card, searchKeys: duplicates.keys(entity === 'company' ? 'company' : 'person', card, identity) } : card;
}

/** The field paths a change writes, for field rules: a custom value as `custom.<key>`. */
function writtenFields(changes: FieldChanges): string[] {
  return Object.entries(changes).flatMap(([key, { from, to }]) => {
    if (key !== 'custom') return [key];
    const [a, b] = [(from ?? {}) as Record<string, unknown>, (to ?? {}) as Record<string, unknown>];
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => !deepEqual(a[k], b[k])).map((k) => `custom.${k}`);
  });
}

/**
 * A view's checks on the survivor a merge or an undo rewrites (one path for both): as for `update`,
 * the fields it changes must be writable and a change of owner needs `assign` (else the record stays
 * in the update scope); and the view must read it afterwards, since the call returns it.
 *
 * @returns The changes.
 * @throws CrmError `FORBIDDEN`.
 */
function checkSurvivorWrite(op: Operation, entity: MergeEntity, before: Card, after: Card, context: string): FieldChanges {
  const changes = diffRecords(before, after);
  const guard = op.guard;
  if (!guard) return changes;
  guard.checkWriteFields(entity, writtenFields(changes), context);
  guard.checkWritten(entity, 'update', before, after);
  if (!guard.canRead(entity, after)) {
    const reason = `the ${entity} would leave what you may read`;
    throw new CrmError('FORBIDDEN', `${context}: ${guard.principal.userId} may not write ${entity} ${before.id}: ${reason}`, { action: `${entity}.update`, reason, entity, id: before.id });
  }
  return changes;
}

/** A record a merge or undo returns, as the view may see it (field-projected; it may read the record: `checkSurvivorWrite`). */
const shown = (op: Operation, entity: MergeEntity, record: Card): Card => (op.guard ? op.guard.project(entity, record) : record);

/**
 * The survivor's `<entity>.updated`, as an ordinary update records it (the changed fields, old and new
 * values; refs to the records it links to): consumers, webhooks and automation rules watching updates
 * see what a merge or its undo changed. The `.merged` / `.mergeUndone` event tells why.
 */
function recordUpdate(op: Operation, entity: MergeEntity, card: Card, changes: object): void {
  const refs = (['company', 'lead'] as const).flatMap((type) => (typeof card[`${type}Id`] === 'string' ? [{ type, id: card[`${type}Id`] as string }] : []));
  op.record(`${entity}.updated` as CrmEventName, { type: entity, id: card.id }, { changes } as never, refs);
}

/**
 * Merges duplicates into a survivor inside one operation: checks (access, versions), deletes the
 * duplicates, writes the survivor (recording `<entity>.updated` when a field changed), re-points every
 * link, writes the merge log, records the events.
 */
export async function runMerge(op: Operation, command: MergeCommand): Promise<MergeResult<Card>> {
  const { entity, survivorId, duplicateIds } = command;
  // Locked before they are read (one call: one order): a write linking to one of them, its remove or
  // another merge of it waits for this merge, or this merge for it, and then reads what it committed.
  await lockRecords(op, [survivorId, ...duplicateIds].map((id) => ({ entity, id })));
  await checkCustomChoices(op, entity, command.customPaths ?? [], command.context ?? 'merges');
  const survivor = await op.requireFor<Card>(entity, survivorId, 'update');
  assertExpectedVersion(entity, survivor, command.version);
  const duplicates: Card[] = [];
  for (const id of duplicateIds) duplicates.push(await op.requireFor<Card>(entity, id, 'delete'));
  const byId = new Map([survivor, ...duplicates].map((c) => [c.id, c]));
  const choices = new Map([...command.fields].map(([path, id]) => [path, byId.get(id)!]));
  const { next, sources } = mergeFields(entity, survivor, duplicates, choices, command.fillEmpty);
  const violations = [];
  if ((next.tags as string[]).length > LIMITS.tags) violations.push({ rule: 'merge.tooManyTags', message: `the merged record would have ${(next.tags as string[]).length} tags (at most ${LIMITS.tags})` });
  if (((next.externalRefs as unknown[] | undefined)?.length ?? 0) > 20) violations.push({ rule: 'merge.tooManyExternalRefs', message: 'the merged record would have more than 20 external refs' });
  if (violations.length) throw ruleViolation(violations);
  const revised = await withSearchKeys(op, entity, { ...(next as Card), version: survivor.version + 1, updatedAt: op.now });
  // Writing a field from a duplicate is writing it: the view's field rules apply.
  const changes = checkSurvivorWrite(op, entity, survivor, revised, `merges.${entity}`);
  // Duplicates go first: their external refs move to the survivor, and each ref has one holder.
  for (const duplicate of duplicates) {
    await op.remove(entity, duplicate);
    // Consumers mirroring records (an ERP, webhooks, devices) learn of the deletion the usual way; the
    // duplicate's own timeline stays readable from this event.
    op.record(`${entity}.removed` as CrmEventName, { type: entity, id: duplicate.id }, { [entity]: duplicate } as never);
  }
  // Written even when no field changes (a new version): the merge changes its links and timeline, and a
  // concurrent write of it (an update, a remove) fails its version check instead of passing unseen.
  const stored = await op.update(entity, survivor, revised);
  const subject = { type: entity, id: survivorId };
  if (Object.keys(changes).length) recordUpdate(op, entity, stored, changes);
  const plan = await planLinks(op, entity, survivorId, duplicateIds);
  // Re-pointing a linked record changes it: a view needs update on it, as for any edit (events and
  // activities are logs with no update action: the merge's own rights cover their references).
  for (const linked of plan) if (linked.entity !== 'event' && linked.entity !== 'activity') op.guard?.authorize(linked.entity, 'update', linked.row);
  const links = await writeLinks(op, plan, subject);
  const merge: MergeRecord<Card> = {
    id: op.newId('merge'),
    tenantId: op.tenantId,
    version: 1,
    createdAt: op.now,
    updatedAt: op.now,
    entity,
    survivorId,
    duplicateIds: [...duplicateIds],
    status: 'merged',
    ...(op.ctx.actor ? { actorId: op.ctx.actor.userId } : {}),
    fields: sources,
    survivorBefore: survivor,
    survivorVersionAfter: stored.version,
    duplicates,
    links,
  };
  await op.insert('merge', merge);
  op.record(`${entity}.merged` as CrmEventName, subject, { mergeId: merge.id, duplicateIds: [...duplicateIds], changes, links: links.length } as never, duplicateIds.map((id) => ({ type: entity, id })));
  return { survivor: shown(op, entity, stored), merge };
}

/** `CONFLICT` for an undo that would overwrite a change made since the merge. */
function changedSince(merge: MergeRecord, entity: string, id: string, expected: number | null, actual: number | null, reason = 'changedSinceMerge'): CrmError<'CONFLICT'> {
  const what = reason === 'mergeUndone' ? `merge ${merge.id} was undone already` : `${entity} ${id} changed since the merge (version ${expected ?? 'none'} then, ${actual ?? 'none'} now)`;
  return new CrmError('CONFLICT', `Cannot undo merge ${merge.id}: ${what}`, { entity, id, expectedVersion: expected, actualVersion: actual, reason, mergeId: merge.id });
}

/** The records the survivor and duplicates an undo restores link to (a contact's company, a lead's converted contact, …), but for those it restores. */
function restoredLinks(merge: MergeRecord<Card>): { entity: string; id: string; record: string; field: string }[] {
  const restoring = new Set([merge.survivorId, ...merge.duplicateIds]);
  const wanted: { entity: string; id: string; record: string; field: string }[] = [];
  for (const record of [merge.survivorBefore, ...merge.duplicates]) {
    for (const [target, links] of Object.entries(LINKS)) {
      for (const [entity, field] of links) {
        if (entity !== merge.entity) continue;
        const id = readPath(record, field);
        if (typeof id === 'string' && !(target === merge.entity && restoring.has(id))) wanted.push({ entity: target, id, record: record.id, field });
      }
    }
  }
  return wanted;
}

/**
 * `RULE_VIOLATION` (`merge.undoMissingReference`) when a record the undo would bring back links to a
 * record deleted since: restoring it would leave a dangling link. Records restored by this undo count as present.
 */
async function checkRestoredLinks(op: Operation, merge: MergeRecord<Card>): Promise<void> {
  const wanted = restoredLinks(merge);
  const violations: RuleViolation[] = [];
  for (const target of new Set(wanted.map((w) => w.entity))) {
    const list = wanted.filter((w) => w.entity === target);
    const rows = await op.getMany(target, list.map((w) => w.id));
    list.forEach((w, i) => {
      if (!rows[i]) {
        violations.push({ rule: 'merge.undoMissingReference', message: `${merge.entity} ${w.record} would link to ${target} ${w.id} (${w.field}), which was deleted since the merge`, data: { entity: merge.entity, id: w.record, field: w.field, missing: { entity: target, id: w.id } } });
      }
    });
  }
  if (violations.length) throw ruleViolation(violations);
}

/**
 * Whether a record is as a merge left it: at the version the merge left, or at a version a later
 * merge's undo wrote back with that same content (followed through chains of undone merges), or one a
 * backfill of derived fields moved it to (`recordIndexMoves`: participants' index, search keys, access fields).
 */
async function sameSince(op: Operation, merge: MergeRecord): Promise<(entity: string, id: string, expected: number, actual: number) => boolean> {
  const later = await readAll(op, 'merge', { op: 'and', filters: [{ op: 'eq', field: 'status', value: 'undone' }, { op: 'gte', field: 'createdAt', value: merge.createdAt }] });
  // Backfills of derived fields moved some records one version on (an index only): followed the same way.
  const moved = new Map<string, number>(await indexMoves(op));
  for (const undone of later as unknown as MergeRecord[]) for (const r of undone.restored ?? []) moved.set(`${r.entity}:${r.id}:${r.from}`, r.to);
  return (entity, id, expected, actual) => {
    let version: number | undefined = expected;
    // Versions only grow, so the chain ends.
    while (version !== undefined && version !== actual) version = moved.get(`${entity}:${id}:${version}`);
    return version === actual;
  };
}

/**
 * Undoes a merge inside one operation: refuses (`CONFLICT`, nothing written) when the merge was undone
 * already or any record it touched has another version now; else re-points the links back, restores
 * the survivor and re-creates the duplicates (new versions), marks the log entry `undone`.
 */
export async function runUndo(op: Operation, mergeId: string): Promise<UndoResult<Card>> {
  const logged = await op.require<MergeRecord<Card>>('merge', mergeId);
  // Locked as the merge locks them, with the records the restored ones link to (see `lockRecords`);
  // the entry is read again under the locks (a concurrent undo of it has committed, or waits).
  await lockRecords(op, [...[logged.survivorId, ...logged.duplicateIds].map((id) => ({ entity: logged.entity, id })), ...restoredLinks(logged)]);
  const merge = await op.require<MergeRecord<Card>>('merge', mergeId);
  const { entity } = merge;
  // The undo acts on the survivor: a view must be able to read it (NOT_FOUND otherwise, as for any hidden record).
  const current = await op.get<Card>(entity, merge.survivorId);
  if (current && op.guard && !op.guard.canRead(entity, current)) throw notFound('merge', mergeId);
  if (merge.status !== 'merged') throw changedSince(merge, 'merge', merge.id, 1, merge.version, 'mergeUndone');
  const same = await sameSince(op, merge);
  if (!current || !same(entity, current.id, merge.survivorVersionAfter, current.version)) throw changedSince(merge, entity, merge.survivorId, merge.survivorVersionAfter, current?.version ?? null);
  op.guard?.authorize(entity, 'update', current);
  // Putting the survivor back is writing it: the merge's checks (field rules, assign, read after).
  // Search keys are derived: computed with today's identity options, not taken from the snapshots.
  const survivor = await withSearchKeys(op, entity, { ...merge.survivorBefore, version: current.version + 1, updatedAt: op.now });
  const changes = checkSurvivorWrite(op, entity, current, survivor, 'merges.undo');
  const restored: Card[] = [];
  for (const d of merge.duplicates) restored.push(await withSearchKeys(op, entity, { ...d, version: d.version + 1, updatedAt: op.now }));
  // The undo re-creates the duplicates: a view needs create on each. One it cannot read is refused
  // without its id (the merge log hides it from the view; an error naming it would tell).
  for (const duplicate of restored) {
    if (op.guard && !op.guard.canRead(entity, duplicate)) {
      const reason = `the merge removed a ${entity} you cannot read; undoing it would restore that record`;
      throw new CrmError('FORBIDDEN', `${op.guard.principal.userId} may not undo merge ${merge.id}: ${reason}`, { action: `${entity}.create`, reason, entity });
    }
    op.guard?.checkWritten(entity, 'create', undefined, duplicate);
  }
  const stored = await op.getMany<Card>(entity, merge.duplicateIds);
  stored.forEach((row, i) => {
    if (row) throw changedSince(merge, entity, merge.duplicateIds[i]!, null, row.version);
  });
  await checkRestoredLinks(op, merge);
  // What this undo writes back, for an earlier merge's undo.
  const restoredVersions: RestoredVersion[] = [];
  // Each linked record must be as the merge left it; one write per record puts all its fields back.
  const planned = new Map<string, PlannedRecord>();
  for (const link of merge.links) {
    const key = `${link.entity}:${link.id}`;
    let entry = planned.get(key);
    if (!entry) {
      const row = await op.get<Card>(link.entity, link.id);
      // A pruned event is gone from the log, not changed: there is nothing to point back.
      if (!row && link.entity === 'event') continue;
      if (!row || !same(link.entity, link.id, link.versionAfter, row.version)) throw changedSince(merge, link.entity, link.id, link.versionAfter, row?.version ?? null);
      // Pointing a record back changes it: a view needs update on it, as for the merge (events and
      // activities are logs: the undo's rights on the cards cover their references).
      if (link.entity !== 'event' && link.entity !== 'activity') op.guard?.authorize(link.entity, 'update', row);
      planned.set(key, (entry = { entity: link.entity, row, set: new Map() }));
      // One write per record (here and in the merge): the version before the merge is one less than the one it left.
      restoredVersions.push({ entity: link.entity, id: link.id, from: link.versionAfter - 1, to: row.version + 1 });
    }
    entry.set.set(link.field, link.from);
  }
  const subject = { type: entity, id: merge.survivorId };
  await writeLinks(op, [...planned.values()], subject, restored);
  // Written even when no field changes back, as the merge writes it (a new version, version-checked).
  const back = await op.update(entity, current, survivor);
  if (Object.keys(changes).length) recordUpdate(op, entity, back, changes);
  for (const duplicate of restored) {
    await op.insert(entity, duplicate);
    // `restoredBy`: back, not new — automation does not take it for an arrival (no second welcome).
    op.record(`${entity}.created` as CrmEventName, { type: entity, id: duplicate.id }, { [entity]: duplicate, restoredBy: mergeId } as never);
  }
  restoredVersions.push({ entity, id: current.id, from: merge.survivorBefore.version, to: back.version });
  restoredVersions.push(...merge.duplicates.map((d) => ({ entity, id: d.id, from: d.version, to: d.version + 1 })));
  const undone: MergeRecord<Card> = { ...merge, status: 'undone', restored: restoredVersions, version: merge.version + 1, updatedAt: op.now, undoneAt: op.now, ...(op.ctx.actor ? { undoneBy: op.ctx.actor.userId } : {}) };
  await op.update('merge', merge, undone);
  op.record(`${entity}.mergeUndone` as CrmEventName, subject, { mergeId, restoredIds: [...merge.duplicateIds], changes } as never, merge.duplicateIds.map((id) => ({ type: entity, id })));
  return { survivor: shown(op, entity, back), duplicates: restored.map((d) => shown(op, entity, d)), merge: undone };
}

