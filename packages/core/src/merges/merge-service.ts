import { concealHiddenDuplicates } from './conceal-links.js';
import * as z from 'zod/mini';
import type { CrmContext } from '../crm/context.js';
import type { Page } from '../crm/list-options.js';
import { runRead, runWrite, type Operation } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { versionOptionSchema } from '../crm/versioning.js';
import { notFound, validationError, type ValidationIssue } from '../errors/crm-error.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import type { Lead } from '../schema/lead.js';
import { idSchema, int, LIMITS } from '../schema/primitives.js';
import type { RecordBase } from '../schema/record.js';
import { decodeCursor } from '../query/cursor.js';
import { MERGE_SERVICES } from '../crm/merge-via.js';
import { MERGEABLE } from './merge-fields.js';
import { runMerge, runUndo, type MergeCommand } from './merge-run.js';
import type { MergeEntity, MergeListOptions, MergeOptions, MergeRecord, MergeResult, UndoResult } from '../schema/merge.js';

/** At most this many duplicates per merge (a merge is one transaction). */
const MAX_DUPLICATES = 50;

const optionsSchema = z.strictObject({
  fields: z.optional(z.record(z.string(), z.string())),
  fillEmpty: z.optional(z.boolean()),
  version: versionOptionSchema,
});

const listSchema = z.strictObject({
  survivorId: z.optional(idSchema),
  limit: z.optional(z.number().check(int(), z.gte(1), z.lte(LIMITS.listLimit))),
  cursor: z.optional(z.string()),
});

const CUSTOM_KEY = /^custom\.[a-z][a-zA-Z0-9_]{0,47}$/;

/** Checks a merge's arguments before any storage is touched: `VALIDATION` with every problem at its path. */
function parseMerge(entity: MergeEntity, survivorId: unknown, duplicateIds: unknown, options: unknown, context: string): MergeCommand {
  const survivor = parseId(survivorId, context, 'survivorId');
  const parsed = parseInput(optionsSchema, options ?? {}, context);
  const issues: ValidationIssue[] = [];
  const ids: string[] = [];
  if (!Array.isArray(duplicateIds)) {
    issues.push({ path: ['duplicateIds'], code: 'invalid_type', message: 'must be an array of record ids' });
  } else if (duplicateIds.length === 0) {
    issues.push({ path: ['duplicateIds'], code: 'too_small', message: 'must list at least one duplicate' });
  } else if (duplicateIds.length > MAX_DUPLICATES) {
    issues.push({ path: ['duplicateIds'], code: 'too_big', message: `at most ${MAX_DUPLICATES} duplicates per merge` });
  } else {
    duplicateIds.forEach((id: unknown, i) => {
      if (typeof id !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(id)) issues.push({ path: ['duplicateIds', i], code: 'invalid_format', message: 'must be a record id' });
      else if (id === survivor) issues.push({ path: ['duplicateIds', i], code: 'self_merge', message: 'is the survivor: a record cannot be merged with itself' });
      else if (ids.includes(id)) issues.push({ path: ['duplicateIds', i], code: 'duplicate', message: 'is listed twice' });
      else ids.push(id);
    });
  }
  const fields = new Map<string, string>();
  const customPaths: string[] = [];
  for (const [path, from] of Object.entries(parsed.fields ?? {})) {
    if (CUSTOM_KEY.test(path)) customPaths.push(path);
    if (!MERGEABLE[entity].includes(path) && !CUSTOM_KEY.test(path)) {
      issues.push({ path: ['fields', path], code: 'unknown_field', message: `is not a field a ${entity} merge can choose (${MERGEABLE[entity].join(', ')}, custom.<key>)` });
    } else if (from !== 'survivor' && from !== survivor && !ids.includes(from)) {
      issues.push({ path: ['fields', path], code: 'not_in_merge', message: `must be 'survivor' or the id of a record in the merge, not "${from}"` });
    } else if (from !== 'survivor' && from !== survivor) fields.set(path, from);
  }
  if (issues.length) throw validationError(context, issues);
  return { entity, survivorId: survivor, duplicateIds: ids, fields, customPaths, context, fillEmpty: parsed.fillEmpty ?? false, ...(parsed.version === undefined ? {} : { version: parsed.version }) };
}

/**
 * In a view: a merge log entry with only what the principal may read — snapshots (field-projected),
 * ids and field sources of duplicates it can read, and links to records (and events) it can read now,
 * their `from` without ids of duplicates it cannot read.
 */
async function projected<T extends RecordBase>(op: Operation, merge: MergeRecord<T>): Promise<MergeRecord<T>> {
  const guard = op.guard;
  if (!guard) return merge;
  const fieldRules = guard.hasFieldRules(merge.entity);
  const readable = merge.duplicates.filter((d) => guard.canRead(merge.entity, d));
  const shown = new Set([merge.survivorId, ...readable.map((d) => d.id)]);
  const byEntity = new Map<string, string[]>();
  for (const link of merge.links) byEntity.set(link.entity, [...(byEntity.get(link.entity) ?? []), link.id]);
  const visibleLinks = new Set<string>();
  for (const [entity, ids] of byEntity) {
    const unique = [...new Set(ids)];
    const rows = await op.getMany<RecordBase>(entity, unique);
    if (entity === 'event') {
      const judged = op.ctx.hooks.access ? await op.ctx.hooks.access.judgeEvents(guard, rows.filter((r) => r !== undefined) as never, (e, list) => op.getMany(e, list)) : [];
      for (const event of judged) if (event) visibleLinks.add(`event:${(event as { id: string }).id}`);
      continue;
    }
    unique.forEach((id, i) => {
      const row = rows[i];
      if (row ? guard.canRead(entity, row) : guard.reachesAll(entity, 'read')) visibleLinks.add(`${entity}:${id}`);
    });
  }
  return {
    ...merge,
    ...(fieldRules ? { survivorBefore: guard.project(merge.entity, merge.survivorBefore) } : {}),
    duplicateIds: merge.duplicateIds.filter((id) => shown.has(id)),
    duplicates: fieldRules ? readable.map((d) => guard.project(merge.entity, d)) : readable,
    fields: Object.fromEntries(Object.entries(merge.fields).filter(([, from]) => shown.has(from))),
    links: concealHiddenDuplicates(merge.links.filter((l) => visibleLinks.has(`${l.entity}:${l.id}`)), new Set(merge.duplicateIds.filter((id) => !shown.has(id)))),
  };
}

/** Whether a view may see a merge: it reads the survivor (a removed survivor: it reads every record of the kind). */
async function visible(op: Operation, merge: MergeRecord): Promise<boolean> {
  if (!op.guard) return true;
  const survivor = await op.get(merge.entity, merge.survivorId);
  return survivor ? op.guard.canRead(merge.entity, survivor) : op.guard.reachesAll(merge.entity, 'read');
}

/**
 * Merging duplicate leads, contacts and companies, with undo (the merges feature). `crm.merges`.
 *
 * A merge keeps one record (the survivor), takes the fields you choose from the duplicates, moves
 * their external refs and tags to it, re-points everything linked to them (deals, tasks, activities
 * and their participants, contacts of a company, converted leads, the event log the timelines read)
 * and deletes them — in one transaction, with a merge log entry that `undo` restores them from.
 */
export class MergeService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Merges duplicate contacts into a survivor.
   *
   * @param survivorId The contact that stays.
   * @param duplicateIds The contacts merged into it and deleted (1–50, not the survivor).
   * @param options `fields` (field or `custom.<key>` → the id of the record to take it from, or
   *   `'survivor'`), `fillEmpty` (take the survivor's empty fields from the duplicates), `version`.
   * @returns The survivor as stored and the merge log entry (`merge.id` undoes it).
   * @throws CrmError `VALIDATION` (no duplicates, the survivor among them, a field choice naming a
   *   record not in the merge or an unknown field, a `custom.<key>` the tenant does not define included); `NOT_FOUND` (an id the tenant has no contact for,
   *   another tenant's, a record of another kind); `CONFLICT` (`version` differs); `RULE_VIOLATION`
   *   (the union of tags or external refs exceeds its limit); `FORBIDDEN` in a view without `update`
   *   on the survivor or `delete` on a duplicate, or when the merge writes a field the view may not
   *   write, changes the owner without `assign` or leaves the survivor where the view cannot read it.
   *   In a view the result is field-projected.
   * @example
   * const { survivor, merge } = await crm.merges.contacts(ada.id, [adaAgain.id], { fields: { phone: adaAgain.id } });
   */
  async contacts(survivorId: string, duplicateIds: readonly string[], options?: MergeOptions): Promise<MergeResult<Contact>> {
    return mergeOf(this.ctx, 'contact', survivorId, duplicateIds, options) as Promise<MergeResult<Contact>>;
  }

  /**
   * Merges duplicate companies into a survivor (contacts, deals, tasks, activities and converted leads
   * of the duplicates move to it). Arguments, result and errors as `contacts`.
   *
   * @example
   * await crm.merges.companies(acme.id, [acmeGmbh.id], { fillEmpty: true });
   */
  async companies(survivorId: string, duplicateIds: readonly string[], options?: MergeOptions): Promise<MergeResult<Company>> {
    return mergeOf(this.ctx, 'company', survivorId, duplicateIds, options) as Promise<MergeResult<Company>>;
  }

  /**
   * Merges duplicate leads into a survivor (contacts and deals converted from them, their tasks and
   * activities move to it; the survivor keeps its status). Arguments, result and errors as `contacts`.
   *
   * @example
   * await crm.merges.leads(first.id, [second.id], { fields: { message: second.id } });
   */
  async leads(survivorId: string, duplicateIds: readonly string[], options?: MergeOptions): Promise<MergeResult<Lead>> {
    return mergeOf(this.ctx, 'lead', survivorId, duplicateIds, options) as Promise<MergeResult<Lead>>;
  }

  /**
   * Reads a merge log entry.
   *
   * @param mergeId The id a merge returned.
   * @returns The entry: snapshots, field sources, re-pointed links, status.
   * @throws CrmError `NOT_FOUND` (also in a view that cannot read the survivor).
   * @example
   * const entry = await crm.merges.get(merge.id);
   */
  async get(mergeId: string): Promise<MergeRecord> {
    const id = parseId(mergeId, 'merges.get');
    return runRead(this.ctx, async (op) => {
      const merge = await op.require<MergeRecord>('merge', id);
      if (!(await visible(op, merge))) throw notFound('merge', id);
      return await projected(op, merge);
    });
  }

  /**
   * Lists merges, newest first, optionally into one survivor. In a view, merges whose survivor it
   * cannot read are left out (a page may then hold fewer than `limit`; follow `nextCursor`).
   *
   * @param options `survivorId`, `limit` (1–1000, default 50), `cursor`.
   * @returns One page.
   * @throws CrmError `VALIDATION` for bad options.
   * @example
   * const { items } = await crm.merges.list({ survivorId: ada.id });
   */
  async list(options: MergeListOptions = {}): Promise<Page<MergeRecord>> {
    const parsed = parseInput(listSchema, options, 'merges.list');
    return runRead(this.ctx, async (op) => {
      const filter = parsed.survivorId ? { op: 'eq' as const, field: 'survivorId', value: parsed.survivorId } : undefined;
      const sort = [{ field: 'createdAt', direction: 'desc' as const }, { field: 'id', direction: 'desc' as const }];
      if (parsed.cursor) decodeCursor(parsed.cursor, sort); // a malformed cursor is VALIDATION, on every adapter
      const { rows, nextCursor } = await op.query<MergeRecord>('merge', {
        ...(filter ? { filter } : {}),
        sort,
        limit: parsed.limit ?? 50,
        ...(parsed.cursor ? { after: parsed.cursor } : {}),
      });
      const items: MergeRecord[] = [];
      for (const row of rows) if (await visible(op, row)) items.push(await projected(op, row));
      return nextCursor === undefined ? { items } : { items, nextCursor };
    });
  }

  /**
   * Undoes a merge: the duplicates come back as they were (new versions), the survivor returns to its
   * state before the merge, and every re-pointed link points at its duplicate again — in one transaction.
   *
   * @param mergeId The merge's id.
   * @returns The restored survivor and duplicates, and the log entry (now `undone`).
   * @throws CrmError `CONFLICT` when the merge was undone already (`details.reason: 'mergeUndone'`) or a
   *   record it touched changed since (`details.reason: 'changedSinceMerge'`, `entity`/`id` name it,
   *   with both versions) — nothing is restored then; `RULE_VIOLATION` (`merge.undoMissingReference`)
   *   when a restored record would link to a record deleted since; `NOT_FOUND` for an unknown merge; `FORBIDDEN` in
   *   a view without `update` on the survivor or on a record it points back, or `create` on a duplicate, or
   *   when putting the survivor back writes a field the view may not write, changes its owner without
   *   `assign`, or leaves it where the view cannot read it (the merge's checks). In a view the result is
   *   field-projected.
   *   A record a later merge's undo wrote back counts as unchanged, so merges undo in reverse order.
   * @example
   * await crm.merges.undo(merge.id);
   */
  async undo(mergeId: string): Promise<UndoResult> {
    const id = parseId(mergeId, 'merges.undo');
    return runWrite(this.ctx, async (op) => {
      const result = await runUndo(op, id);
      return { ...result, merge: await projected(op, result.merge) };
    });
  }

}

/**
 * A merge of `entity` records: a function, not a method, so that no `crm.merges.run` is reachable with a
 * kind it does not know; its errors name the public method (`merges.contacts`).
 */
async function mergeOf(ctx: CrmContext, entity: MergeEntity, survivorId: unknown, duplicateIds: unknown, options: unknown): Promise<MergeResult<RecordBase>> {
  const command = parseMerge(entity, survivorId, duplicateIds, options, `merges.${MERGE_SERVICES[entity]}`);
  return runWrite(ctx, async (op) => {
    const result = await runMerge(op, command);
    return { ...result, merge: await projected(op, result.merge) };
  });
}
