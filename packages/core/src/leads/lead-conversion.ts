import * as z from 'zod/mini';
import { ruleViolation } from '../errors/crm-error.js';
import { normalizeDomain } from '../domain/normalize.js';
import { compact, reviseRecord } from '../domain/records.js';
import { companyCreateInputSchema, type Company } from '../schema/company.js';
import { contactCreateInputSchema, type Contact, type ContactCreateInput } from '../schema/contact.js';
import { dealCreateInputSchema, type Deal, type DealCreateInput } from '../schema/deal.js';
import type { Lead } from '../schema/lead.js';
import { idSchema, userIdSchema } from '../schema/primitives.js';
import { createCard } from '../cards/card-operations.js';
import { COMPANY_CARD } from '../companies/company-service.js';
import { CONTACT_CARD } from '../contacts/contact-service.js';
import type { CrmContext } from '../crm/context.js';
import { createDealIn, parseDealInput } from '../deals/deal-factory.js';
import { checkNextStep } from '../funnel/next-step.js';
import { runWrite } from '../crm/operation.js';
import { parseInput } from '../crm/parse-input.js';
import { checkReferences } from '../crm/references.js';
import { assertExpectedVersion, versionOptionSchema } from '../crm/versioning.js';
import { inputFields } from '../crm/input-fields.js';

/** Options of `crm.leads.convert`. */
export interface ConvertLeadOptions {
  /** Make the conversion conditional on the lead's version. */
  readonly version?: number;
  /** Link an existing contact instead of creating one. */
  readonly contactId?: string;
  /** Fields of the new contact that differ from the lead's data. */
  readonly contact?: Partial<Omit<ContactCreateInput, 'id'>>;
  /** Link this company, or `null` for none. Absent: match by domain, then by name, else create. */
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
  readonly companyCreated: boolean;
}

const optionsSchema = z.strictObject({
  version: versionOptionSchema,
  contactId: z.optional(idSchema),
  contact: z.optional(z.partial(z.omit(contactCreateInputSchema, { id: true }))),
  companyId: z.optional(z.nullable(idSchema)),
  createCompany: z.optional(z.boolean()),
  // `deal: true` is read as `deal: {}` (every field from the lead) before parsing.
  deal: z.optional(z.partial(dealCreateInputSchema)),
  ownerId: z.optional(userIdSchema),
});

export async function convertLead(ctx: CrmContext, leadId: string, options: ConvertLeadOptions): Promise<ConvertLeadResult> {
  const input = options?.deal === true ? { ...options, deal: {} } : options;
  const step = checkNextStep(ctx, input?.deal);
  const opts = parseInput(optionsSchema, input, 'leads.convert', step.issues.map((issue) => ({ ...issue, path: ['deal', ...issue.path] })));
  return runWrite(ctx, async (op) => {
    const lead = await op.requireFor<Lead>('lead', leadId, 'convert');
    assertExpectedVersion('lead', lead, opts.version);
    op.guard?.checkWriteFields('contact', inputFields('contact', opts.contact), 'leads.convert');
    if (opts.deal) op.guard?.checkWriteFields('deal', inputFields('deal', opts.deal), 'leads.convert');
    if (lead.status === 'converted' || lead.status === 'disqualified') {
      throw ruleViolation([
        { rule: 'lead.convert.status', message: `cannot convert a ${lead.status} lead (allowed from: new, qualified)`, data: { status: lead.status } },
      ]);
    }
    const ownerId = opts.ownerId ?? lead.ownerId ?? ctx.actor?.userId;
    // Records the options link to are part of the input: a missing one is VALIDATION (with its path), not NOT_FOUND.
    const linked = await checkReferences(op, 'leads.convert', [
      { entity: 'company', id: opts.companyId, path: ['companyId'] },
      { entity: 'contact', id: opts.contactId, path: ['contactId'] },
    ]);

    // Company: the given one, a match, a new one, or none.
    let company: Company | undefined;
    let companyCreated = false;
    const duplicates = ctx.hooks.duplicates;
    if (opts.companyId) company = linked.get(`company:${opts.companyId}`) as Company;
    else if (opts.companyId === undefined) {
      // Matching an existing company (and reading a company domain from the e-mail) is the duplicates feature's.
      company = await duplicates?.matchCompany(op, lead);
      if (!company && lead.companyName && opts.createCompany !== false) {
        const domain = normalizeDomain(lead.website) ?? duplicates?.companyDomain(lead);
        const input = parseInput(
          companyCreateInputSchema,
          compact({ name: lead.companyName, domain, website: lead.website, country: lead.country, ownerId }),
          'leads.convert',
        );
        company = await createCard(op, COMPANY_CARD, input, 'leads.convert', { fields: false });
        companyCreated = true;
      }
    }

    // Contact: the given one or a new one from the lead's data.
    let contact: Contact;
    let contactCreated = false;
    if (opts.contactId) contact = linked.get(`contact:${opts.contactId}`) as Contact;
    else {
      const input = parseInput(
        contactCreateInputSchema,
        compact({
          name: lead.name,
          email: lead.email,
          phone: lead.phone,
          companyId: company?.id,
          ownerId,
          source: lead.source,
          country: lead.country,
          tags: lead.tags.length ? lead.tags : undefined,
          ...opts.contact,
        }),
        'leads.convert',
      );
      contact = await createCard(op, CONTACT_CARD, { ...input, leadId: lead.id }, 'leads.convert', { fields: false });
      contactCreated = true;
    }

    // Deal, when asked for.
    let deal: Deal | undefined;
    if (opts.deal) {
      const given = opts.deal;
      const hasItems = (given.lineItems?.length ?? 0) > 0;
      const input = parseDealInput(
        ctx,
        compact({
          title: lead.title ?? `${lead.companyName ?? lead.name}`,
          value: hasItems ? undefined : lead.expectedValue,
          source: lead.source,
          country: lead.country,
          ownerId,
          ...given,
          contactId: contact.id,
          companyId: company?.id,
          leadId: lead.id,
        }),
        'leads.convert',
      );
      deal = (await createDealIn(op, input, 'leads.convert', false)).deal;
    }

    const converted = reviseRecord(lead, op.now, (draft) => {
      draft.status = 'converted';
      draft.convertedAt = op.now;
      draft.converted = compact({ contactId: contact.id, companyId: company?.id, dealId: deal?.id });
      if (!draft.ownerId && ownerId) draft.ownerId = ownerId;
    });
    await op.update('lead', lead, converted);
    op.record(
      'lead.converted',
      { type: 'lead', id: lead.id },
      compact({ contactId: contact.id, companyId: company?.id, dealId: deal?.id, companyCreated }),
      [{ type: 'contact', id: contact.id }, company && { type: 'company', id: company.id }, deal && { type: 'deal', id: deal.id }],
    );
    return compact({ lead: converted, contact, company, deal, contactCreated, companyCreated });
  });
}
