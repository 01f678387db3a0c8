import type { Operation } from '../crm/operation.js';
import { duplicateKeys, probePhone } from '../domain/duplicates.js';
import { companyDomainFromEmail, normalizeCompanyName, normalizeDomain, normalizeEmail } from '../domain/normalize.js';
import type { Company } from '../schema/company.js';
import type { Contact } from '../schema/contact.js';
import { identityOptions } from './identity-cache.js';
import type { Lead } from '../schema/lead.js';

/** Finds the company a lead belongs to: same domain first, then the same normalised name; oldest wins. */
export async function matchCompany(op: Operation, lead: Pick<Lead, 'website' | 'email' | 'companyName'>): Promise<Company | undefined> {
  const domain = normalizeDomain(lead.website) ?? companyDomainFromEmail(lead.email);
  if (domain) {
    const { rows } = await op.query<Company>('company', {
      // In a view only companies the principal may read are matched: a link to a hidden one is refused.
      filter: op.scoped('company', { op: 'eq', field: 'domain', value: domain }),
      sort: [{ field: 'createdAt' }],
      limit: 1,
    });
    if (rows[0]) return rows[0];
  }
  const name = normalizeCompanyName(lead.companyName);
  if (!name) return undefined;
  const keys = duplicateKeys({ name: lead.companyName }, 'company').filter((k) => k.startsWith('cname:'));
  let cursor: string | undefined;
  do {
    const page = await op.query<Company>('company', {
      filter: op.scoped('company', { op: 'containsAny', field: 'searchKeys', values: keys }),
      sort: [{ field: 'createdAt' }],
      limit: 100,
      ...(cursor ? { after: cursor } : {}),
    });
    const match = page.rows.find((c) => normalizeCompanyName(c.name) === name);
    if (match) return match;
    cursor = page.nextCursor;
  } while (cursor);
  return undefined;
}

/**
 * Finds the contact a lead already is: the oldest contact with the lead's normalised e-mail, else
 * with its phone number (read in `region`, else the tenant's default region) — through the indexed
 * `searchKeys`, on every adapter alike.
 */
export async function matchContact(op: Operation, lead: Lead, region?: string): Promise<{ contact: Contact; by: 'email' | 'phone' } | undefined> {
  const email = lead.email ? normalizeEmail(lead.email) : undefined;
  const phone = probePhone({ phone: lead.phone }, await identityOptions(op, region));
  for (const [by, key] of [['email', email && `email:${email}`], ['phone', phone && `phone:${phone}`]] as const) {
    if (!key) continue;
    // In a view only contacts the principal may read are matched (a hidden one is never linked or revealed).
    const { rows } = await op.query<Contact>('contact', {
      filter: op.scoped('contact', { op: 'containsAny', field: 'searchKeys', values: [key] }),
      sort: [{ field: 'createdAt' }],
      limit: 1,
    });
    if (rows[0]) return { contact: rows[0], by };
  }
  return undefined;
}
