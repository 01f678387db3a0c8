import * as z from 'zod/mini';
import { ruleViolation, validationError } from '../errors/crm-error.js';
import { normalizeDomain } from '../domain/normalize.js';
import { compact, reviseRecord } from '../domain/records.js';
import type { Company } from '../schema/company.js';
import { contactCreateInputSchema, type Contact, type ContactCreateInput } from '../schema/contact.js';
import { dealCreateInputSchema, type Deal, type DealCreateInput } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import { countrySchema, idSchema, userIdSchema } from '../schema/primitives.js';
import { createCard } from '../cards/card-operations.js';
import { COMPANY_CARD } from '../companies/company-service.js';
import { CONTACT_CARD } from '../contacts/contact-service.js';
import type { CrmContext } from '../crm/context.js';
import { createDealIn, type ParsedDealCreate } from '../deals/deal-factory.js';
import { checkNextStep } from '../funnel/next-step.js';
import { runWrite, type Operation } from '../crm/operation.js';
import { copyInput, parseInput } from '../crm/parse-input.js';
import { checkReferences, lockRecords } from '../crm/references.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { inputFields } from '../crm/input-fields.js';

/** Options of `crm.leads.convert`. */
export interface ConvertLeadOptions {
  /** Make the conversion conditional on the lead's version. */
  readonly version?: number;
  /** Link this existing contact (no matching, no new contact). */
  readonly contactId?: string;
  /** Fields of a new contact that differ from the lead's data. */
  readonly contact?: Partial<Omit<ContactCreateInput, 'id'>>;
  /**
   * How to find the lead's contact when `contactId` is not given:
   * - `'identity'` (default): an existing contact with the same normalised e-mail (case, IDNA
   *   domain, provider aliases), else with the same phone number (E.164); the oldest wins;
   * - `'none'`: always create a new contact.
   */
  readonly match?: 'identity' | 'none';
  /** ISO 3166 alpha-2 region to read the lead's phone in, for this call (default: the lead's country, else the tenant's region). */
  readonly region?: string;
  /** Link this company, or `null` for none. Absent: the matched contact's company, else match by domain, then by name, else create. */
  readonly companyId?: string | null;
  /** Create a company from the lead's company name when none matches (default true). */
  readonly createCompany?: boolean;
  /** Open a deal: `true` for defaults from the lead, or the deal's fields. */
  readonly deal?: true | Partial<DealCreateInput>;
  /** Owner of everything created (default: the lead's owner, else the acting user). */
  readonly ownerId?: string;
}

/** What a lead became. */
export interface ConvertLeadResult {
  readonly lead: Lead;
  readonly contact: Contact;
  readonly company?: Company;
  readonly deal?: Deal;
  readonly contactCreated: boolean;
  /** Why an existing contact was used: it was given, or it has the lead's e-mail or phone. */
  readonly contactMatchedBy?: 'contactId' | 'email' | 'phone';
  readonly companyCreated: boolean;
}

const optionsSchema = z.strictObject({
  version: versionOptionSchema,
  contactId: z.optional(idSchema),
  contact: z.optional(z.partial(z.omit(contactCreateInputSchema, { id: true }))),
  match: z.optional(z.enum(['identity', 'none'])),
  region: z.optional(countrySchema),
  companyId: z.optional(z.nullable(idSchema)),
  createCompany: z.optional(z.boolean()),
  // `deal: true` is read as `deal: {}` (every field from the lead) before parsing.
  deal: z.optional(z.partial(dealCreateInputSchema)),
  ownerId: z.optional(userIdSchema),
});

/**
 * What `find` (a match by e-mail, domain, …) finds once the record it names is locked (`lockRecords`):
 * on PostgreSQL a concurrent merge or remove may delete a match before the lock is taken; the search then
 * runs again, on what that committed.
 */
async function lockedMatch<T>(op: Operation, entity: 'contact' | 'company', find: () => Promise<T | undefined>, idOf: (found: T) => string): Promise<T | undefined> {
  for (;;) {
    const found = await find();
    if (!found) return undefined;
    await lockRecords(op, [{ entity, id: idOf(found) }]);
    if (await op.get(entity, idOf(found))) return found;
  }
}

/** The first text that is not blank: derived titles and names must not fail a rule their source passed. */
const firstNonBlank = (...values: (string | undefined)[]) => values.find((v) => v !== undefined && v.trim() !== '')?.trim();

/**
 * Converts a lead. Values copied from the lead are used as stored (they passed the lead's rules when
 * they were written); only the caller's own options are validated, so a conversion never fails on
 * data the lead was allowed to hold.
 */
/**
 * Who owns the records a conversion creates when no `ownerId` is given: the lead's owner — or, in a
 * view whose create scope leaves that owner out (a lead shared for writing), the acting user, so a
 * conversion the view may make does not fail on an owner it did not choose.
 */
function defaultOwner(op: Operation, natural: string | undefined, withDeal: boolean): string | undefined {
  const guard = op.guard;
  if (!guard || natural === undefined) return natural;
  const fits = (entity: string) => guard.ownersFor(entity, 'create')?.includes(natural) ?? true;
  return fits('contact') && (!withDeal || fits('deal')) ? natural : guard.principal.userId;
}

export async function convertLead(ctx: CrmContext, leadId: string, options: ConvertLeadOptions): Promise<ConvertLeadResult> {
  const raw = copyInput(options, 'leads.convert');
  const input = raw?.deal === true ? { ...raw, deal: {} } : raw;
  const step = checkNextStep(ctx, input?.deal);
  const opts = parseInput(optionsSchema, input, 'leads.convert', step.issues.map((issue) => ({ ...issue, path: ['deal', ...issue.path] })));
  return runWrite(ctx, async (op) => {
    // Locked before it is read, as a merge of it locks it: one waits for the other (see `lockRecords`).
    await lockRecords(op, [{ entity: 'lead', id: leadId }]);
    const lead = await op.requireFor<Lead>('lead', leadId, 'convert');
    assertExpectedVersion('lead', lead, opts.version);
    op.guard?.checkWriteFields('contact', inputFields('contact', opts.contact), 'leads.convert');
    if (opts.deal) op.guard?.checkWriteFields('deal', inputFields('deal', opts.deal), 'leads.convert');
    if (lead.status === 'converted' || lead.status === 'disqualified') {
      throw ruleViolation([
        { rule: 'lead.convert.status', message: `cannot convert a ${lead.status} lead (allowed from: new, qualified)`, data: { status: lead.status } },
      ]);
    }
    const ownerId = opts.ownerId ?? defaultOwner(op, lead.ownerId ?? ctx.actor?.userId, opts.deal !== undefined);
    const given = opts.deal ?? {};
    // In a view, only the lead's readable fields are copied or matched on: the new records would show the others.
    const source = op.guard ? op.guard.project('lead', lead) : lead;
    if (opts.deal && given.currency && source.expectedValue && source.expectedValue.currency !== given.currency && !given.value && !given.lineItems?.length) {
      throw validationError('leads.convert', [
        { path: ['deal', 'currency'], code: 'invalid_value', message: `the lead's expected value is in ${source.expectedValue.currency}: give deal.value or deal.lineItems in ${given.currency}, or leave the currency out` },
      ]);
    }
    // Records the options link to are part of the input: a missing one is VALIDATION (with its path), not NOT_FOUND.
    const linked = await checkReferences(op, 'leads.convert', [
      { entity: 'company', id: opts.companyId, path: ['companyId'] },
      { entity: 'contact', id: opts.contactId, path: ['contactId'] },
      { entity: 'company', id: opts.contact?.companyId ?? undefined, path: ['contact', 'companyId'] },
      { entity: 'company', id: given.companyId ?? undefined, path: ['deal', 'companyId'] },
      { entity: 'contact', id: given.contactId ?? undefined, path: ['deal', 'contactId'] },
    ]);
    // Matching existing contacts and companies by identity is the duplicates feature's (no match without it).
    const duplicates = ctx.hooks.duplicates;

    // Contact: the given one, an existing one with the lead's e-mail or phone, or a new one.
    let contact: Contact;
    let contactCreated = false;
    let contactMatchedBy: ConvertLeadResult['contactMatchedBy'];
    const matched = opts.contactId || opts.match === 'none' || !duplicates ? undefined : await lockedMatch(op, 'contact', () => duplicates.matchContact(op, source, opts.region ?? source.country), (m) => m.contact.id);
    if (opts.contactId) {
      contact = linked.get(`contact:${opts.contactId}`) as Contact;
      contactMatchedBy = 'contactId';
    } else if (matched) {
      contact = matched.contact;
      contactMatchedBy = matched.by;
    }

    // Company: the given one, the matched contact's, a match by domain or name, a new one, or none.
    let company: Company | undefined;
    let companyCreated = false;
    const contactCompany = contactMatchedBy && contactMatchedBy !== 'contactId' ? contact!.companyId : undefined;
    let fromContact = opts.companyId === undefined && contactCompany ? await lockedMatch(op, 'company', () => op.get<Company>('company', contactCompany), (c) => c.id) : undefined;
    // A view links only what its principal may read: a matched contact's company outside the scope is not linked.
    if (fromContact && op.guard && !op.guard.canRead('company', fromContact)) fromContact = undefined;
    if (opts.companyId) company = linked.get(`company:${opts.companyId}`) as Company;
    else if (fromContact) company = fromContact;
    else if (opts.companyId === undefined) {
      company = duplicates && (await lockedMatch(op, 'company', () => duplicates.matchCompany(op, source), (c) => c.id));
      const name = firstNonBlank(source.companyName);
      if (!company && name && opts.createCompany !== false) {
        // The derived domain comes from the same normaliser that validates domains, so it is always acceptable.
        const domain = normalizeDomain(source.website) ?? duplicates?.companyDomain(source);
        company = await createCard(op, COMPANY_CARD, compact({ name, domain, website: source.website, country: source.country, ownerId }), 'leads.convert', { fields: false });
        companyCreated = true;
      }
    }

    if (!contactMatchedBy) {
      const input = compact({
        name: source.name,
        email: source.email,
        phone: source.phone,
        companyId: company?.id,
        ownerId,
        source: source.source,
        country: source.country,
        tags: source.tags?.length ? source.tags : undefined,
        ...opts.contact,
      });
      contact = await createCard(op, CONTACT_CARD, { ...input, leadId: lead.id }, 'leads.convert', { fields: false });
      contactCreated = true;
    }

    // Deal, when asked for.
    let deal: Deal | undefined;
    if (opts.deal) {
      const hasItems = (given.lineItems?.length ?? 0) > 0;
      const input = compact({
        title: firstNonBlank(source.title, source.companyName, source.name) ?? 'Deal',
        value: hasItems || given.value ? undefined : source.expectedValue,
        source: source.source,
        country: source.country,
        ownerId,
        ...given,
        // The next step as the tasks feature normalised it.
        nextStep: step.value,
        contactId: given.contactId ?? contact!.id,
        companyId: given.companyId ?? company?.id,
        leadId: lead.id,
      }) as ParsedDealCreate;
      deal = (await createDealIn(op, input, 'leads.convert', false)).deal;
    }

    const converted = reviseRecord(lead, op.now, (draft) => {
      draft.status = 'converted';
      draft.convertedAt = op.now;
      draft.converted = compact({ contactId: contact!.id, companyId: company?.id, dealId: deal?.id });
      if (!draft.ownerId && ownerId) draft.ownerId = ownerId;
    });
    await op.update('lead', lead, converted);
    op.record(
      'lead.converted',
      { type: 'lead', id: lead.id },
      compact({ contactId: contact!.id, companyId: company?.id, dealId: deal?.id, companyCreated, contactCreated, contactMatchedBy }),
      [{ type: 'contact', id: contact!.id }, company && { type: 'company', id: company.id }, deal && { type: 'deal', id: deal.id }],
    );
    return compact({ lead: converted, contact: contact!, company, deal, contactCreated, contactMatchedBy, companyCreated });
  });
}
