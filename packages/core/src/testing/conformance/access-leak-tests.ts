import { expect, it } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import type { CrmWith } from '../../crm/feature.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { AllFeatures } from '../create-test-crm.js';

type AccessCrm = CrmWith<AllFeatures>;

/** What the access suite's `open` gives: a trusted crm with the suite's directory, a pipeline (`new`, `next`) and a `budget` custom field. */
export interface LeakWorld {
  readonly root: AccessCrm;
  readonly pipelineId: string;
}

type Grants = AccessPolicy['roles'][string]['grants'];
type Fields = AccessPolicy['roles'][string]['fields'];

const policy = (grants: Grants, fields?: Fields, extra: Record<string, { grants: Grants; fields?: Fields }> = {}): AccessPolicy =>
  ({ roles: { r: { grants, ...(fields ? { fields } : {}) }, ...extra }, defaultRoles: ['r'] }) as AccessPolicy;

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'allowed';
  } catch (error) {
    if (isCrmError(error)) return error.code;
    throw error;
  }
}

const REP: Grants = { deal: { '*': 'own' }, contact: { '*': 'own' }, company: { '*': 'own' }, lead: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, report: { read: 'all' } };

/**
 * Leaks an adversarial review found (issue 11), one `it` per kind, run on every adapter by the access
 * suite: history and bookkeeping fields of hidden records, shares of departed users, upserts that tell
 * ids, records created for a view without the create checks, figures derived from hidden fields,
 * oracles on unreadable fields, report and export cells of hidden fields.
 */
export function accessLeakTests(open: () => Promise<LeakWorld>): void {
  it('stage history: NOT_FOUND for a hidden deal (also once removed); a readable one carries no bookkeeping fields', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const theirs = await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other' });
    const gone = await w.root.deals.create({ title: 'Removed', pipelineId: w.pipelineId, ownerId: 'other' });
    const mine = await w.root.deals.create({ title: 'Mine', pipelineId: w.pipelineId, ownerId: 'me' });
    await w.root.deals.advance(theirs.id);
    await w.root.deals.advance(mine.id);
    await w.root.deals.remove(gone.id);
    const me = w.root.as({ userId: 'me' });
    expect(await outcome(me.deals.stageHistory(theirs.id))).toBe('NOT_FOUND');
    expect(await outcome(me.deals.stageHistory(gone.id))).toBe('NOT_FOUND');
    const history = await me.deals.stageHistory(mine.id);
    expect(history.map((v) => v.stageKey)).toEqual(['new', 'next']);
    for (const visit of history) expect(Object.keys(visit).filter((k) => k.startsWith('parent'))).toEqual([]);
    // The trusted crm still reads both.
    expect((await w.root.deals.stageHistory(theirs.id)).length).toBe(2);
    expect((await w.root.deals.stageHistory(gone.id)).length).toBe(1);
  });

  it('bookkeeping fields (parentOwner, parentShareKeys) reach no view: not in events, the event log or the feed, and filtering or sorting by them is FORBIDDEN', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const theirs = await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other' });
    const me = w.root.as({ userId: 'me' });
    const start = await w.root.events.head();
    const seen: unknown[] = [];
    const off = me.on('*', (e) => seen.push(e));
    const task = await w.root.tasks.create({ subject: 'Mine on their deal', dueAt: '2026-03-05T10:00:00Z', dealId: theirs.id, ownerId: 'me' });
    await w.root.activities.log({ kind: 'note', body: 'Mine on their deal', dealId: theirs.id, ownerId: 'me' });
    await w.root.tasks.update(task.id, { subject: 'Renamed' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    off();
    const log = await me.eventLog.list({ where: { op: 'in', field: 'subjectType', values: ['task', 'activity'] }, limit: 100 });
    const feed = await me.events.read({ after: start, limit: 100 });
    expect(seen.map((e) => (e as { type: string }).type).sort()).toEqual(['activity.logged', 'task.created', 'task.updated']);
    expect(log.items.map((e) => e.type).sort()).toEqual(['activity.logged', 'task.created', 'task.updated']);
    expect(feed.events.map((e) => e.type).sort()).toEqual(['activity.logged', 'task.created', 'task.updated']);
    for (const text of [JSON.stringify(seen), JSON.stringify(log), JSON.stringify(feed), JSON.stringify(await me.tasks.get(task.id)), JSON.stringify(await me.activities.list())]) {
      expect(text).not.toContain('parentOwner');
      expect(text).not.toContain('deal:other');
      expect(text).not.toContain('parentShareKeys');
    }
    // An oracle: "is the deal of this task carl's?" would answer 1 for the right guess, 0 for a wrong one.
    for (const guess of ['deal:other', 'deal:mate']) expect(await outcome(me.tasks.list({ where: { op: 'eq', field: 'parentOwner', value: guess } }))).toBe('FORBIDDEN');
    expect(await outcome(me.activities.list({ where: { op: 'prefix', field: 'parentOwner', value: 'deal:' } }))).toBe('FORBIDDEN');
    expect(await outcome(me.tasks.list({ orderBy: [{ field: 'parentOwner' }] }))).toBe('FORBIDDEN');
    expect(await outcome(me.tasks.list({ where: { op: 'containsAny', field: 'parentShareKeys', values: ['u:me'] } }))).toBe('FORBIDDEN');
    // The trusted crm may still filter on them (maintenance, reindex checks).
    expect((await w.root.tasks.list({ where: { op: 'eq', field: 'parentOwner', value: 'deal:other' } })).items.map((t) => t.id)).toEqual([task.id]);
  });

  it('a departed user keeps nothing shared with it: no read, no write, no tasks of the shared deal', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const deal = await w.root.deals.create({ title: 'Shared', pipelineId: w.pipelineId, ownerId: 'other' });
    await w.root.tasks.create({ subject: 'On it', dueAt: '2026-03-05T10:00:00Z', dealId: deal.id, ownerId: 'other' });
    await w.root.access.share({ type: 'deal', id: deal.id }, { userId: 'gone', access: 'write' });
    await w.root.access.share({ type: 'deal', id: deal.id }, { teamId: 't1', access: 'write' });
    const gone = w.root.as({ userId: 'gone' });
    expect(await outcome(gone.deals.get(deal.id))).toBe('NOT_FOUND');
    expect((await gone.deals.list()).items).toEqual([]);
    expect((await gone.tasks.list()).items).toEqual([]);
    expect(await outcome(gone.deals.update(deal.id, { title: 'Changed by a leaver' }))).toBe('NOT_FOUND');
    expect(await outcome(gone.deals.advance(deal.id))).toBe('NOT_FOUND');
    expect(await outcome(gone.deals.stageHistory(deal.id))).toBe('NOT_FOUND');
    expect((await w.root.deals.get(deal.id)).title).toBe('Shared');
    // The team share still works for its members who have not left.
    expect((await w.root.as({ userId: 'mate' }).deals.get(deal.id)).title).toBe('Shared');
  });

  it('upsertByExternalRef of a hidden record is NOT_FOUND under the ref, whatever expectedVersion says, and tells neither id nor version', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const hidden = await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other', externalRefs: [{ system: 'shop', id: 'order-7' }] });
    const me = w.root.as({ userId: 'me' });
    for (const options of [{}, { expectedVersion: 99 }, { expectedVersion: hidden.version }]) {
      const refused = await me.deals.upsertByExternalRef('shop', 'order-7', { title: 'Mine now', pipelineId: w.pipelineId }, options).catch((e: unknown) => e);
      expect(isCrmError(refused, 'NOT_FOUND')).toBe(true);
      const text = JSON.stringify([(refused as Error).message, (refused as { details: unknown }).details]);
      expect(text).not.toContain(hidden.id);
      expect(text).not.toContain('actualVersion');
      expect(text).toContain('shop:order-7');
    }
    // A ref nobody holds still answers CONFLICT (actualVersion null) or creates.
    expect(await outcome(me.deals.upsertByExternalRef('shop', 'order-8', { title: 'New', pipelineId: w.pipelineId }, { expectedVersion: 3 }))).toBe('CONFLICT');
    expect((await w.root.deals.get(hidden.id)).title).toBe('Theirs');
  });

  it('next steps a view asks for face tasks.create: the create scope on their owner and the writable task fields; nothing is written when refused', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP, { task: { write: { deny: ['priority'] } } }));
    const me = w.root.as({ userId: 'me' });
    const deal = await me.deals.create({ title: 'Mine', pipelineId: w.pipelineId });
    const task = await me.tasks.create({ subject: 'First', dueAt: '2026-03-02T10:00:00Z', dealId: deal.id });
    const cases: [string, () => Promise<unknown>][] = [
      ['tasks.create for other', () => me.tasks.create({ subject: 'x', dueAt: '2026-03-03T10:00:00Z', ownerId: 'other' })],
      ['tasks.create priority', () => me.tasks.create({ subject: 'x', dueAt: '2026-03-03T10:00:00Z', priority: 'high' })],
      ['complete next for other', () => me.tasks.complete(task.id, { next: { subject: 'Next', dueAt: '2026-03-04T10:00:00Z', ownerId: 'other' } })],
      ['complete next priority', () => me.tasks.complete(task.id, { next: { subject: 'Next', dueAt: '2026-03-04T10:00:00Z', priority: 'high' } })],
      ['advance nextStep for other', () => me.deals.advance(deal.id, { nextStep: { subject: 'Next', dueAt: '2026-03-04T10:00:00Z', ownerId: 'other' } })],
      ['advance nextStep priority', () => me.deals.advance(deal.id, { nextStep: { subject: 'Next', dueAt: '2026-03-04T10:00:00Z', priority: 'high' } })],
      ['create nextStep for other', () => me.deals.create({ title: 'New', pipelineId: w.pipelineId, nextStep: { subject: 'Next', dueAt: '2026-03-04T10:00:00Z', ownerId: 'other' } })],
    ];
    for (const [name, call] of cases) expect(`${name}: ${await outcome(call())}`).toBe(`${name}: FORBIDDEN`);
    expect((await w.root.tasks.get(task.id)).status).toBe('open');
    expect((await w.root.deals.get(deal.id)).stageKey).toBe('new');
    expect((await w.root.tasks.list({ limit: 100 })).items.map((t) => t.id)).toEqual([task.id]);
    expect((await w.root.deals.list()).items).toHaveLength(1);
    // Within scope and fields they work, and a next step without an owner is the view's own.
    const done = await me.tasks.complete(task.id, { next: { subject: 'Next', dueAt: '2026-03-04T10:00:00Z' } });
    expect(done.created.map((t) => t.ownerId)).toEqual(['me']);
  });

  it('next steps on a deal shared for writing default to the acting user; naming the deal owner is FORBIDDEN under an own scope', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const deal = await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other' });
    await w.root.access.share({ type: 'deal', id: deal.id }, { userId: 'me', access: 'write' });
    const me = w.root.as({ userId: 'me' });
    expect(await outcome(me.deals.advance(deal.id, { nextStep: { subject: 'Call', dueAt: '2026-03-04T10:00:00Z', ownerId: 'other' } }))).toBe('FORBIDDEN');
    const moved = await me.deals.advance(deal.id, { nextStep: { subject: 'Call', dueAt: '2026-03-04T10:00:00Z' } });
    expect(moved.stageKey).toBe('next');
    const tasks = await w.root.tasks.list({ where: { op: 'eq', field: 'dealId', value: deal.id } });
    expect(tasks.items.map((t) => [t.subject, t.ownerId])).toEqual([['Call', 'me']]);
  });

  it('derived figures need every field they derive from: board totals and forecast with the probability or the expected close date hidden', async () => {
    const w = await open();
    await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other', value: { amount: 1000_00, currency: 'EUR' }, probability: 37, expectedCloseDate: '2026-07-15' });
    const reader: Grants = { deal: { read: 'all' }, pipeline: { read: 'all' }, report: { read: 'all' } };
    const window = { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
    for (const hidden of ['probability', 'expectedCloseDate', 'value'] as const) {
      await w.root.access.setPolicy(policy(reader, { deal: { read: { deny: [hidden] } } }));
      const view = w.root.as({ userId: 'me' });
      const board = await view.deals.board(w.pipelineId);
      expect(board.columns[0]!.count).toBe(1);
      if (hidden !== 'expectedCloseDate') expect(board.columns[0]!.totals).toEqual([]);
      expect(`${hidden}: ${await outcome(view.reports.forecast({ pipelineId: w.pipelineId, by: 'month' }))}`).toBe(`${hidden}: FORBIDDEN`);
      if (hidden !== 'expectedCloseDate') expect(await outcome(view.deals.aggregate({ metrics: { w: { fn: 'sum', field: 'weightedValue.amount' } } }))).toBe('FORBIDDEN');
      else expect(await outcome(view.deals.list({ where: { op: 'eq', field: 'expectedCloseMonth', value: '2026-07' } }))).toBe('FORBIDDEN');
      expect(await outcome(view.reports.funnel({ pipelineId: w.pipelineId, ...window }))).toBe('allowed');
    }
    // With every source readable the figures are there.
    await w.root.access.setPolicy(policy(reader));
    const view = w.root.as({ userId: 'me' });
    expect((await view.deals.board(w.pipelineId)).columns[0]!.totals).toEqual([{ currency: 'EUR', amount: 1000_00, weighted: 370_00 }]);
    expect((await view.reports.forecast({ pipelineId: w.pipelineId, by: 'month' })).months.map((m) => m.month)).toEqual(['2026-07']);
  });

  it('import with a key is no oracle on an unreadable field: the key is refused as list refuses it, and nothing is written', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy({ ...REP, contact: { '*': 'all' } }, { contact: { read: { deny: ['email'] } } }));
    await w.root.contacts.create({ name: 'Known', email: 'known@example.com', ownerId: 'other' });
    const me = w.root.as({ userId: 'me' });
    expect(await outcome(me.contacts.list({ where: { op: 'eq', field: 'email', value: 'known@example.com' } }))).toBe('FORBIDDEN');
    for (const mode of ['create', 'update', 'upsert'] as const) {
      for (const email of ['known@example.com', 'unknown@example.com']) {
        const got = await outcome(me.import.run({ entity: 'contact', rows: [{ name: 'Guess', email }], mode, key: 'email' }));
        expect(`${mode} ${email}: ${got}`).toBe(`${mode} ${email}: FORBIDDEN`);
      }
    }
    expect((await w.root.contacts.list()).items.map((c) => c.name)).toEqual(['Known']);
  });

  it('import jobs: a view reads and resumes only its own, unless it administers settings', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP, undefined, { admin: { grants: { ...REP, setting: { '*': 'all' } } } }));
    const system = await w.root.import.run({ entity: 'contact', rows: [{ name: 'Ada', email: 'ada@example.com' }] });
    const mine = await w.root.as({ userId: 'me' }).import.run({ entity: 'contact', rows: [{ name: 'Bo' }] });
    const me = w.root.as({ userId: 'me' });
    expect(await outcome(me.import.job(system.jobId!))).toBe('NOT_FOUND');
    expect((await me.import.job(mine.jobId!)).startedBy).toBe('me');
    expect(await outcome(me.import.resume(system.jobId!, { entity: 'contact', rows: [] }))).toBe('NOT_FOUND');
    expect((await w.root.as({ userId: 'mate', roles: ['admin'] }).import.job(system.jobId!)).id).toBe(system.jobId);
  });

  it('CSV and JSON exports of a view have no column for a field it may not read', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP, { contact: { read: { deny: ['email'] } } }));
    await w.root.contacts.create({ name: 'Mine', email: 'secret@example.com', phone: '+33612345678', ownerId: 'me' });
    const me = w.root.as({ userId: 'me' });
    let csv = '';
    for await (const chunk of me.export.run({ entity: 'contact', format: 'csv' })) csv += chunk;
    const header = csv.split('\r\n')[0]!.split(',').map((c) => c.replace(/"/g, ''));
    expect(header).toContain('name');
    expect(header).not.toContain('email');
    expect(csv).not.toContain('secret@example.com');
    let mapped = '';
    for await (const chunk of me.export.run({ entity: 'contact', format: 'csv', mapping: { name: 'Name', email: 'E-mail' } })) mapped += chunk;
    expect(mapped.split('\r\n')[0]!.replace(/"/g, '')).toBe('Name');
    let root = '';
    for await (const chunk of w.root.export.run({ entity: 'contact', format: 'csv' })) root += chunk;
    expect(root.split('\r\n')[0]!.split(',').map((c) => c.replace(/"/g, ''))).toContain('email');
  });

  it('scoring.score refuses a factor field the view may not read on the scored record (a lead too)', async () => {
    const w = await open();
    for (const [source, won] of [['web', true], ['web', true], ['fair', false], ['fair', false]] as const) {
      const deal = await w.root.deals.create({ title: source, pipelineId: w.pipelineId, source });
      if (won) await w.root.deals.win(deal.id);
      else await w.root.deals.lose(deal.id, { reason: 'price' });
    }
    const lead = await w.root.leads.create({ name: 'Lead', source: 'fair', ownerId: 'me' });
    await w.root.access.setPolicy(policy({ deal: { read: 'all' }, lead: { read: 'all' }, pipeline: { read: 'all' }, report: { read: 'all' } }, { lead: { read: { deny: ['source'] } } }));
    const view = w.root.as({ userId: 'me' });
    expect(await view.leads.get(lead.id)).not.toHaveProperty('source');
    expect(await outcome(view.scoring.score({ type: 'lead', id: lead.id }, { fields: ['source'] }))).toBe('FORBIDDEN');
    const deal = (await view.deals.list({ limit: 1 })).items[0]!;
    expect((await view.scoring.score({ type: 'deal', id: deal.id }, { fields: ['source'] })).probability).toBeTypeOf('number');
  });

  it('reports.customers leaves a hidden customer name out (and needs the last interaction to be readable)', async () => {
    const w = await open();
    const contact = await w.root.contacts.create({ name: 'Very Secret Name', ownerId: 'me' });
    const deal = await w.root.deals.create({ title: 'Won', pipelineId: w.pipelineId, ownerId: 'me', contactId: contact.id, value: { amount: 500_00, currency: 'EUR' } });
    await w.root.deals.win(deal.id);
    await w.root.access.setPolicy(policy(REP, { contact: { read: { deny: ['name'] } } }));
    const me = w.root.as({ userId: 'me' });
    const report = await me.reports.customers({ limit: 10 });
    expect(report.contacts.map((c) => c.id)).toEqual([contact.id]);
    expect(report.contacts[0]).not.toHaveProperty('name');
    expect(JSON.stringify(report)).not.toContain('Very Secret Name');
    await w.root.access.setPolicy(policy(REP, { contact: { read: { deny: ['lastInteractionAt'] } } }));
    expect(await outcome(w.root.as({ userId: 'me' }).reports.customers({ limit: 10 }))).toBe('FORBIDDEN');
    expect((await w.root.reports.customers({ limit: 10 })).contacts[0]!.name).toBe('Very Secret Name');
  });

  it("performance: postponements count only deals the view may read, as its drill-down lists them", async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP, undefined, { lead: { grants: { ...REP, deal: { '*': 'team' } } } }));
    const theirs = await w.root.deals.create({ title: 'Theirs', pipelineId: w.pipelineId, ownerId: 'other' });
    const mine = await w.root.deals.create({ title: 'Mine', pipelineId: w.pipelineId, ownerId: 'me' });
    await w.root.access.share({ type: 'deal', id: theirs.id }, { userId: 'me', access: 'write' });
    const me = w.root.as({ userId: 'me' });
    await me.deals.postpone(theirs.id, { until: '2026-04-01T10:00:00Z' });
    await me.deals.postpone(mine.id, { until: '2026-04-01T10:00:00Z' });
    const window = { from: '2026-01-01T00:00:00Z', to: '2026-12-31T00:00:00Z' };
    for (const [viewer, expected] of [[w.root.as({ userId: 'mate', roles: ['lead'] }), 1], [me, 2], [w.root, 2]] as const) {
      const report = await viewer.reports.performance(window);
      const row = report.owners.find((o) => o.ownerId === 'me')!;
      expect(row.postponements).toBe(expected);
      const drill = await viewer.reports.drill(row.drill.postponements, { limit: 100 });
      expect(drill.items).toHaveLength(expected);
    }
  });

  it('owners a view did not choose: lead conversion through a write share defaults to the acting user; handing a task over is judged as creating it', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const lead = await w.root.leads.create({ name: 'Shared lead', email: 'lead@example.com', ownerId: 'other' });
    await w.root.access.share({ type: 'lead', id: lead.id }, { userId: 'me', access: 'write' });
    const me = w.root.as({ userId: 'me' });
    expect(await outcome(me.leads.convert(lead.id, { ownerId: 'other' }))).toBe('FORBIDDEN');
    const converted = await me.leads.convert(lead.id);
    expect(converted.contact.ownerId).toBe('me');
    expect((await w.root.leads.get(lead.id)).status).toBe('converted');
    // Tasks: creating one for someone else and handing one's own over get the same verdict.
    const deal = await me.deals.create({ title: 'Mine', pipelineId: w.pipelineId });
    expect(await outcome(me.tasks.create({ subject: 'For other', dueAt: '2026-03-03T10:00:00Z', dealId: deal.id, ownerId: 'other' }))).toBe('FORBIDDEN');
    const task = await me.tasks.create({ subject: 'Mine', dueAt: '2026-03-03T10:00:00Z', dealId: deal.id });
    expect(await outcome(me.tasks.update(task.id, { ownerId: 'other' }))).toBe('FORBIDDEN');
    expect((await w.root.tasks.get(task.id)).ownerId).toBe('me');
  });

  it('a directory user listed with no roles gets the default roles, as one missing from the directory does', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const directory = await w.root.access.getDirectory();
    await w.root.access.setDirectory({ ...directory, users: [...directory.users, { id: 'blank', roles: [] }] });
    await w.root.deals.create({ title: 'Blank', pipelineId: w.pipelineId, ownerId: 'blank' });
    await w.root.deals.create({ title: 'Stranger', pipelineId: w.pipelineId, ownerId: 'stranger' });
    expect((await w.root.as({ userId: 'blank' }).deals.list()).items.map((d) => d.title)).toEqual(['Blank']);
    expect((await w.root.as({ userId: 'stranger' }).deals.list()).items.map((d) => d.title)).toEqual(['Stranger']);
    expect((await w.root.as({ userId: 'blank' }).access.rights())!.roles).toEqual(['r']);
  });
}
