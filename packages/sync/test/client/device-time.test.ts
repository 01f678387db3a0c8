import { createMemoryStorage, type ChangeBatch } from '@crmkit/core';
import { describe, expect, it } from 'vitest';
import { serverOf } from '../server/support.js';
import { own, syncedDevice, syncedRows } from './support.js';

const HOUR = 3_600_000;

type Done = { task: { completedAt: string } };

/** A server with one open task and Anna's device, synced once (device clock 1 h ahead of the server's). */
async function setup(seed: number) {
  const srv = await serverOf(() => createMemoryStorage());
  const task = await srv.crm.tasks.create({ subject: 'Visit', dueAt: '2026-01-09T15:00:00.000Z' } as never);
  const other = await srv.crm.tasks.create({ subject: 'Call', dueAt: '2026-01-09T15:00:00.000Z' } as never);
  const anna = await syncedDevice(srv.server, { user: 'anna', seed });
  await anna.client.syncNow();
  return { ...srv, task, other, anna };
}

describe('device sync: a command runs at the time the user ran it, on the device and on the server (review13 R7)', () => {
  it('the device dates commands by the server\'s clock measured at its last sync: its prediction is the server\'s verdict', async () => {
    const { crm, storage, task, anna, clock } = await setup(61);
    expect(anna.clock.now() - clock.now()).toBe(HOUR);
    anna.faults.online = false;
    const done = (await anna.client.crm.tasks.complete(task.id)) as Done;
    expect(done.task.completedAt).toBe(new Date(clock.now()).toISOString());
    anna.faults.online = true;
    clock.advance(HOUR);
    anna.clock.advance(HOUR);
    await anna.client.syncNow();
    expect((await crm.tasks.get(task.id)).completedAt).toBe(done.task.completedAt);
    expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
  });

  it('a replay after a rebase keeps the command\'s time (not the time of the replay)', async () => {
    const { crm, task, other, anna, clock } = await setup(62);
    let done: Done | undefined;
    anna.faults.beforePull = async () => {
      // Made while the cycle runs: pending when the pull's rebase replays it, an hour later.
      done = (await anna.client.crm.tasks.complete(other.id)) as Done;
      anna.clock.advance(HOUR);
    };
    await anna.client.crm.tasks.complete(task.id);
    await anna.client.syncNow();
    expect((await anna.client.crm.tasks.get(other.id)).completedAt).toBe(done!.task.completedAt);
    clock.advance(2 * HOUR);
    await anna.client.syncNow();
    expect((await crm.tasks.get(other.id)).completedAt).toBe(done!.task.completedAt);
  });

  it('a device clock set back: the next command is dated at the previous one, as the server dates it', async () => {
    const { crm, storage, task, other, anna, clock } = await setup(63);
    anna.faults.online = false;
    const first = (await anna.client.crm.tasks.complete(task.id)) as Done;
    anna.clock.set(anna.clock.now() - 2 * HOUR);
    const second = (await anna.client.crm.tasks.complete(other.id)) as Done;
    expect(second.task.completedAt).toBe(first.task.completedAt);
    anna.faults.online = true;
    clock.advance(HOUR);
    await anna.client.syncNow();
    expect((await crm.tasks.get(other.id)).completedAt).toBe(first.task.completedAt);
    expect(await syncedRows(anna.inner)).toEqual(await syncedRows(storage));
    expect(await own(anna.inner, 'syncCommand')).toEqual([]);
  });
});

describe('device sync: a throwing storage change listener (review13 note)', () => {
  it('does not fail the command or the sync cycle whose rebase emits the batch', async () => {
    const { crm, task, anna } = await setup(64);
    const seen: ChangeBatch[] = [];
    const error = console.error;
    console.error = () => undefined;
    try {
      anna.replica.onChange(() => {
        throw new Error('UI bug');
      });
      anna.replica.onChange((batch) => seen.push(batch));
      await anna.client.crm.tasks.complete(task.id);
      await anna.client.syncNow();
    } finally {
      console.error = error;
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(anna.client.status()).toMatchObject({ errors: [], pending: 0 });
    expect((await crm.tasks.get(task.id)).status).toBe('done');
  });
});
