import { readByExternalRef, upsertByExternalRef, type ExternalRefTarget, type UpsertOptions, type UpsertResult } from '../crm/external-ref-api.js';
import { mergeVia } from '../crm/merge-via.js';
import type { MergeOptions, MergeResult } from '../schema/merge.js';
import { ruleViolation, validationError } from '../errors/crm-error.js';
import { compact, reviseRecord } from '../domain/records.js';
import { createCard, updateCard, type CardConfig } from '../cards/card-operations.js';
import type { Lead, LeadCreateInput, LeadStatus, LeadUpdateInput } from '../schema/lead.js';
import { leadCreateInputSchema, leadUpdateInputSchema } from '../schema/lead.js';
import type { LeadField } from '../storage/crm-schema.js';
import type { CrmContext } from '../crm/context.js';
import { convertLead, type ConvertLeadOptions, type ConvertLeadResult } from './lead-conversion.js';
import { listRecords, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import * as z from 'zod/mini';
import { idSchema, LIMITS, optionalText } from '../schema/primitives.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { checkReferences } from '../crm/references.js';

const EDITABLE: readonly string[] = [
  'name', 'companyName', 'email', 'phone', 'website', 'title', 'message', 'source', 'campaign', 'country',
  'territory', 'ownerId', 'expectedValue', 'probability', 'tags', 'externalRefs',
];

const disqualifyInputSchema = z.strictObject({
  reason: optionalText(LIMITS.mediumText),
  version: versionOptionSchema,
});

/** How leads behave as client cards. */
export const LEAD_CARD: CardConfig<Lead> = {
  entity: 'lead',
  editable: EDITABLE,
  references: () => [],
  kind: 'person',
  refs: () => [],
  defaults: () => ({ status: 'new' }),
  ownedByActor: false,
};

function requireStatus(lead: Lead, allowed: readonly LeadStatus[], action: string): void {
  if (!allowed.includes(lead.status)) {
    throw ruleViolation([
      {
        rule: `lead.${action}.status`,
        message: `cannot ${action} a ${lead.status} lead (allowed from: ${allowed.join(', ')})`,
        data: { status: lead.status, allowed },
      },
    ]);
  }
}

/** How `upsertByExternalRef` creates and updates leads. */
const LEAD_REFS: ExternalRefTarget<Lead> = {
  entity: 'lead',
  name: 'leads',
  parseCreate: (input, context) => parseInput(leadCreateInputSchema, input, context),
  create: (op, parsed) => createCard(op, LEAD_CARD, parsed, 'leads.upsertByExternalRef'),
  updateSchema: leadUpdateInputSchema,
  update: (op, id, patch) => updateCard(op, LEAD_CARD, id, patch, 'leads.upsertByExternalRef'),
};

/**
 * Leads: potential clients and their incoming requests. `crm.leads`.
 */
export class LeadService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Merges duplicate leads into a survivor and returns it with the merge log entry (whose id
   * `crm.merges.undo` takes): the same as `crm.merges.leads` — field choices, external refs, tags
   * and every linked record move to the survivor in one transaction. Needs the `merges()` feature.
   *
   * @param survivorId The lead that stays.
   * @param duplicateIds The leads merged into it (deleted; their snapshots stay in the merge log).
   * @param options `fields` (field → record id it takes its value from), `fillEmpty`, `version`.
   * @returns `{ survivor, merge }`.
   * @throws CrmError `VALIDATION` (code `feature_required`) without the merges() feature; otherwise as
   *   `crm.merges.leads` (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, `RULE_VIOLATION`, `FORBIDDEN`).
   * @example
   * const { survivor, merge } = await crm.leads.merge(keep.id, [drop.id]);
   */
  merge(survivorId: string, duplicateIds: readonly string[], options?: MergeOptions): Promise<MergeResult<Lead>> {
    return mergeVia<Lead>(this.ctx, 'lead', survivorId, duplicateIds, options);
  }

  /**
   * Creates a lead in status `new`.
   *
   * With `assignWith`, an assignment strategy gives the lead an owner in the same transaction
   * (unless the input names one).
   *
   * @example
   * const lead = await crm.leads.create({ name: 'Ada Lovelace', email: 'ada@example.com', source: 'web-form' });
   * @throws CrmError `VALIDATION` for bad input, unknown custom fields or an `assignWith` strategy that does not exist.
   */
  async create(input: LeadCreateInput, options: { assignWith?: string } = {}): Promise<Lead> {
    const parsed = parseInput(leadCreateInputSchema, input, 'leads.create');
    const { assignWith } = parseInput(z.strictObject({ assignWith: z.optional(idSchema) }), options, 'leads.create');
    const assign = this.ctx.hooks.assignment;
    if (assignWith && !assign) {
      throw validationError('leads.create', [{ path: ['assignWith'], code: 'feature_required', message: 'assignment strategies need the assignment() feature from @crmkit/core/assignment' }]);
    }
    return runWrite(this.ctx, async (op) => {
      // The strategy is part of the input: a missing one is VALIDATION at `assignWith`, checked before anything is built.
      await checkReferences(op, 'leads.create', [{ entity: 'assignmentStrategy', id: assignWith, path: ['assignWith'] }]);
      // In a view, a lead nobody routes belongs to its author; a routed one is checked once routed.
      const routed = assignWith !== undefined && !parsed.ownerId;
      const input = op.guard && !parsed.ownerId && !routed ? { ...parsed, ownerId: op.ctx.actor!.userId } : parsed;
      const lead = await createCard(op, LEAD_CARD, input, 'leads.create', { scope: !routed });
      if (!routed) return lead;
      const assigned = lead.ownerId ? lead : await assign!.assign(op, 'lead', lead, assignWith);
      op.guard?.checkWritten('lead', 'create', undefined, assigned);
      return assigned;
    });
  }

  /**
   * Reads a lead.
   *
   * @throws CrmError `NOT_FOUND` when it does not exist in this tenant.
   */
  get(id: string): Promise<Lead> {
    return readRecord<Lead>(this.ctx, 'lead', id, 'leads.get');
  }

  /**
   * Reads the lead linked to a record of another system.
   *
   * @param system The other system (`shop`, `erp`).
   * @param id The record's id there.
   * @returns The lead.
   * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` when no lead holds the
   *   ref (or, in a view, it lies outside the read scope).
   * @example
   * const found = await crm.leads.getByExternalRef('shop', '10042');
   */
  async getByExternalRef(system: string, id: string): Promise<Lead> {
    return readByExternalRef<Lead>(this.ctx, 'lead', 'leads', system, id);
  }

  /**
   * Creates the lead linked to `(system, id)` with `input`, or updates the one that exists, in one
   * transaction; idempotent on retry (see `upsertByExternalRef`).
   *
   * @returns The record and whether it was `created`, `updated` or `unchanged`.
   * @throws CrmError `VALIDATION`, `CONFLICT` (`expectedVersion` differs), `NOT_FOUND`/`FORBIDDEN` in a view.
   */
  async upsertByExternalRef(system: string, id: string, input: LeadCreateInput, options?: UpsertOptions): Promise<UpsertResult<Lead>> {
    return upsertByExternalRef(this.ctx, LEAD_REFS, system, id, input, options);
  }

  /**
   * Changes fields of a lead. `null` clears a field. With `version`, fails with `CONFLICT` when the
   * lead changed since it was read.
   */
  async update(id: string, patch: LeadUpdateInput): Promise<Lead> {
    const leadId = parseId(id, 'leads.update');
    const parsed = parseInput(leadUpdateInputSchema, patch, 'leads.update');
    return runWrite(this.ctx, (op) => updateCard(op, LEAD_CARD, leadId, parsed, 'leads.update'));
  }

  /** Lists leads matching a filter, one page at a time (newest first by default). */
  async list(options?: ListOptions<LeadField>): Promise<Page<Lead>> {
    return runRead(this.ctx, (op) => listRecords<Lead>(op, 'lead', options, 'leads.list'));
  }

  /**
   * Marks a `new` (or previously disqualified) lead as qualified.
   *
   * @throws CrmError `RULE_VIOLATION` for a converted or already qualified lead.
   */
  async qualify(id: string, options: { version?: number } = {}): Promise<Lead> {
    const leadId = parseId(id, 'leads.qualify');
    const { version } = parseInput(z.strictObject({ version: versionOptionSchema }), options, 'leads.qualify');
    return runWrite(this.ctx, async (op) => {
      const lead = await op.requireFor<Lead>('lead', leadId, 'update');
      assertExpectedVersion('lead', lead, version);
      requireStatus(lead, ['new', 'disqualified'], 'qualify');
      const next = reviseRecord(lead, op.now, (draft) => {
        draft.status = 'qualified';
        draft.qualifiedAt = op.now;
        delete draft.disqualifiedAt;
        delete draft.disqualifyReason;
      });
      await op.update('lead', lead, next);
      op.record('lead.qualified', { type: 'lead', id: lead.id }, { from: lead.status });
      return next;
    });
  }

  /**
   * Marks a lead as disqualified, with an optional reason.
   *
   * @throws CrmError `RULE_VIOLATION` for a converted or already disqualified lead.
   */
  async disqualify(id: string, options: { reason?: string; version?: number } = {}): Promise<Lead> {
    const leadId = parseId(id, 'leads.disqualify');
    const parsed = parseInput(disqualifyInputSchema, options, 'leads.disqualify');
    return runWrite(this.ctx, async (op) => {
      const lead = await op.requireFor<Lead>('lead', leadId, 'update');
      assertExpectedVersion('lead', lead, parsed.version);
      requireStatus(lead, ['new', 'qualified'], 'disqualify');
      const next = reviseRecord(lead, op.now, (draft) => {
        draft.status = 'disqualified';
        draft.disqualifiedAt = op.now;
        if (parsed.reason) draft.disqualifyReason = parsed.reason;
      });
      await op.update('lead', lead, next);
      op.record('lead.disqualified', { type: 'lead', id: lead.id }, compact({ reason: parsed.reason }));
      return next;
    });
  }

  /**
   * Converts a lead in one transaction: creates the contact, links or creates the company (matched
   * by domain or name; free mail domains ignored), optionally opens a deal, and marks the lead
   * converted with links to what it became.
   *
   * @example
   * const { contact, company, deal } = await crm.leads.convert(lead.id, { deal: { title: 'Chairs' } });
   * @throws CrmError `RULE_VIOLATION` when the lead is converted or disqualified already.
   */
  async convert(id: string, options: ConvertLeadOptions = {}): Promise<ConvertLeadResult> {
    const leadId = parseId(id, 'leads.convert');
    return convertLead(this.ctx, leadId, options);
  }

  /**
   * Deletes a lead that was not converted. Its events stay in the log.
   *
   * @throws CrmError `RULE_VIOLATION` for a converted lead (its history belongs to the contact).
   */
  async remove(id: string, options: { version?: number } = {}): Promise<void> {
    const leadId = parseId(id, 'leads.remove');
    const { version } = parseInput(z.strictObject({ version: versionOptionSchema }), options, 'leads.remove');
    return runWrite(this.ctx, async (op) => {
      const lead = await op.requireFor<Lead>('lead', leadId, 'delete');
      assertExpectedVersion('lead', lead, version);
      requireStatus(lead, ['new', 'qualified', 'disqualified'], 'remove');
      await op.remove('lead', lead);
      op.record('lead.removed', { type: 'lead', id: lead.id }, { lead });
    });
  }
}
