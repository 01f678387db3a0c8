import { describe, expect, it } from 'vitest';
import type { CrmEvent } from '../../events/event-map.js';
import { scribble } from '../ownership.js';
import type { CrmSubject } from './crm-harness.js';

/** What a handler saw of a `contact.created` event: the name, and how many changes of it went through. */
interface Seen {
  readonly attempt: number;
  readonly name: string;
  readonly changed: number;
}

const nameOf = (event: CrmEvent) => (event.data as { contact: { name: string } }).contact.name;

/** Tries to change everything in the event; the first look at the name is taken before. */
function look(event: CrmEvent, attempt: number): Seen {
  const name = nameOf(event);
  return { attempt, name, changed: scribble(event) };
}

/**
 * Events handed to handlers — feed consumers (and so webhooks and automations, built on them),
 * scheduler notice handlers, `crm.on` handlers — and read from the feed are deeply frozen on every
 * adapter, so a handler that changes its event (and fails) cannot change what its retry, a replay or
 * anyone else gets: the memory adapter's frozen rows made such a handler throw there, while SQL
 * adapters handed out their own copies and stored the changed one in the backlog (review 12i #1).
 */
export function crmFrozenEventTests(open: () => Promise<CrmSubject>): void {
  describe('events handed to handlers are frozen (every adapter)', () => {
    it('a consumer handler that changes its event and fails gets it unchanged on its retry and on a replay', async () => {
      const { crm, clock } = await open();
      const start = await crm.events.head();
      await crm.contacts.create({ name: 'A' });
      const options = { start: false, partitions: 1, from: start, types: ['contact.created'], backoff: { initialMs: 1, maxMs: 1 } };

      const retried: Seen[] = [];
      const retrying = await crm.events.consume('frozen-retry', (event, { attempt }) => {
        retried.push(look(event, attempt));
        if (attempt === 1) throw new Error('fails once');
      }, options);
      await retrying.drain();
      clock.advance(1000);
      await retrying.drain();
      expect(retried).toEqual([{ attempt: 1, name: 'A', changed: 0 }, { attempt: 2, name: 'A', changed: 0 }]);

      const parkedSeen: (Seen & { replayed: boolean })[] = [];
      const parking = await crm.events.consume('frozen-park', (event, { attempt, replayed }) => {
        parkedSeen.push({ ...look(event, attempt), replayed });
        if (!replayed) throw new Error('parks');
      }, { ...options, maxAttempts: 1 });
      expect(await parking.drain()).toMatchObject({ parked: 1 });
      const [parked] = (await crm.events.parked('frozen-park')).items;
      expect(nameOf(parked!.event)).toBe('A');
      expect(await crm.events.replay('frozen-park', [parked!.event.id])).toBe(1);
      await parking.drain();
      expect(parkedSeen).toEqual([{ attempt: 1, name: 'A', changed: 0, replayed: false }, { attempt: 1, name: 'A', changed: 0, replayed: true }]);

      // A read hands out the same frozen events; the feed still holds what was recorded.
      const page = await crm.events.read({ after: start });
      expect(page.events.map((event) => scribble(event))).toEqual([0]);
      expect(nameOf((await crm.events.read({ after: start })).events[0]!)).toBe('A');
    });

    it('crm.on handlers and scheduler notice handlers get frozen events; a notice retried after a change is unchanged', async () => {
      const { crm, clock } = await open();
      const updates: number[] = [];
      crm.on('contact.updated', (event) => void updates.push(scribble(event)));
      const contact = await crm.contacts.create({ name: 'A' });
      await crm.contacts.update(contact.id, { name: 'B' });
      expect(updates).toEqual([0]);

      const notices: { key: string; changed: number }[] = [];
      crm.on('task.due', (event) => {
        const key = event.data.key;
        notices.push({ key, changed: scribble(event) });
        if (notices.length === 1) throw new Error('mail server down');
      });
      await crm.scheduler.tick();
      await crm.tasks.create({ subject: 'Call', dueAt: new Date(clock.now() + 60_000).toISOString() });
      for (let i = 0; i < 8 && notices.length < 2; i++) {
        clock.advance(60_000);
        await crm.scheduler.tick();
      }
      expect(notices).toHaveLength(2);
      expect(notices[1]).toEqual(notices[0]);
      expect(notices[0]!.changed).toBe(0);
    });
  });
}
