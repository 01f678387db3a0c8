import { readByExternalRef, upsertByExternalRef, type ExternalRefTarget, type UpsertOptions, type UpsertResult } from '../crm/external-ref-api.js';
import { mergeVia } from '../crm/merge-via.js';
import type { MergeOptions, MergeResult } from '../schema/merge.js';
import * as z from 'zod/mini';
import { ruleViolation } from '../errors/crm-error.js';
import { contactCreateInputSchema, contactUpdateInputSchema, type Contact, type ContactCreateInput, type ContactUpdateInput } from '../schema/contact.js';
import type { ContactField } from '../storage/crm-schema.js';
import { createCard, updateCard, type CardConfig } from '../cards/card-operations.js';
import type { CrmContext } from '../crm/context.js';
import { listRecords, type ListOptions, type Page } from '../crm/list-options.js';
import { readRecord, runRead, runWrite } from '../crm/operation.js';
import { parseId, parseInput } from '../crm/parse-input.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { linkedRecords } from '../cards/linked-records.js';
import { lockRecords } from '../crm/references.js';

/** How contacts behave as client cards. */
export const CONTACT_CARD: CardConfig<Contact> = {
  entity: 'contact',
  editable: ['name', 'email', 'phone', 'jobTitle', 'companyId', 'ownerId', 'source', 'country', 'notes', 'tags', 'externalRefs'],
  references: (input) => [{ entity: 'company', id: input.companyId as string | undefined, path: ['companyId'] }],
  kind: 'person',
  refs: (contact) => [contact.companyId ? { type: 'company', id: contact.companyId } : undefined, contact.leadId ? { type: 'lead', id: contact.leadId } : undefined],
  ownedByActor: true,
};

/** How `upsertByExternalRef` creates and updates contacts. */
const CONTACT_REFS: ExternalRefTarget<Contact> = {
  entity: 'contact',
  name: 'contacts',
  parseCreate: (input, context) => parseInput(contactCreateInputSchema, input, context),
  create: (op, parsed) => createCard(op, CONTACT_CARD, parsed, 'contacts.upsertByExternalRef'),
  updateSchema: contactUpdateInputSchema,
  update: (op, id, patch) => updateCard(op, CONTACT_CARD, id, patch, 'contacts.upsertByExternalRef'),
};

/**
 * Contacts: the people the company sells to. `crm.contacts`.
 */
export class ContactService {
  /** @internal */
  constructor(private readonly ctx: CrmContext) {}

  /**
   * Merges duplicate contacts into a survivor and returns it with the merge log entry (whose id
   * `crm.merges.undo` takes): the same as `crm.merges.contacts` — field choices, external refs, tags
   * and every linked record move to the survivor in one transaction. Needs the `merges()` feature.
   *
   * @param survivorId The contact that stays.
   * @param duplicateIds The contacts merged into it (deleted; their snapshots stay in the merge log).
   * @param options `fields` (field → record id it takes its value from), `fillEmpty`, `version`.
   * @returns `{ survivor, merge }`.
   * @throws CrmError `VALIDATION` (code `feature_required`) without the merges() feature; otherwise as
   *   `crm.merges.contacts` (`VALIDATION`, `NOT_FOUND`, `CONFLICT`, `RULE_VIOLATION`, `FORBIDDEN`).
   * @example
   * const { survivor, merge } = await crm.contacts.merge(keep.id, [drop.id]);
   */
  merge(survivorId: string, duplicateIds: readonly string[], options?: MergeOptions): Promise<MergeResult<Contact>> {
    return mergeVia<Contact>(this.ctx, 'contact', survivorId, duplicateIds, options);
  }

  /**
   * Creates a contact, owned by the acting user unless `ownerId` is given.
   *
   * @example
   * const ada = await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk' });
   */
  async create(input: ContactCreateInput): Promise<Contact> {
    const parsed = parseInput(contactCreateInputSchema, input, 'contacts.create');
    return runWrite(this.ctx, (op) => createCard(op, CONTACT_CARD, parsed, 'contacts.create'));
  }

  /** Reads a contact. @throws CrmError `NOT_FOUND`. */
  get(id: string): Promise<Contact> {
    return readRecord<Contact>(this.ctx, 'contact', id, 'contacts.get');
  }

  /**
   * Reads the contact linked to a record of another system.
   *
   * @param system The other system (`shop`, `erp`).
   * @param id The record's id there.
   * @returns The contact.
   * @throws CrmError `VALIDATION` for a malformed system or id; `NOT_FOUND` when no contact holds the
   *   ref (or, in a view, it lies outside the read scope).
   * @example
   * const found = await crm.contacts.getByExternalRef('shop', '10042');
   */
  async getByExternalRef(system: string, id: string): Promise<Contact> {
    return readByExternalRef<Contact>(this.ctx, 'contact', 'contacts', system, id);
  }

  /**
   * Creates the contact linked to `(system, id)` with `input`, or updates the one that exists, in one
   * transaction; idempotent on retry (see `upsertByExternalRef`).
   *
   * @returns The record and whether it was `created`, `updated` or `unchanged`.
   * @throws CrmError `VALIDATION`, `CONFLICT` (`expectedVersion` differs), `NOT_FOUND`/`FORBIDDEN` in a view.
   * @example
   * const { record } = await crm.contacts.upsertByExternalRef('shop', '10042', { ... });
   */
  async upsertByExternalRef(system: string, id: string, input: ContactCreateInput, options?: UpsertOptions): Promise<UpsertResult<Contact>> {
    return upsertByExternalRef(this.ctx, CONTACT_REFS, system, id, input, options);
  }

  /** Changes a contact's fields; `null` clears one; `version` makes it conditional. */
  async update(id: string, patch: ContactUpdateInput): Promise<Contact> {
    const contactId = parseId(id, 'contacts.update');
    const parsed = parseInput(contactUpdateInputSchema, patch, 'contacts.update');
    return runWrite(this.ctx, (op) => updateCard(op, CONTACT_CARD, contactId, parsed, 'contacts.update'));
  }

  /** Lists contacts (newest first by default). */
  async list(options?: ListOptions<ContactField>): Promise<Page<Contact>> {
    return runRead(this.ctx, (op) => listRecords<Contact>(op, 'contact', options, 'contacts.list'));
  }

  /**
   * Deletes a contact without deals. Its history stays in the event log.
   *
   * @throws CrmError `RULE_VIOLATION` when deals still point at it (reassign or remove them first):
   *   `data.dealCount` says how many, `data.dealIds` lists the first ten.
   */
  async remove(id: string, options: { version?: number } = {}): Promise<void> {
    const contactId = parseId(id, 'contacts.remove');
    const { version } = parseInput(z.strictObject({ version: versionOptionSchema }), options, 'contacts.remove');
    return runWrite(this.ctx, async (op) => {
      // Locked before the deals are counted: a deal created for it meanwhile waits, then finds it gone.
      await lockRecords(op, [{ entity: 'contact', id: contactId }]);
      const contact = await op.requireFor<Contact>('contact', contactId, 'delete');
      assertExpectedVersion('contact', contact, version);
      const linked = await linkedRecords(op, 'deal', 'contactId', contact.id);
      if (linked.count) {
        throw ruleViolation([{ rule: 'contact.hasDeals', message: `contact ${contact.name} still has ${linked.count} deals`, data: { dealIds: linked.ids, dealCount: linked.count } }]);
      }
      await op.remove('contact', contact);
      op.record('contact.removed', { type: 'contact', id: contact.id }, { contact }, CONTACT_CARD.refs(contact));
    });
  }
}
