import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { expectCrmError, issuePaths } from '../helpers.js';

const noop = () => undefined;

describe('consumer definitions: one name, one filter', () => {
  it('refuses a consume whose types differ from the stored consumer’s, naming the option, and writes nothing', async () => {
    const { crm, storage } = await createTestCrm();
    await crm.contacts.create({ name: 'Ada' });
    const wins = await crm.events.consume('sync', noop, { start: false, partitions: 1, types: ['deal.won', 'contact.created'] });
    await wins.drain();
    await wins.stop();
    const before = storage.snapshot();
    for (const types of [['deal.won'], ['deal.lost', 'deal.won', 'contact.created'], undefined]) {
      const error = await expectCrmError(crm.events.consume('sync', noop, { start: false, partitions: 1, ...(types ? { types } : {}) }), 'VALIDATION');
      expect(issuePaths(error)).toEqual(['types']);
      expect(error.message).toMatch(/remove it .* or use a new name/);
    }
    expect(storage.snapshot()).toEqual(before);
    expect((await crm.events.status('sync')).types).toEqual(['deal.won', 'contact.created']);
    // A consumer stored without a filter refuses one too.
    await crm.events.consume('everything', noop, { start: false, partitions: 1 });
    expect(issuePaths(await expectCrmError(crm.events.consume('everything', noop, { start: false, partitions: 1, types: ['deal.won'] }), 'VALIDATION'))).toEqual(['types']);
  });

  it('restarts with the same options (types in any order, repeated) and keeps its checkpoint; remove lets the name start over', async () => {
    const { crm } = await createTestCrm();
    await crm.contacts.create({ name: 'Ada' });
    const seen: string[] = [];
    const first = await crm.events.consume('sync', (e) => void seen.push(e.type), { start: false, partitions: 1, types: ['contact.created', 'contact.updated'] });
    await first.drain();
    await first.stop();
    const again = await crm.events.consume('sync', (e) => void seen.push(e.type), { start: false, partitions: 1, types: ['contact.updated', 'contact.created', 'contact.updated'] });
    await crm.contacts.create({ name: 'Grace' });
    await again.drain();
    expect(seen).toEqual(['contact.created', 'contact.created']);
    expect(await crm.events.status('sync')).toMatchObject({ position: await crm.events.head(), handled: 2 });
    expect(await crm.events.remove('sync')).toBe(true);
    const other = await crm.events.consume('sync', noop, { start: false, partitions: 1, types: ['deal.won'] });
    expect((await other.status()).types).toEqual(['deal.won']);
  });

  it('refuses a start position beyond the feed head, and accepts the head itself', async () => {
    const { crm, storage } = await createTestCrm();
    await crm.contacts.create({ name: 'Ada' });
    await crm.contacts.create({ name: 'Grace' });
    const head = await crm.events.head();
    const before = storage.snapshot();
    const error = await expectCrmError(crm.events.consume('ahead', noop, { start: false, from: head + 1 }), 'VALIDATION');
    expect(issuePaths(error)).toEqual(['from']);
    expect(storage.snapshot()).toEqual(before);
    await expectCrmError(crm.events.status('ahead'), 'NOT_FOUND');
    const seen: string[] = [];
    const atHead = await crm.events.consume('at-head', (e) => void seen.push(e.subjectId), { start: false, partitions: 1, from: head });
    const later = await crm.contacts.create({ name: 'Edsger' });
    await atHead.drain();
    expect(seen).toEqual([later.id]);
  });
});

describe('consumer names: crmkit’s own consumers are off limits', () => {
  it('refuses consume and remove of reserved names with VALIDATION (replay and discard only touch parked events); the scheduler keeps working', async () => {
    const { crm, storage, clock } = await createTestCrm();
    const task = await crm.tasks.create({ subject: 'Call back', dueAt: new Date(clock.now() + 60_000).toISOString() });
    await crm.scheduler.tick(); // creates crmkit.scheduler.notices:<type> (one per notice type)
    const before = storage.snapshot();
    for (const reserved of ['crmkit.scheduler.notices', 'crmkit.scheduler.notices:task.due', 'crmkit.anything', 'CRMKIT.scheduler.notices', 'webhook:wh_1', 'Webhook:x', 'automation:rule1', 'AUTOMATION:x']) {
      expect(issuePaths(await expectCrmError(crm.events.consume(reserved, noop, { start: false }), 'VALIDATION'))).toEqual(['name']);
      await expectCrmError(crm.events.remove(reserved), 'VALIDATION');
      await expectCrmError(crm.events.replay(reserved, ['evt_1']), 'NOT_FOUND');
      await expectCrmError(crm.events.discard(reserved, ['evt_1']), 'NOT_FOUND');
    }
    expect(storage.snapshot()).toEqual(before);
    // Reading them stays allowed.
    expect((await crm.events.status('crmkit.scheduler.notices:task.due')).group).toBe('scheduler');
    expect((await crm.events.parked('crmkit.scheduler.notices:task.due')).items).toEqual([]);
    const due: string[] = [];
    crm.on('task.due', (e) => void due.push(e.subjectId));
    clock.advance(120_000);
    expect((await crm.scheduler.tick()).delivered).toBeGreaterThan(0);
    expect(due).toEqual([task.id]);
  });
});

describe('consumer administration: bad input rejects', () => {
  it('status, parked, replay and discard return rejected promises for bad input instead of throwing', async () => {
    const { crm } = await createTestCrm();
    const calls: [string, () => Promise<unknown>][] = [
      ['status', () => crm.events.status('bad name!')],
      ['parked', () => crm.events.parked('bad name!')],
      ['replay', () => crm.events.replay('bad name!', ['evt_1'])],
      ['discard', () => crm.events.discard('bad name!', ['evt_1'])],
      ['replay ids', () => crm.events.replay('ok', 'evt_1' as never)],
      ['discard ids', () => crm.events.discard('ok', [] as never)],
      ['parked options', () => crm.events.parked('ok', { limit: 0 })],
    ];
    for (const [, call] of calls) {
      let result: Promise<unknown> | undefined;
      expect(() => (result = call())).not.toThrow();
      await expectCrmError(result!, 'VALIDATION');
    }
  });

  it('names the argument at fault: a bad name at [name], malformed types once, an empty id list at [eventIds] as "at least 1 item"', async () => {
    const { crm } = await createTestCrm({ features: [events(), automations()] });
    const issues = async (call: Promise<unknown>) => (await expectCrmError(call, 'VALIDATION')).details.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    for (const name of ['', 'x'.repeat(101), 'café', '_x', '-x']) {
      expect(await issues(crm.events.consume(name, noop, { start: false }))).toEqual(['name: must be 1-100 letters, digits or _.:-']);
      expect(await issues(crm.events.status(name))).toEqual(['name: must be 1-100 letters, digits or _.:-']);
    }
    expect(await issues(crm.events.consume('x', noop, { start: false, types: ['not a type'] }))).toEqual(['types.0: must be an event type like "deal.won"']);
    expect(await issues(crm.events.read({ types: ['x'] }))).toEqual(['types.0: must be an event type like "deal.won"']);
    expect(await issues(crm.events.read({ types: ['deal.nothing'] }))).toEqual(['types.0: is not an event type crmkit records (see CrmEventName; custom events are "custom.<name>")']);
    expect(await issues(crm.events.replay('x', []))).toEqual(['eventIds: must have at least 1 item']);
    expect(await issues(crm.events.discard('x', ['']))).toEqual(['eventIds.0: must not be empty']);
    expect(await issues(crm.automations.replay('rule', []))).toEqual(['eventIds: must have at least 1 item']);
    expect(await issues(crm.events.replay('x', Array.from({ length: 1001 }, (_, i) => `e${i}`)))).toEqual([expect.stringMatching(/^eventIds: must have at most \d+ items$/)]);
  });

  it('parked of an unknown consumer is NOT_FOUND, like status, replay and discard', async () => {
    const { crm } = await createTestCrm();
    await expectCrmError(crm.events.parked('nobody'), 'NOT_FOUND');
    await expectCrmError(crm.events.status('nobody'), 'NOT_FOUND');
    await expectCrmError(crm.events.replay('nobody', ['evt_1']), 'NOT_FOUND');
  });

  it('refuses options given as an array (or another non-object) with VALIDATION', async () => {
    const { crm, storage } = await createTestCrm();
    await crm.events.consume('known', noop, { start: false });
    const before = storage.snapshot();
    for (const bad of [[], [{ limit: 1 }], 'x', 5]) {
      await expectCrmError(crm.events.consume('fresh', noop, bad as never), 'VALIDATION');
      await expectCrmError(crm.events.parked('known', bad as never), 'VALIDATION');
      await expectCrmError(crm.events.read(bad as never), 'VALIDATION');
      await expectCrmError(crm.events.prune(bad as never), 'VALIDATION');
    }
    expect(storage.snapshot()).toEqual(before);
  });

  it('replay and discard count an id given twice once', async () => {
    const { crm } = await createTestCrm();
    const a = await crm.contacts.create({ name: 'A' });
    const b = await crm.contacts.create({ name: 'B' });
    const consumer = await crm.events.consume('fails', () => { throw new Error('no'); }, { start: false, partitions: 1, maxAttempts: 1 });
    await consumer.drain();
    const parked = (await crm.events.parked('fails')).items.map((p) => p.event.id);
    expect(parked).toHaveLength(2);
    const [first, second] = parked as [string, string];
    expect(await crm.events.replay('fails', [first, first])).toBe(1);
    expect(await consumer.status()).toMatchObject({ pending: 1, parked: 1 });
    expect(await crm.events.discard('fails', [second, second])).toBe(1);
    expect(await consumer.status()).toMatchObject({ pending: 1, parked: 0 });
    expect([a.id, b.id]).toHaveLength(2);
  });
});
