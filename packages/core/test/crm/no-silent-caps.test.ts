import { describe, expect, it } from 'vitest';
import { isCrmError } from '@crmkit/core';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline, expectCrmError } from '../helpers.js';

describe('no silent caps (core paths, with more records than each former limit)', () => {
  it('duplicates.find scores every candidate: an exact e-mail match behind 600 newer same-name leads is found', async () => {
    const { crm, clock } = await createTestCrm();
    const exact = await crm.leads.create({ name: 'John Exact', email: 'john.exact@example.com' });
    for (let i = 0; i < 600; i++) {
      clock.advance(1000);
      await crm.leads.create({ name: `John Other${i}` });
    }
    const found = await crm.duplicates.find({ name: 'John', email: 'john.exact@example.com' }, { entities: ['lead'] });
    expect(found[0]?.record.id).toBe(exact.id);
    // Without a limit, every candidate at or above minScore (here: far more than the old default of 20).
    const all = await crm.duplicates.find({ name: 'John Other' }, { entities: ['lead'], minScore: 0.3 });
    expect(all.length).toBeGreaterThan(200);
    expect((await crm.duplicates.find({ name: 'John Other' }, { entities: ['lead'], minScore: 0.3, limit: 5 })).length).toBe(5);
  });

  it('the customers report pages through every customer with a cursor', async () => {
    const { crm, pipelineId } = await crmWithPipeline({ defaultCurrency: 'EUR' });
    const n = 250;
    const contacts = await Promise.all(Array.from({ length: n }, (_, i) => crm.contacts.create({ name: `Client ${i}` })));
    const deals = await crm.imports.deals(contacts.map((c, i) => ({ title: `D${i}`, pipelineId, contactId: c.id, value: { amount: 100 + (i % 7), currency: 'EUR' } })));
    for (const deal of deals) await crm.deals.win(deal.id);
    const seen: string[] = [];
    let page = await crm.reports.customers({ limit: 100 });
    let pages = 1;
    seen.push(...page.contacts.map((c) => c.id));
    while (page.nextCursor) {
      page = await crm.reports.customers({ limit: 100, cursor: page.nextCursor });
      seen.push(...page.contacts.map((c) => c.id));
      pages++;
    }
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(n);
    expect(page.contacts.at(-1)!.cumulativeShare).toBeCloseTo(1, 12);
    const first = await crm.reports.customers({ limit: 100 });
    await expectCrmError(crm.reports.customers({ limit: 100, currency: 'USD', cursor: first.nextCursor! }), 'VALIDATION');
    await expectCrmError(crm.reports.customers({ cursor: 'not-a-cursor' }), 'VALIDATION');
  });

  it('refusals to remove a linked record say how many records are linked, not only the first ten', async () => {
    const { crm, pipelineId } = await crmWithPipeline();
    const company = await crm.companies.create({ name: 'Acme' });
    const contact = await crm.contacts.create({ name: 'Ada', companyId: company.id });
    await crm.imports.deals(Array.from({ length: 15 }, (_, i) => ({ title: `D${i}`, pipelineId, contactId: contact.id, companyId: company.id })));
    const contactError = await expectCrmError(crm.contacts.remove(contact.id), 'RULE_VIOLATION');
    expect(contactError.details.violations[0]!.data).toMatchObject({ dealCount: 15 });
    expect((contactError.details.violations[0]!.data as { dealIds: string[] }).dealIds).toHaveLength(10);
    const companyError = await expectCrmError(crm.companies.remove(company.id), 'RULE_VIOLATION');
    expect(companyError.details.violations.map((v) => [v.rule, (v.data as { count: number }).count])).toEqual([['company.hasContacts', 1], ['company.hasDeals', 15]]);
  });

  it('an import with more problems than it lists says so', async () => {
    const { crm } = await crmWithPipeline();
    const error = await crm.imports.deals(Array.from({ length: 150 }, () => ({ title: '' }))).catch((e: unknown) => e);
    expect(isCrmError(error, 'VALIDATION')).toBe(true);
    const issues = (error as { details: { issues: { code: string }[] } }).details.issues;
    expect(issues).toHaveLength(101);
    expect(issues.at(-1)!.code).toBe('too_many_issues');
    const missing = await crm.imports.deals(Array.from({ length: 150 }, (_, i) => ({ title: `D${i}`, contactId: `ctc_missing_${i}` }))).catch((e: unknown) => e);
    const linkIssues = (missing as { details: { issues: { code: string }[] } }).details.issues;
    expect(linkIssues).toHaveLength(101);
    expect(linkIssues.at(-1)!.code).toBe('too_many_issues');
  });

  it('the agenda is complete by default (250 overdue tasks, the old default cut at 200) and pages with a cursor', async () => {
    const { crm, clock } = await createTestCrm();
    for (let i = 0; i < 250; i++) await crm.tasks.create({ subject: `Overdue ${i}`, dueAt: '2026-01-02T10:00:00Z', ownerId: 'anna' });
    for (let i = 0; i < 30; i++) await crm.tasks.create({ subject: `Later ${i}`, dueAt: '2026-01-07T10:00:00Z', ownerId: 'anna' });
    const all = await crm.tasks.agenda({ ownerId: 'anna' });
    expect([all.overdue.length, all.upcoming.length, all.nextCursor]).toEqual([250, 30, undefined]);
    const seen = { overdue: [] as string[], upcoming: [] as string[] };
    let page = await crm.tasks.agenda({ ownerId: 'anna', limit: 100 });
    let pages = 1;
    for (;;) {
      seen.overdue.push(...page.overdue.map((t) => t.id));
      seen.upcoming.push(...page.upcoming.map((t) => t.id));
      if (!page.nextCursor) break;
      clock.advance(60_000); // the window stays the one of the first page
      page = await crm.tasks.agenda({ ownerId: 'anna', limit: 100, cursor: page.nextCursor });
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen.overdue).toEqual(all.overdue.map((t) => t.id));
    expect(seen.upcoming).toEqual(all.upcoming.map((t) => t.id));
    const first = await crm.tasks.agenda({ ownerId: 'anna', limit: 100 });
    await expectCrmError(crm.tasks.agenda({ ownerId: 'ben', limit: 100, cursor: first.nextCursor! }), 'VALIDATION');
    await expectCrmError(crm.tasks.agenda({ cursor: 'bogus' }), 'VALIDATION');
  });

  it('a validation error that stops listing problems says so', async () => {
    const { crm } = await crmWithPipeline();
    const tags = Array.from({ length: 30 }, () => new Date(0)) as unknown as string[];
    const error = await expectCrmError(crm.deals.create({ title: 'x', tags }), 'VALIDATION');
    expect(error.details.issues).toHaveLength(21);
    expect(error.details.issues.at(-1)!.code).toBe('too_many_issues');
  });
});
