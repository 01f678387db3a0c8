import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { expectCrmError, issuePaths } from '../helpers.js';

const HOUR = 3_600_000;
const noop = () => undefined;

describe('consumers: holdMs', () => {
  it('prune skips an app consumer with holdMs past its old events only, counting them as expired; one without holds everything', async () => {
    const { crm, clock } = await createTestCrm();
    const digest = await crm.events.consume('digest', noop, { holdMs: HOUR, types: ['contact.created'], start: false, partitions: 2 });
    for (const name of ['Ada', 'Grace']) await crm.contacts.create({ name }); // 1, 2
    const ada = (await crm.contacts.list()).items[0]!;
    await crm.contacts.update(ada.id, { version: ada.version, jobTitle: 'CEO' }); // 3: not its type
    clock.advance(2 * HOUR);
    await crm.contacts.create({ name: 'Edsger' }); // 4: young
    // Held for an hour: the two old contacts expire, the young one stays.
    expect(await crm.events.prune()).toEqual({ deleted: 3, through: 3 });
    const status = await crm.events.status('digest');
    expect([status.expired, status.handled, status.lag, status.position]).toEqual([2, 0, 1, 3]);
    const got: string[] = [];
    const late = await crm.events.consume('digest', (e) => void got.push(e.subjectId), { holdMs: HOUR, types: ['contact.created'], start: false, partitions: 2 });
    await late.drain();
    expect(got).toHaveLength(1);
    expect((await crm.events.status('digest')).expired).toBe(2);
    await digest.stop();
    await late.stop();

    // Without holdMs a consumer that never ran keeps holding, however old its events.
    const audit = await crm.events.consume('audit', noop, { from: 3, start: false });
    await crm.contacts.create({ name: 'Barbara' }); // 5
    clock.advance(1000 * HOUR);
    expect(await crm.events.prune()).toEqual({ deleted: 0, through: 3 });
    expect((await crm.events.status('audit')).expired).toBe(0);
    await audit.stop();
  });

  it('a held partition being run (leased) keeps its checkpoint; the prune stops there', async () => {
    const { crm, clock } = await createTestCrm();
    await crm.contacts.create({ name: 'Ada' });
    await crm.contacts.create({ name: 'Grace' });
    let release: () => void = noop;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started: () => void = noop;
    const inHandler = new Promise<void>((resolve) => (started = resolve));
    const slow = await crm.events.consume('slow', async () => {
      started();
      await gate;
    }, { holdMs: HOUR, partitions: 1, start: false, batchSize: 1 });
    clock.advance(2 * HOUR);
    const drained = slow.drain();
    await inHandler;
    expect(await crm.events.prune()).toEqual({ deleted: 0, through: 0 });
    release();
    await drained;
    expect((await crm.events.status('slow')).expired).toBe(0);
    expect((await crm.events.status('slow')).handled).toBe(2);
    await slow.stop();
  });

  it('takes a changed holdMs for an existing consumer, and refuses a bad one', async () => {
    const { crm, clock } = await createTestCrm();
    const first = await crm.events.consume('sync', noop, { start: false });
    await crm.contacts.create({ name: 'Ada' });
    clock.advance(2 * HOUR);
    expect((await crm.events.prune()).deleted).toBe(0);
    await first.stop();
    const again = await crm.events.consume('sync', noop, { start: false, holdMs: HOUR });
    expect((await crm.events.prune()).deleted).toBe(1);
    expect((await crm.events.status('sync')).expired).toBe(1);
    await again.stop();
    for (const holdMs of [0, -1, 1.5, '1h']) {
      const error = await expectCrmError(crm.events.consume('other', noop, { start: false, holdMs } as never), 'VALIDATION');
      expect(issuePaths(error)).toContain('holdMs');
    }
    await expectCrmError(crm.events.status('other'), 'NOT_FOUND'); // nothing was created
  });
});
