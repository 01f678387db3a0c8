import { readByExternalRef, upsertByExternalRef, type ExternalRefTarget, type UpsertOptions, type UpsertResult } from '../crm/external-ref-api.js';
import { compact, newRecordBase } from '../domain/records.js';
import { withParticipantIds } from '../domain/participant-ids.js';
import { activityLogInputSchema, type Activity, type ActivityLogInput, type ActivityLogParsed } from '../schema/activity.js';
import type { ActivityField } from '../storage/crm-schema.js';
import type { CrmContext } from '../crm/context.js';
import { listRecords, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite, type Operation } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { checkReferences } from '../crm/references.js';
import { inputFields } from '../crm/input-fields.js';
import { touchRecords } from '../crm/touch-records.js';
import { withParentAccess } from '../crm/feature-writes.js';

/** A parsed `activities.log` input. */

/**
 * Logs a parsed activity inside an operation (`activities.log`, external-ref upserts, imports through
 * the `activities` hook). A function, not a method: nothing on `crm.activities` skips `log`'s checks.
 */
export async function logActivity(op: Operation, parsed: ActivityLogParsed): Promise<Activity> {
  op.guard?.checkWriteFields('activity', inputFields('activity', parsed), 'activities.log');
  await checkReferences(op, 'activities.log', [
    { entity: 'deal', id: parsed.dealId, path: ['dealId'] },
    { entity: 'contact', id: parsed.contactId, path: ['contactId'] },
    { entity: 'company', id: parsed.companyId, path: ['companyId'] },
    { entity: 'lead', id: parsed.leadId, path: ['leadId'] },
    { entity: 'task', id: parsed.taskId, path: ['taskId'] },
    ...(parsed.participants ?? []).map((p, i) => ({ entity: 'contact', id: p.contactId, path: ['participants', i, 'contactId'] })),
  ]);
  const { id, occurredAt, ...fields } = parsed;
  const built = withParticipantIds(compact({
    ...newRecordBase(id ?? op.newId('activity'), op.tenantId, op.now),
    ownerId: op.ctx.actor?.userId,
    ...fields,
    participants: parsed.participants ?? [],
    occurredAt: occurredAt ?? op.now,
  }) as Activity);
  const [activity] = (await withParentAccess(op, [built])) as [Activity];
  op.guard?.checkWritten('activity', 'create', undefined, activity);
  await op.insert('activity', activity);
  await touchRecords(op, activity, activity.occurredAt);
  op.record('activity.logged', { type: 'activity', id: activity.id }, { activity }, [
    activity.dealId ? { type: 'deal', id: activity.dealId } : undefined,
    activity.contactId ? { type: 'contact', id: activity.contactId } : undefined,
    activity.companyId ? { type: 'company', id: activity.companyId } : undefined,
    activity.leadId ? { type: 'lead', id: activity.leadId } : undefined,
    ...activity.participants.map((p) => (p.contactId ? { type: 'contact', id: p.contactId } : undefined)),
  ]);
  return activity;
}

/**
 * Activities: the calls, e-mails, meetings, messages and notes that happened, from every channel,
 * in one place. `crm.activities`.
 */
export class ActivityService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Records an interaction and links it to its deal, contact, company or lead. It shows on their
   * timelines, restarts the deal's rotting clock and updates the client's last interaction.
   *
   * @example
   * await crm.activities.log({ kind: 'call', direction: 'outbound', dealId: deal.id, contactId: ada.id,
   *   outcome: 'Agreed on a demo next week', durationMinutes: 12 });
   */
  async log(input: ActivityLogInput): Promise<Activity> {
    const parsed = parseInput(activityLogInputSchema, input, 'activities.log');
    return runWrite(this.ctx, (op) => logActivity(op, parsed));
  }

  /**
   * Reads the activity linked to a record of another system.
   *
   * @param system The other system (`shop`, `erp`).
   * @param id The record's id there.
   * @returns The activity.
   * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` when no activity holds the
   *   ref (or, in a view, it lies outside the read scope).
   * @example
   * const found = await crm.activities.getByExternalRef('shop', '10042');
   */
  async getByExternalRef(system: string, id: string): Promise<Activity> {
    return readByExternalRef<Activity>(this.ctx, 'activity', 'activities', system, id);
  }

  /**
   * Creates the activity linked to `(system, id)` with `input`, or updates the one that exists, in one
   * transaction; idempotent on retry (see `upsertByExternalRef`).
   * Activities never change: an existing one is returned as it is (`unchanged`), so a call log or an
   * e-mail delivered twice is logged once.
   *
   * @returns The record and whether it was `created`, `updated` or `unchanged`.
   * @throws CrmError `VALIDATION`, `CONFLICT` (`expectedVersion` differs), `NOT_FOUND`/`FORBIDDEN` in a view.
   */
  async upsertByExternalRef(system: string, id: string, input: ActivityLogInput, options?: UpsertOptions): Promise<UpsertResult<Activity>> {
    return upsertByExternalRef(this.ctx, { entity: 'activity', name: 'activities', parseCreate: (input, context) => parseInput(activityLogInputSchema, input, context), create: (op, parsed) => logActivity(op, parsed as ActivityLogParsed) } satisfies ExternalRefTarget<Activity>, system, id, input, options);
  }

  /** Reads an activity. @throws CrmError `NOT_FOUND`. */
  get(id: string): Promise<Activity> {
    return readRecord<Activity>(this.ctx, 'activity', id, 'activities.get');
  }

  /** Lists activities, most recent first by default. */
  async list(options?: ListOptions<ActivityField>): Promise<Page<Activity>> {
    return runRead(this.ctx, (op) =>
      listRecords<Activity>(op, 'activity', options, 'activities.list', [{ field: 'occurredAt', direction: 'desc' }]),
    );
  }
}
