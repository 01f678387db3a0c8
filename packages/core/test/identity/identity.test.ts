import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { phoneNumbers } from '@crmkit/core/phone';
import { createTestCrm } from '@crmkit/core/testing';
import { crmWithPipeline, expectCrmError, expectUnchanged, issuePaths } from '../helpers.js';

describe('phone identity: E.164 with a default region', () => {
  it('finds +33 6 12 34 56 78 when probed with 06 12 34 56 78 in France (the issue example)', async () => {
    const { crm } = await createTestCrm({ phoneNumbers });
    await crm.identity.set({ defaultRegion: 'FR' });
    const contact = await crm.contacts.create({ name: 'Élise Martin', phone: '+33 6 12 34 56 78' });
    const found = await crm.duplicates.find({ phone: '06 12 34 56 78' }, { minScore: 0.5 });
    expect(found.map((c) => [c.entity, c.record.id, c.reasons[0]!.kind])).toEqual([['contact', contact.id, 'phone']]);
    expect(contact.searchKeys).toContain('phone:+33612345678');
  });

  it('lets a call override the tenant region, and a record read its phone in its own country', async () => {
    const { crm } = await createTestCrm({ phoneNumbers });
    await crm.identity.set({ defaultRegion: 'DE' });
    const paris = await crm.contacts.create({ name: 'Paris office', phone: '01 42 68 53 00', country: 'FR' });
    expect(paris.searchKeys).toContain('phone:+33142685300');
    expect(await crm.duplicates.find({ phone: '01 42 68 53 00' })).toEqual([]); // read in DE: another number
    const found = await crm.duplicates.find({ phone: '01 42 68 53 00' }, { region: 'FR' });
    expect(found.map((c) => c.record.id)).toEqual([paris.id]);
    expect((await crm.contacts.list({ where: where.same('phone', '01 42 68 53 00', 'FR') })).items.map((c) => c.id)).toEqual([paris.id]);
  });

  it('without numbering-plan data, a national number has no identity: no false matches between countries', async () => {
    const t = await createTestCrm();
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.identity.set({ defaultRegion: 'FR' }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['defaultRegion']);
    expectUnchanged(t, before);
    // Same national digits, different countries: the old last-ten-digits key matched them.
    const berlin = await t.crm.contacts.create({ name: 'A', phone: '030 1234 5678', country: 'DE' });
    await t.crm.contacts.create({ name: 'B', phone: '+44 20 7946 0958' });
    expect(berlin.searchKeys.some((k) => k.startsWith('phone:'))).toBe(false);
    expect(await t.crm.duplicates.find({ phone: '+1 207 946 0958' })).toEqual([]);
    const same = await t.crm.duplicates.find({ phone: '0044 20 7946 0958' });
    expect(same.map((c) => c.record.name)).toEqual(['B']);
  });

  it('"0033 (0)6 …" is "+33 6 …" for where.same, the finder and an import key (review16j #2)', async () => {
    const { crm } = await createTestCrm();
    const ada = await crm.contacts.create({ name: 'Ada', phone: '+33 6 12 34 56 78' });
    expect((await crm.contacts.list({ where: where.same('phone', '0033 (0)6 12 34 56 78') })).items.map((c) => c.id)).toEqual([ada.id]);
    expect((await crm.duplicates.find({ phone: '0033 (0)6 12 34 56 78' }, { entities: ['contact'] })).map((c) => c.record.id)).toEqual([ada.id]);
    const report = await crm.import.run({ entity: 'contact', mode: 'update', key: 'phone', rows: [{ name: 'Ada L', phone: '0033 (0)6 12 34 56 78' }] });
    expect(report.rows[0]).toMatchObject({ outcome: 'updated', id: ada.id });
  });

  it('with the numbering plans, "0033 6 …" keeps its identity with no region and in the US (review16j #3)', async () => {
    const { crm } = await createTestCrm({ phoneNumbers });
    const ada = await crm.contacts.create({ name: 'Ada', phone: '+33 6 12 34 56 78' });
    expect((await crm.duplicates.find({ phone: '0033 6 12 34 56 78' }, { entities: ['contact'] })).map((c) => c.record.id)).toEqual([ada.id]);
    await crm.identity.set({ defaultRegion: 'US' });
    expect((await crm.duplicates.find({ phone: '0033 6 12 34 56 78' }, { entities: ['contact'] })).map((c) => c.record.id)).toEqual([ada.id]);
    // The US's own international prefix, and a stored spelling with an en dash, `extension` and full-width digits.
    expect((await crm.duplicates.find({ phone: '011 33 6 12 34 56 78' }, { entities: ['contact'] })).map((c) => c.record.id)).toEqual([ada.id]);
    const wide = await crm.contacts.create({ name: 'Ada Wide', phone: '＋３３ ６–１２–３４–５６–７８ extension 12' });
    expect(wide.searchKeys).toContain('phone:+33612345678');
  });

  it('a record stores the spellings the parsers read; other text is VALIDATION invalid_format at phone', async () => {
    const { crm } = await createTestCrm();
    for (const phone of ['+33 6–12–34–56–78', '＋３３ ６ １２ ３４ ５６ ７８', 'tel:+33-6-12-34-56-78;ext=12', '+33 6 12 34 56 78 extension 12', '+1 415 555 2671 #12', '06 12 34 56 78 x12']) {
      expect((await crm.contacts.create({ name: 'Ada', phone })).phone).toBe(phone);
    }
    for (const phone of ['+33 6 12 34 56 78 poste 12', 'call me', '+33 six', '', 'tel:']) {
      const error = await expectCrmError(crm.contacts.create({ name: 'Ada', phone }), 'VALIDATION');
      expect(error.details.issues, phone).toEqual([{ path: ['phone'], code: 'invalid_format', message: 'must be a phone number' }]);
    }
  });

  it('reindexes keys after the default region changes', async () => {
    const { crm } = await createTestCrm({ phoneNumbers });
    const lead = await crm.leads.create({ name: 'Nationally written', phone: '06 12 34 56 78' });
    expect(lead.searchKeys.some((k) => k.startsWith('phone:'))).toBe(false);
    await crm.identity.set({ defaultRegion: 'FR' });
    expect(await crm.identity.reindex()).toEqual({ leads: 1, contacts: 0, companies: 0 });
    expect((await crm.leads.get(lead.id)).searchKeys).toContain('phone:+33612345678');
    expect(await crm.identity.reindex()).toEqual({ leads: 0, contacts: 0, companies: 0 });
    await crm.identity.set({ defaultRegion: null });
    expect(await crm.identity.get()).toEqual({});
  });
});

describe('domains and e-mail domains after IDNA normalisation', () => {
  it('stores company domains canonically and matches leads by their e-mail domain in any spelling', async () => {
    const { crm } = await crmWithPipeline();
    const company = await crm.companies.create({ name: 'Bücherstube', domain: 'www.Bücher.DE' });
    expect(company.domain).toBe('xn--bcher-kva.de');
    const lead = await crm.leads.create({ name: 'Jan', email: 'jan@xn--BCHER-kva.de' });
    const { company: linked, companyCreated } = await crm.leads.convert(lead.id);
    expect([linked?.id, companyCreated]).toEqual([company.id, false]);
    expect((await crm.companies.list({ where: where.same('domain', 'https://bücher.de/shop') })).items.map((c) => c.id)).toEqual([company.id]);
  });

  it('never refuses data derived from an accepted input: a company domain from an IDN e-mail, blank names and titles', async () => {
    const { crm } = await crmWithPipeline();
    const lead = await crm.leads.create({ name: 'Zoë', email: 'zoe@Müller-Technik.DE', companyName: 'Müller Technik', title: '   ' });
    const { company, deal } = await crm.leads.convert(lead.id, { deal: true });
    expect(company?.domain).toBe('xn--mller-technik-wob.de');
    expect(deal?.title).toBe('Müller Technik');
    const blank = await crm.leads.create({ name: 'Kim', companyName: '  ' });
    const converted = await crm.leads.convert(blank.id, { deal: true });
    expect([converted.company, converted.companyCreated, converted.deal?.title]).toEqual([undefined, false, 'Kim']);
  });

  it('refuses e-mail addresses whose domain is no domain, and domains that are not domains', async () => {
    const t = await createTestCrm();
    const before = t.storage.snapshot();
    for (const email of ['a@b..c', 'a@1.2.3.4', 'a@exa_mple.com', 'a@-x.com']) {
      expect(issuePaths(await expectCrmError(t.crm.contacts.create({ name: 'x', email }), 'VALIDATION')), email).toEqual(['email']);
    }
    for (const domain of ['localhost', 'a..b', '1.2.3.4', 'x_y.com']) {
      expect(issuePaths(await expectCrmError(t.crm.companies.create({ name: 'x', domain }), 'VALIDATION')), domain).toEqual(['domain']);
    }
    expectUnchanged(t, before);
  });
});

describe('where.same: a normalised identity search', () => {
  it('finds an e-mail in any case or IDNA spelling (where.eq stays exact)', async () => {
    const { crm } = await createTestCrm();
    const ada = await crm.contacts.create({ name: 'Ada', email: 'ada@example.com' });
    await crm.contacts.create({ name: 'Other', email: 'other@example.com' });
    expect((await crm.contacts.list({ where: where.eq('email', 'Ada@Example.COM') })).items).toEqual([]);
    expect((await crm.contacts.list({ where: where.same('email', 'Ada@Example.COM') })).items.map((c) => c.id)).toEqual([ada.id]);
    const nested = await crm.contacts.list({ where: where.and(where.eq('name', 'Ada'), where.or(where.same('email', ' ADA@EXAMPLE.COM '), where.same('phone', '+1 415 555 0100'))) });
    expect(nested.items.map((c) => c.id)).toEqual([ada.id]);
    const lead = await crm.leads.create({ name: 'Ü', email: 'ü@bücher.de' });
    expect((await crm.leads.list({ where: where.same('email', 'Ü@XN--BCHER-KVA.DE') })).items.map((l) => l.id)).toEqual([lead.id]);
  });

  it('refuses what it cannot answer with VALIDATION naming the part', async () => {
    const { crm } = await crmWithPipeline();
    const cases: [Promise<unknown>, string][] = [
      [crm.deals.list({ where: where.same('email', 'a@b.co') as never }), 'where.op'],
      [crm.contacts.list({ where: where.same('domain', 'acme.com') }), 'where.field'],
      [crm.contacts.list({ where: where.same('email', 'not an e-mail') }), 'where.value'],
      [crm.contacts.list({ where: where.same('phone', '06 12 34 56 78') }), 'where.value'],
      [crm.contacts.list({ where: where.same('phone', '+33 6 12 34 56 78', 'fr') }), 'where.region'],
      [crm.contacts.list({ where: { op: 'and', filters: [{ op: 'same', field: 'email', value: 'a@b.co', extra: 1 } as never] } }), 'where.filters.0.extra'],
    ];
    for (const [promise, path] of cases) expect(issuePaths(await expectCrmError(promise, 'VALIDATION'))).toContain(path);
  });

  it('keeps an observed list current when a matching record appears', async () => {
    const { crm } = await createTestCrm();
    const observer = crm.observe.contacts({ where: where.same('email', 'NEW@acme.com') });
    const seen: number[] = [];
    const off = observer.subscribe(() => seen.push(observer.getSnapshot().data?.items.length ?? -1));
    await observer.refetch();
    await crm.contacts.create({ name: 'New', email: 'new@ACME.com' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(observer.getSnapshot().data?.items.map((c) => c.name)).toEqual(['New']);
    off();
  });
});

describe('leads.convert matching policy', () => {
  it('links the existing contact with the lead\'s e-mail (any case) instead of creating a duplicate', async () => {
    const { crm } = await crmWithPipeline();
    const company = await crm.companies.create({ name: 'Analytical Engines' });
    const ada = await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk', companyId: company.id });
    const lead = await crm.leads.create({ name: 'A. Lovelace', email: 'Ada@Analytical.co.uk', companyName: 'Something Else' });
    const result = await crm.leads.convert(lead.id, { deal: { title: 'Engine' } });
    expect([result.contact.id, result.contactCreated, result.contactMatchedBy]).toEqual([ada.id, false, 'email']);
    expect([result.company?.id, result.companyCreated]).toEqual([company.id, false]);
    expect(result.deal?.contactId).toBe(ada.id);
    expect((await crm.contacts.list()).items).toHaveLength(1);
    const events = await crm.eventLog.list({ where: where.eq('type', 'lead.converted') });
    expect(events.items[0]!.data).toMatchObject({ contactId: ada.id, contactCreated: false, contactMatchedBy: 'email' });
  });

  it('falls back to the phone number, and matches nothing with match: "none"', async () => {
    const { crm } = await createTestCrm({ phoneNumbers });
    await crm.identity.set({ defaultRegion: 'FR' });
    const known = await crm.contacts.create({ name: 'Élise', phone: '+33 6 12 34 56 78' });
    const byPhone = await crm.leads.create({ name: 'Elise M.', phone: '06 12 34 56 78' });
    expect((await crm.leads.convert(byPhone.id)).contactMatchedBy).toBe('phone');
    const fresh = await crm.leads.create({ name: 'Elise again', phone: '06 12 34 56 78' });
    const created = await crm.leads.convert(fresh.id, { match: 'none' });
    expect([created.contactCreated, created.contact.id === known.id]).toEqual([true, false]);
  });

  it('refuses a deal currency that contradicts the lead\'s expected value, writing nothing', async () => {
    const t = await crmWithPipeline();
    const lead = await t.crm.leads.create({ name: 'Ann', expectedValue: { amount: 500_00, currency: 'EUR' } });
    const before = t.storage.snapshot();
    const error = await expectCrmError(t.crm.leads.convert(lead.id, { deal: { currency: 'USD' } }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['deal.currency']);
    expectUnchanged(t, before);
    const { deal } = await t.crm.leads.convert(lead.id, { deal: { currency: 'USD', value: { amount: 540_00, currency: 'USD' } } });
    expect(deal?.value).toEqual({ amount: 540_00, currency: 'USD' });
  });
});

describe('identities are the duplicates feature', () => {
  it('without duplicates(), where.same is refused with feature_required, cards carry no keys and conversion creates a new contact', async () => {
    const { crm } = await createTestCrm({ features: [] });
    const contact = await crm.contacts.create({ name: 'Ada', email: 'ada@example.com' });
    expect(contact.searchKeys).toEqual([]);
    const error = await expectCrmError(crm.contacts.list({ where: where.same('email', 'ADA@example.com') }), 'VALIDATION');
    expect(error.details.issues.map((i) => [i.path.join('.'), i.code])).toEqual([['where', 'feature_required']]);
    const lead = await crm.leads.create({ name: 'Ada', email: 'Ada@Example.com' });
    const converted = await crm.leads.convert(lead.id, {});
    expect(converted.contactCreated).toBe(true);
    expect(converted.contact.id).not.toBe(contact.id);
    expect('identity' in crm).toBe(false);
  });

  it('with duplicates(), lead conversion reuses the contact with the same normalised e-mail', async () => {
    const { crm } = await createTestCrm();
    const contact = await crm.contacts.create({ name: 'Ada', email: 'ada@example.com' });
    const lead = await crm.leads.create({ name: 'Ada L.', email: 'ADA@Example.com' });
    const converted = await crm.leads.convert(lead.id, {});
    expect([converted.contact.id, converted.contactMatchedBy, converted.contactCreated]).toEqual([contact.id, 'email', false]);
  });
});
