import { describe, expect, it } from 'vitest';
import { where } from '@crmkit/core';
import { describeEvent } from '@crmkit/core/describe';
import { createTestCrm, type TestCrm } from '@crmkit/core/testing';
import { CRM_STORAGE_SCHEMA } from '@crmkit/core/storage';
import { expectCrmError, issuePaths } from '../helpers.js';

/** Every stored row of the tenant, as JSON: equal dumps prove nothing was written. */
async function dump(t: Pick<TestCrm, 'storage'>): Promise<string> {
  return t.storage.transaction('r', async (tx) => {
    const all: Record<string, unknown[]> = {};
    for (const entity of CRM_STORAGE_SCHEMA.entities) all[entity.name] = (await tx.query(entity.name, 'test', { sort: [{ field: 'id' }] })).rows;
    return JSON.stringify(all);
  });
}

/** Two contacts of one person, with a deal, a task, an activity and a converted lead on the duplicate. */
async function twoAdas() {
  const t = await createTestCrm();
  const { crm } = t;
  await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'won', name: 'Won', kind: 'won' }] });
  await crm.customFields.define({ entity: 'contact', key: 'size', label: 'Size', type: 'number' });
  const ada = await crm.contacts.create({ name: 'Ada Lovelace', email: 'ada@analytical.co.uk', tags: ['vip'], externalRefs: [{ system: 'shop', id: '1' }], custom: { size: 10 } });
  const lead = await crm.leads.create({ name: 'A. Lovelace', email: 'ada.l@example.com', phone: '+44 20 7946 0958' });
  await crm.leads.qualify(lead.id);
  const { contact: dup } = await crm.leads.convert(lead.id, {});
  await crm.contacts.update(dup.id, { tags: ['newsletter'], externalRefs: [{ system: 'erp', id: 'C-9' }], custom: { size: 20 }, jobTitle: 'Countess' });
  const deal = await crm.deals.create({ title: 'Engine', contactId: dup.id });
  const task = await crm.tasks.create({ subject: 'Call back', contactId: dup.id, dueAt: '2026-01-06T10:00:00.000Z' });
  const call = await crm.activities.log({ kind: 'call', contactId: dup.id, participants: [{ contactId: dup.id }, { contactId: ada.id }], outcome: 'Interested' });
  return { ...t, ada, dup: await crm.contacts.get(dup.id), lead, deal, task, call };
}

describe('crm.merges.contacts', () => {
  it('keeps the survivor, takes the chosen fields, unions tags and external refs, re-points every link, deletes the duplicate', async () => {
    const { crm, ada, dup, lead, deal, task, call } = await twoAdas();
    const { survivor, merge } = await crm.merges.contacts(ada.id, [dup.id], { fields: { phone: dup.id, 'custom.size': dup.id } });

    expect(survivor).toMatchObject({ id: ada.id, name: 'Ada Lovelace', email: 'ada@analytical.co.uk', phone: dup.phone, custom: { size: 20 }, version: ada.version + 1 });
    expect(survivor.jobTitle).toBeUndefined(); // not chosen, not filled: the survivor's (empty) value stays
    expect(survivor.tags).toEqual(['vip', 'newsletter']);
    expect(survivor.externalRefs).toEqual([{ system: 'shop', id: '1' }, { system: 'erp', id: 'C-9' }]);
    expect(survivor.leadId).toBe(lead.id); // the duplicate's source lead: its history is the survivor's now
    expect(await crm.contacts.get(ada.id)).toEqual(survivor);

    await expectCrmError(crm.contacts.get(dup.id), 'NOT_FOUND');
    expect((await crm.contacts.list()).items.map((c) => c.id)).toEqual([ada.id]);
    expect((await crm.contacts.getByExternalRef('erp', 'C-9')).id).toBe(ada.id);

    expect((await crm.deals.get(deal.id)).contactId).toBe(ada.id);
    expect((await crm.tasks.get(task.id)).contactId).toBe(ada.id);
    const activity = await crm.activities.get(call.id);
    expect(activity.contactId).toBe(ada.id);
    expect(activity.participants).toEqual([{ contactId: ada.id }]); // listed once
    expect((await crm.leads.get(lead.id)).converted?.contactId).toBe(ada.id);

    expect(merge).toMatchObject({ entity: 'contact', survivorId: ada.id, duplicateIds: [dup.id], status: 'merged', fields: { phone: dup.id, 'custom.size': dup.id } });
    expect(merge.duplicates).toEqual([dup]);
    expect(merge.survivorBefore).toEqual(ada);
    const fields = merge.links.filter((l) => l.entity !== 'event').map((l) => `${l.entity}.${l.field}`).sort();
    expect(fields).toEqual(['activity.contactId', 'activity.participants', 'deal.contactId', 'lead.converted.contactId', 'task.contactId']);
    expect(merge.links.find((l) => l.entity === 'deal')).toMatchObject({ id: deal.id, from: dup.id, versionAfter: deal.version + 1 });
    expect(await crm.merges.get(merge.id)).toEqual(merge);
    expect((await crm.merges.list({ survivorId: ada.id })).items.map((m) => m.id)).toEqual([merge.id]);
  });

  it('the survivor\'s timeline shows the duplicate\'s history and the merge, in English', async () => {
    const { crm, ada, dup } = await twoAdas();
    const before = await crm.timeline({ type: 'contact', id: dup.id }, { limit: 1000 });
    await crm.merges.contacts(ada.id, [dup.id]);
    const timeline = await crm.timeline({ type: 'contact', id: ada.id }, { limit: 1000 });
    const ids = new Set(timeline.items.map((e) => e.id));
    for (const event of before.items) expect(ids.has(event.id)).toBe(true);
    const merged = timeline.items.find((e) => e.type === 'contact.merged')!;
    expect(merged.data).toMatchObject({ duplicateIds: [dup.id], links: expect.any(Number) });
    expect(describeEvent(merged)).toMatch(/^Merged 1 duplicate contact into this one \(\d+ links moved\)$/);
  });

  it('records the duplicate\'s removal for consumers (its own timeline stays readable) and its re-creation on undo', async () => {
    const { crm, ada, dup } = await twoAdas();
    const { merge } = await crm.merges.contacts(ada.id, [dup.id]);
    const removed = await crm.eventLog.list({ where: where.and(where.eq('type', 'contact.removed'), where.eq('subjectId', dup.id)) });
    expect(removed.items.map((e) => e.data)).toEqual([{ contact: dup }]);
    const own = await crm.timeline({ type: 'contact', id: dup.id }, { limit: 1000 });
    expect(own.items[0]!.type).toBe('contact.merged');
    await crm.merges.undo(merge.id);
    const created = await crm.eventLog.list({ where: where.and(where.eq('type', 'contact.created'), where.eq('subjectId', dup.id)), limit: 10 });
    expect(created.items).toHaveLength(2);
  });

  it('undo restores the duplicate and the survivor as they were and points the links back; the timeline shows it', async () => {
    const { crm, ada, dup, lead, deal, task, call } = await twoAdas();
    const { merge } = await crm.merges.contacts(ada.id, [dup.id], { fields: { name: dup.id } });
    const undone = await crm.merges.undo(merge.id);
    const strip = ({ version: _v, updatedAt: _u, ...rest }: { version: number; updatedAt: string }) => rest;
    expect(strip(await crm.contacts.get(ada.id))).toEqual(strip(ada));
    expect(strip(await crm.contacts.get(dup.id))).toEqual(strip(dup));
    expect(undone.survivor.version).toBe(ada.version + 2);
    expect((await crm.deals.get(deal.id)).contactId).toBe(dup.id);
    expect((await crm.tasks.get(task.id)).contactId).toBe(dup.id);
    expect((await crm.activities.get(call.id)).participants).toEqual(call.participants);
    expect((await crm.leads.get(lead.id)).converted?.contactId).toBe(dup.id);
    expect((await crm.contacts.getByExternalRef('erp', 'C-9')).id).toBe(dup.id);
    expect((await crm.merges.get(merge.id)).status).toBe('undone');
    const timeline = await crm.timeline({ type: 'contact', id: ada.id }, { types: ['contact.mergeUndone'] });
    expect(timeline.items.map((e) => describeEvent(e))).toEqual(['Merge undone: 1 contact restored']);
    const dupTimeline = await crm.timeline({ type: 'contact', id: dup.id }, { limit: 1000 });
    expect(dupTimeline.items.some((e) => e.type === 'contact.mergeUndone')).toBe(true);
    // Review 16g: the restored duplicate's timeline read "Contact … created" and "Merged 1 duplicate contact into this one".
    const own = { type: 'contact', id: dup.id } as const;
    const merges = dupTimeline.items.filter((e) => /^contact\.(merged|mergeUndone|created|removed)$/.test(e.type) && (e.subjectId === dup.id || e.type !== 'contact.created'));
    expect(merges.slice(0, 4).map((e) => describeEvent(e, { timelineOf: own }))).toEqual([
      'Merge into another contact undone: restored',
      `Contact “${dup.name}” restored (merge undone)`,
      'Merged into another contact',
      `Contact “${dup.name}” removed`,
    ]);
    // The survivor's side, with or without timelineOf.
    const survivorSide = (await crm.timeline({ type: 'contact', id: ada.id }, { types: ['contact.merged', 'contact.mergeUndone'] })).items;
    for (const options of [{}, { timelineOf: { type: 'contact', id: ada.id } }]) {
      expect(survivorSide.map((e) => describeEvent(e, options))).toEqual(['Merge undone: 1 contact restored', expect.stringMatching(/^Merged 1 duplicate contact into this one/)]);
    }

    const again = await expectCrmError(crm.merges.undo(merge.id), 'CONFLICT');
    expect(again.details).toMatchObject({ reason: 'mergeUndone', mergeId: merge.id });
  });

  it('undo is refused when a record the merge touched changed since, naming it, and writes nothing', async () => {
    const { crm, ada, dup, deal } = await twoAdas();
    const { merge } = await crm.merges.contacts(ada.id, [dup.id]);
    await crm.deals.update(deal.id, { title: 'Engine v2' });
    const error = await expectCrmError(crm.merges.undo(merge.id), 'CONFLICT');
    expect(error.details).toMatchObject({ reason: 'changedSinceMerge', entity: 'deal', id: deal.id, expectedVersion: deal.version + 1, actualVersion: deal.version + 2 });
    expect((await crm.merges.get(merge.id)).status).toBe('merged');
    await expectCrmError(crm.contacts.get(dup.id), 'NOT_FOUND');

    await crm.contacts.update(ada.id, { jobTitle: 'Mathematician' });
    const survivorChanged = await expectCrmError(crm.merges.undo(merge.id), 'CONFLICT');
    expect(survivorChanged.details).toMatchObject({ reason: 'changedSinceMerge', entity: 'contact', id: ada.id });
  });

  it('undo works after the events the merge re-pointed were pruned from the log', async () => {
    const { crm } = await createTestCrm();
    const x = await crm.contacts.create({ name: 'X' });
    const y = await crm.contacts.create({ name: 'Y' });
    await crm.contacts.update(y.id, { jobTitle: 'a' });
    const { merge } = await crm.merges.contacts(x.id, [y.id]);
    expect(merge.links.some((l) => l.entity === 'event')).toBe(true);
    await crm.events.prune({ through: 3 });
    const undone = await crm.merges.undo(merge.id);
    expect(undone.duplicates.map((d) => d.id)).toEqual([y.id]);
    expect((await crm.contacts.get(y.id)).jobTitle).toBe('a');
    expect((await crm.merges.get(merge.id)).status).toBe('undone');
  });

  it('undo is refused (RULE_VIOLATION naming the link) when a restored record links to a record deleted since; nothing written', async () => {
    const t = await createTestCrm();
    const { crm } = t;
    const gone = await crm.companies.create({ name: 'Gone Inc' });
    const x = await crm.contacts.create({ name: 'X' });
    const y = await crm.contacts.create({ name: 'Y', companyId: gone.id });
    const { merge } = await crm.merges.contacts(x.id, [y.id]);
    await crm.companies.remove(gone.id);
    const before = await dump(t);
    const error = await expectCrmError(crm.merges.undo(merge.id), 'RULE_VIOLATION');
    expect(error.details.violations[0]).toMatchObject({ rule: 'merge.undoMissingReference', data: { id: y.id, field: 'companyId', missing: { entity: 'company', id: gone.id } } });
    expect(await dump(t)).toBe(before);
    await expectCrmError(crm.contacts.get(y.id), 'NOT_FOUND');
  });

  it('a refused undo writes nothing (stored state equal before and after)', async () => {
    const t = await twoAdas();
    const { merge } = await t.crm.merges.contacts(t.ada.id, [t.dup.id]);
    await t.crm.tasks.complete(t.task.id);
    const before = await dump(t);
    await expectCrmError(t.crm.merges.undo(merge.id), 'CONFLICT');
    expect(await dump(t)).toBe(before);
  });

  it('fillEmpty takes the survivor\'s empty fields from the first duplicate that has them', async () => {
    const { crm, ada, dup } = await twoAdas();
    const { survivor, merge } = await crm.merges.contacts(ada.id, [dup.id], { fillEmpty: true });
    expect(survivor).toMatchObject({ name: 'Ada Lovelace', jobTitle: 'Countess', phone: dup.phone, custom: { size: 10 } });
    expect(merge.fields).toEqual({ jobTitle: dup.id, phone: dup.id });
  });

  it('works with the duplicate finder: find → merge the pair → find no longer reports it', async () => {
    const { crm } = await createTestCrm();
    const a = await crm.contacts.create({ name: 'Jon Smith', email: 'jon.smith@gmail.com' });
    const b = await crm.contacts.create({ name: 'John Smith', email: 'jonsmith@gmail.com', phone: '+1 415 555 2671' });
    const found = await crm.duplicates.find({ email: 'jon.smith@gmail.com', name: 'John Smith' });
    const ids = found.filter((c) => c.entity === 'contact').map((c) => c.record.id);
    expect(ids).toEqual(expect.arrayContaining([a.id, b.id]));
    await crm.merges.contacts(a.id, ids.filter((id) => id !== a.id), { fillEmpty: true });
    const after = await crm.duplicates.find({ email: 'jon.smith@gmail.com', name: 'John Smith' });
    expect(after.filter((c) => c.entity === 'contact').map((c) => c.record.id)).toEqual([a.id]);
    // The survivor's search keys now include the duplicate's phone.
    expect((await crm.contacts.list({ where: where.same('phone', '+1 415 555 2671') })).items.map((c) => c.id)).toEqual([a.id]);
  });
});

describe('merging companies and leads', () => {
  it('companies: contacts, deals, converted leads of the duplicate move to the survivor', async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const acme = await crm.companies.create({ name: 'Acme', domain: 'acme.com' });
    const acme2 = await crm.companies.create({ name: 'ACME GmbH', domain: 'acme.de', industry: 'Machinery' });
    const person = await crm.contacts.create({ name: 'Wile', companyId: acme2.id });
    const deal = await crm.deals.create({ title: 'Rockets', companyId: acme2.id });
    const lead = await crm.leads.create({ name: 'Road Runner', companyName: 'ACME GmbH', email: 'rr@acme.de' });
    await crm.leads.qualify(lead.id);
    await crm.leads.convert(lead.id, { companyId: acme2.id });
    const { survivor, merge } = await crm.merges.companies(acme.id, [acme2.id], { fillEmpty: true });
    expect(survivor).toMatchObject({ name: 'Acme', domain: 'acme.com', industry: 'Machinery' });
    expect((await crm.contacts.get(person.id)).companyId).toBe(acme.id);
    expect((await crm.deals.get(deal.id)).companyId).toBe(acme.id);
    expect((await crm.leads.get(lead.id)).converted?.companyId).toBe(acme.id);
    expect((await crm.companies.list()).items.map((c) => c.id)).toEqual([acme.id]);
    await crm.merges.undo(merge.id);
    expect((await crm.contacts.get(person.id)).companyId).toBe(acme2.id);
    expect((await crm.leads.get(lead.id)).converted?.companyId).toBe(acme2.id);
  });

  it('leads: contacts and deals converted from the duplicate move to the survivor, which keeps its status', async () => {
    const { crm } = await createTestCrm();
    await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const first = await crm.leads.create({ name: 'Grace', email: 'grace@navy.mil' });
    const second = await crm.leads.create({ name: 'Grace Hopper', email: 'grace@navy.mil', message: 'Need a compiler' });
    await crm.leads.qualify(second.id);
    const converted = await crm.leads.convert(second.id, { deal: { title: 'Compiler' } });
    const { survivor } = await crm.merges.leads(first.id, [second.id], { fields: { message: second.id } });
    expect(survivor).toMatchObject({ status: 'new', message: 'Need a compiler', name: 'Grace' });
    expect((await crm.contacts.get(converted.contact.id)).leadId).toBe(first.id);
    expect((await crm.deals.get(converted.deal!.id)).leadId).toBe(first.id);
  });
});

describe('bad input: a typed error and nothing written', () => {
  it.each([
    ['unknown survivor', (ids: Ids) => ['missing1', [ids.dup]], 'NOT_FOUND'],
    ['unknown duplicate', (ids: Ids) => [ids.ada, ['missing1']], 'NOT_FOUND'],
    ['a duplicate of another tenant', (ids: Ids) => [ids.ada, [ids.foreign]], 'NOT_FOUND'],
    ['a duplicate of another kind (a company)', (ids: Ids) => [ids.ada, [ids.company]], 'NOT_FOUND'],
    ['the survivor among the duplicates', (ids: Ids) => [ids.ada, [ids.dup, ids.ada]], 'VALIDATION'],
    ['a merge with itself', (ids: Ids) => [ids.ada, [ids.ada]], 'VALIDATION'],
    ['an empty duplicate list', (ids: Ids) => [ids.ada, []], 'VALIDATION'],
    ['a duplicate listed twice', (ids: Ids) => [ids.ada, [ids.dup, ids.dup]], 'VALIDATION'],
    ['a field choice naming a record not in the merge', (ids: Ids) => [ids.ada, [ids.dup], { fields: { email: ids.company } }], 'VALIDATION'],
    ['a field that cannot be chosen', (ids: Ids) => [ids.ada, [ids.dup], { fields: { version: ids.dup } }], 'VALIDATION'],
    // review16h #7: checked against the tenant's custom fields (`size` is defined), also when taken from the survivor.
    ['a custom field the tenant does not define', (ids: Ids) => [ids.ada, [ids.dup], { fields: { 'custom.nosuch': ids.dup, email: ids.dup } }], 'VALIDATION'],
    ['a custom field the tenant does not define, kept from the survivor', (ids: Ids) => [ids.ada, [ids.dup], { fields: { 'custom.nosuch': 'survivor' } }], 'VALIDATION'],
    ['a stale survivor version', (ids: Ids) => [ids.ada, [ids.dup], { version: 99 }], 'CONFLICT'],
  ] as const)('%s', async (_name, args, code) => {
    const t = await twoAdas();
    const other = await createTestCrm({ storage: t.storage, tenantId: 'other', seed: 'other' });
    const foreign = await other.crm.contacts.create({ name: 'Foreign' });
    const company = await t.crm.companies.create({ name: 'Analytical Engines' });
    const ids = { ada: t.ada.id, dup: t.dup.id, foreign: foreign.id, company: company.id };
    const before = await dump(t);
    const [survivorId, duplicateIds, options] = args(ids) as unknown as [string, string[], object | undefined];
    const error = await expectCrmError(t.crm.merges.contacts(survivorId, duplicateIds, options), code);
    if (code === 'VALIDATION') expect(issuePaths(error as never).length).toBeGreaterThan(0);
    expect(await dump(t)).toBe(before);
  });

  it('names each problem with a stable issue code (review16j #6)', async () => {
    const { crm, ada, dup } = await twoAdas();
    const issues = async (...args: unknown[]) => (await expectCrmError((crm.merges.contacts as (...a: unknown[]) => Promise<unknown>)(...args), 'VALIDATION')).details.issues.map((i) => [i.path.join('.'), i.code]);
    expect(await issues(ada.id, dup.id)).toEqual([['duplicateIds', 'invalid_type']]);
    expect(await issues(ada.id, { 0: dup.id })).toEqual([['duplicateIds', 'invalid_type']]);
    expect(await issues(ada.id, [])).toEqual([['duplicateIds', 'too_small']]);
    expect(await issues(ada.id, [ada.id])).toEqual([['duplicateIds.0', 'self_merge']]);
    expect(await issues(ada.id, [dup.id, dup.id])).toEqual([['duplicateIds.1', 'duplicate']]);
    expect(await issues(ada.id, [dup.id], { fields: { email: 'nobody' } })).toEqual([['fields.email', 'not_in_merge']]);
    expect(await issues(ada.id, [dup.id], { fields: { email: 42 } })).toEqual([['fields.email', 'invalid_type']]);
  });

  it('names the offending path', async () => {
    const { crm, ada, dup } = await twoAdas();
    const error = await expectCrmError(crm.merges.contacts(ada.id, [dup.id, ada.id], { fields: { email: 'nobody', nope: dup.id } }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['duplicateIds.1', 'fields.email', 'fields.nope']);
    const custom = await expectCrmError(crm.merges.contacts(ada.id, [dup.id], { fields: { 'custom.size': dup.id, 'custom.nosuch': dup.id } }), 'VALIDATION');
    expect(custom.details.issues).toEqual([{ path: ['fields', 'custom.nosuch'], code: 'unknown_field', message: 'contact has no custom field "nosuch"' }]);
    expect(custom.message).toContain('merges.contacts');
    await expectCrmError(crm.merges.undo('nomerge'), 'NOT_FOUND');
    await expectCrmError(crm.merges.get('nomerge'), 'NOT_FOUND');
  });
});

type Ids = { ada: string; dup: string; foreign: string; company: string };

describe('merges in a view', () => {
  it('needs update on the survivor and delete on the duplicates: FORBIDDEN otherwise, nothing written', async () => {
    const t = await twoAdas();
    const { crm } = t;
    await crm.access.setPolicy({
      roles: {
        editor: { grants: { contact: { read: 'all', create: 'all', update: 'all' }, deal: { read: 'all' }, lead: { read: 'all' } } },
        // Re-pointing the duplicate's deal, task and converted lead edits them: update on those too.
        admin: { grants: { contact: { '*': 'all' }, deal: { read: 'all', update: 'all' }, lead: { read: 'all', update: 'all' }, task: { read: 'all', update: 'all' } } },
      },
      defaultRoles: ['editor'],
    });
    const before = await dump(t);
    const error = await expectCrmError(crm.as({ userId: 'eve' }).merges.contacts(t.ada.id, [t.dup.id]), 'FORBIDDEN');
    expect(error.details).toMatchObject({ action: 'contact.delete', id: t.dup.id });
    expect(await dump(t)).toBe(before);
    const admin = crm.as({ userId: 'root', roles: ['admin'] });
    const { merge } = await admin.merges.contacts(t.ada.id, [t.dup.id]);
    await expectCrmError(crm.as({ userId: 'eve' }).merges.undo(merge.id), 'FORBIDDEN');
    await admin.merges.undo(merge.id);
    expect((await crm.contacts.get(t.dup.id)).name).toBe(t.dup.name);
  });
});

describe('the merge log in a view', () => {
  it('leaves out snapshots, ids and links of records the view cannot read', async () => {
    const { crm } = await createTestCrm();
    await crm.access.setPolicy({ roles: { rep: { grants: { contact: { '*': 'own' }, deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    await crm.access.setDirectory({ teams: [], users: [{ id: 'anna' }, { id: 'ben' }] });
    await crm.pipelines.create({ name: 'S', stages: [{ key: 'n', name: 'N' }] });
    const x = await crm.contacts.create({ name: 'Shared Name', ownerId: 'anna' });
    const y = await crm.contacts.create({ name: 'Shared Name', ownerId: 'ben', notes: 'Ben\'s secret', email: 'secret@ben.example' });
    const z = await crm.contacts.create({ name: 'Shared Name', ownerId: 'anna' });
    const bens = await crm.deals.create({ title: 'Ben deal', ownerId: 'ben', contactId: y.id });
    const annas = await crm.deals.create({ title: 'Anna deal', ownerId: 'anna', contactId: z.id });
    const { merge } = await crm.merges.contacts(x.id, [y.id, z.id], { fields: { notes: y.id, jobTitle: z.id } });
    expect(merge.duplicates).toHaveLength(2);
    expect(merge.links.map((l) => l.id)).toEqual(expect.arrayContaining([bens.id, annas.id]));
    const anna = crm.as({ userId: 'anna' });
    for (const seen of [await anna.merges.get(merge.id), (await anna.merges.list()).items[0]!]) {
      expect(seen.duplicates.map((d) => d.id)).toEqual([z.id]);
      expect(seen.duplicateIds).toEqual([z.id]);
      expect(JSON.stringify(seen)).not.toContain('secret');
      expect(JSON.stringify(seen)).not.toContain(y.id);
      expect(seen.links.map((l) => l.id)).toContain(annas.id);
      expect(seen.links.map((l) => l.id)).not.toContain(bens.id);
    }
    // Without a view the entry is whole.
    expect((await crm.merges.get(merge.id)).duplicates).toHaveLength(2);
  });
});

/** Reps own their contacts and deals: anna owns contacts X and Y; ben owns a deal of Y that anna's view cannot update. */
async function annaContactsWithBensDeal() {
  const t = await createTestCrm();
  const { crm } = t;
  await crm.access.setPolicy({ roles: { rep: { grants: { contact: { '*': 'own' }, deal: { '*': 'own' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
  await crm.access.setDirectory({ teams: [], users: [{ id: 'anna' }, { id: 'ben' }] });
  await crm.pipelines.create({ name: 'S', stages: [{ key: 'n', name: 'N' }] });
  const x = await crm.contacts.create({ name: 'X', ownerId: 'anna' });
  const y = await crm.contacts.create({ name: 'Y', ownerId: 'anna' });
  const d = await crm.deals.create({ title: 'Ben deal', ownerId: 'ben', contactId: y.id });
  return { t, crm, x, y, d };
}

describe('merging in a view re-points only what it may update', () => {
  it('FORBIDDEN, nothing written, when a duplicate\'s deal belongs to someone the view cannot update for', async () => {
    const { t, crm, x, y, d } = await annaContactsWithBensDeal();
    const before = await dump(t);
    await expectCrmError(crm.as({ userId: 'anna' }).merges.contacts(x.id, [y.id]), 'FORBIDDEN');
    expect(await dump(t)).toBe(before);
    expect((await crm.deals.get(d.id)).contactId).toBe(y.id);
  });
});

describe('undoing in a view points back only what it may update', () => {
  it('FORBIDDEN, nothing written, when a re-pointed deal belongs to someone the view cannot update for', async () => {
    const { t, crm, x, y, d } = await annaContactsWithBensDeal();
    const { merge } = await crm.merges.contacts(x.id, [y.id]);
    const before = await dump(t);
    await expectCrmError(crm.as({ userId: 'anna' }).merges.undo(merge.id), 'FORBIDDEN');
    expect(await dump(t)).toBe(before);
    expect((await crm.deals.get(d.id)).contactId).toBe(x.id);
    await crm.merges.undo(merge.id);
    expect((await crm.deals.get(d.id)).contactId).toBe(y.id);
  });

  it('FORBIDDEN without the id when the undo would restore a duplicate the view cannot read (create is the action); nothing written', async () => {
    const t = await createTestCrm();
    const { crm } = t;
    await crm.access.setPolicy({ roles: { rep: { grants: { contact: { '*': 'own' }, deal: { '*': 'all' }, pipeline: { read: 'all' } } } }, defaultRoles: ['rep'] });
    await crm.access.setDirectory({ teams: [], users: [{ id: 'anna' }, { id: 'ben' }] });
    const x = await crm.contacts.create({ name: 'Xavier Smith', ownerId: 'anna' });
    const y = await crm.contacts.create({ name: 'Xavier Smith', ownerId: 'ben', email: 'secret@y.org' });
    const { merge } = await crm.merges.contacts(x.id, [y.id], { fields: { email: y.id } });
    const before = await dump(t);
    const error = await expectCrmError(crm.as({ userId: 'anna' }).merges.undo(merge.id), 'FORBIDDEN');
    expect(error.details).toMatchObject({ action: 'contact.create', entity: 'contact' });
    expect(JSON.stringify({ message: error.message, details: error.details })).not.toContain(y.id);
    expect(await dump(t)).toBe(before);
    await crm.merges.undo(merge.id);
    expect((await crm.contacts.get(y.id)).email).toBe('secret@y.org');
  });
});

describe('crm.contacts/companies/leads.merge', () => {
  it('is the merges feature\'s merge where users look for it, undone the same way, and in a view acts for the principal', async () => {
    const { crm, ada, dup, deal } = await twoAdas();
    const { survivor, merge } = await crm.contacts.merge(ada.id, [dup.id], { fields: { jobTitle: dup.id } });
    expect(survivor).toMatchObject({ id: ada.id, jobTitle: 'Countess' });
    expect((await crm.deals.get(deal.id)).contactId).toBe(ada.id);
    expect((await crm.merges.get(merge.id)).entity).toBe('contact');
    await crm.merges.undo(merge.id);
    expect((await crm.contacts.get(dup.id)).id).toBe(dup.id);
    const acme = await crm.companies.create({ name: 'Acme' });
    const acme2 = await crm.companies.create({ name: 'ACME GmbH', website: 'https://acme.example' });
    expect((await crm.companies.merge(acme.id, [acme2.id], { fillEmpty: true })).survivor.website).toBe('https://acme.example');
    const one = await crm.leads.create({ name: 'One' });
    const two = await crm.leads.create({ name: 'Two', message: 'hello' });
    expect((await crm.leads.merge(one.id, [two.id], { fields: { message: two.id } })).survivor.message).toBe('hello');
    // A view's merge is checked like crm.merges'.
    const left = await crm.contacts.create({ name: 'Left' });
    const right = await crm.contacts.create({ name: 'Right' });
    expect((await crm.as({ userId: 'tester' }).contacts.merge(left.id, [right.id])).survivor.id).toBe(left.id);
  });

  it('without the merges() feature refuses with VALIDATION (feature_required) and writes nothing', async () => {
    const t = await createTestCrm({ features: [] });
    const a = await t.crm.contacts.create({ name: 'A' });
    const b = await t.crm.contacts.create({ name: 'B' });
    const before = await dump(t as unknown as TestCrm);
    const error = await expectCrmError(t.crm.contacts.merge(a.id, [b.id]), 'VALIDATION');
    expect(error.details.issues[0]!.code).toBe('feature_required');
    expect(await dump(t as unknown as TestCrm)).toBe(before);
  });
});
