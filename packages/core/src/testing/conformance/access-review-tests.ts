import { expect, it } from 'vitest';
import type { AccessPolicy } from '../../access/access-policy.js';
import { isCrmError } from '../../errors/crm-error.js';
import type { LeakWorld } from './access-leak-tests.js';

type Grants = AccessPolicy['roles'][string]['grants'];
type Fields = AccessPolicy['roles'][string]['fields'];

const policy = (grants: Grants, fields?: Fields): AccessPolicy => ({ roles: { r: { grants, ...(fields ? { fields } : {}) } }, defaultRoles: ['r'] }) as AccessPolicy;

const REP: Grants = { deal: { '*': 'own' }, contact: { '*': 'own' }, company: { '*': 'own' }, lead: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, report: { read: 'all' } };
/** Reads every record, but not a contact's e-mail nor a deal's value. */
const SUPPORT: Grants = { deal: { read: 'all' }, contact: { read: 'all' }, company: { read: 'all' }, lead: { read: 'all' }, task: { read: 'all' }, activity: { read: 'all' }, pipeline: { read: 'all' }, report: { read: 'all' } };

const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string; details: unknown }> {
  try {
    await promise;
  } catch (error) {
    if (isCrmError(error)) return { code: error.code, message: error.message, details: error.details };
    throw error;
  }
  throw new Error('expected a CrmError');
}

/**
 * Leaks a second adversarial review found (issue 11), run on every adapter by the access suite:
 * hidden fields in merge events, ids of hidden records in unique-key conflicts and id collisions,
 * fields copied by lead conversion, derivable probability.
 */
export function accessReviewTests(open: () => Promise<LeakWorld>): void {
  it('merge events (merged, mergeUndone) carry no unreadable changed field, on every event path', async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(SUPPORT, { contact: { read: { deny: ['email'] } } }));
    const me = w.root.as({ userId: 'me' });
    const start = await w.root.events.head();
    const seen: unknown[] = [];
    const off = me.on('*', (e) => seen.push(e));
    const survivor = await w.root.contacts.create({ name: 'Survivor', ownerId: 'other' });
    const dup = await w.root.contacts.create({ name: 'Dup', email: 'very-secret@corp.example', ownerId: 'other' });
    const merge = await w.root.merges.contacts(survivor.id, [dup.id], { fillEmpty: true });
    await w.root.merges.undo(merge.merge.id);
    await settle();
    off();
    const log = await me.eventLog.list({ limit: 100 });
    const timeline = await me.timeline({ type: 'contact', id: survivor.id });
    const feed = await me.events.read({ after: start, limit: 100 });
    for (const [path, items] of [['on', seen], ['eventLog', log.items], ['timeline', timeline.items], ['feed', feed.events]] as const) {
      const types = (items as { type: string }[]).map((e) => e.type);
      expect(types, path).toContain('contact.merged');
      expect(types, path).toContain('contact.mergeUndone');
      expect(JSON.stringify(items), path).not.toContain('very-secret');
    }
    // Fields the principal reads still show; the trusted crm sees the e-mail.
    const merged = log.items.find((e) => e.type === 'contact.merged')!;
    expect(merged.data).toMatchObject({ mergeId: merge.merge.id, duplicateIds: [dup.id] });
    expect(JSON.stringify((await w.root.eventLog.list({ limit: 100 })).items)).toContain('very-secret');
  });

  it("merge events name no hidden duplicate and count no links to hidden records", async () => {
    const w = await open();
    await w.root.access.setPolicy(policy(REP));
    const mine = await w.root.contacts.create({ name: 'Mine', ownerId: 'me' });
    const theirs = await w.root.contacts.create({ name: 'Theirs', ownerId: 'other' });
    await w.root.deals.create({ title: 'Hidden 1', pipelineId: w.pipelineId, ownerId: 'other', contactId: theirs.id });
    await w.root.deals.create({ title: 'Hidden 2', pipelineId: w.pipelineId, ownerId: 'other', contactId: theirs.id });
    const merge = await w.root.merges.contacts(mine.id, [theirs.id]);
    const me = w.root.as({ userId: 'me' });
    const timeline = await me.timeline({ type: 'contact', id: mine.id });
    const event = timeline.items.find((e) => e.type === 'contact.merged')!;
    expect(event.data).toMatchObject({ mergeId: merge.merge.id, duplicateIds: [] });
    expect('links' in event.data).toBe(false);
    expect(JSON.stringify(timeline)).not.toContain(theirs.id);
    // The trusted view keeps both.
    const root = (await w.root.timeline({ type: 'contact', id: mine.id })).items.find((e) => e.type === 'contact.merged')!;
    expect(root.data).toMatchObject({ duplicateIds: [theirs.id], links: 5 });
  });
}
