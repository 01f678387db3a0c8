import { describe, expect, it } from 'vitest';
import type { CrmSubject } from './crm-harness.js';

const noop = () => undefined;

/**
 * `crm.events.prune` goes up to where every consumer is done, not to the lowest stored checkpoint: a
 * consumer with `types` runs no pass (so keeps its checkpoint) while none of its types come, and it
 * must not pin retention meanwhile — on every adapter (review 12j #1). One with an unhandled event of
 * its types holds the prune right below it, per partition; a type change starts where prune may have gone.
 */
export function crmPruneTests(open: () => Promise<CrmSubject>): void {
  describe('prune and consumers with types (every adapter)', () => {
    it('a caught-up consumer with types does not hold prune back; one with an unhandled event of its types does, per partition', async () => {
      const { crm } = await open();
      const a = await crm.contacts.create({ name: 'A' });
      const seen: string[] = [];
      const updates = await crm.events.consume('updates', (event) => void seen.push(event.type), { start: false, from: 'beginning', types: ['contact.updated'] });
      const sharded = await crm.events.consume('updates-4', noop, { start: false, from: 'beginning', types: ['contact.updated'], partitions: 4 });
      for (let i = 0; i < 5; i++) await crm.contacts.create({ name: `C${i}` });
      await updates.drain();
      await sharded.drain();
      expect(await updates.status()).toMatchObject({ lag: 0 });
      const head = await crm.events.head();
      expect(await crm.events.prune()).toMatchObject({ through: head });
      expect((await crm.events.read()).events).toEqual([]);

      await crm.contacts.update(a.id, { version: a.version, jobTitle: 'CEO' });
      const updated = await crm.events.head();
      await crm.contacts.create({ name: 'D' });
      // Both hold the update (the sharded one in A's partition only); the later contact is nobody's business, but stays above it.
      expect(await crm.events.prune()).toEqual({ deleted: 0, through: updated - 1 });
      await updates.drain();
      expect(seen).toEqual(['contact.updated']);
      expect(await crm.events.prune()).toEqual({ deleted: 0, through: updated - 1 });
      await sharded.drain();
      const last = await crm.events.head();
      expect(await crm.events.prune()).toEqual({ deleted: 2, through: last });
      expect(await updates.status()).toMatchObject({ lag: 0, handled: 1 });
      expect(await sharded.status()).toMatchObject({ lag: 0, handled: 1 });
    });

    it('a webhook endpoint whose types change starts its new types where prune may have gone', async () => {
      const { crm } = await open();
      await crm.contacts.create({ name: 'A' });
      const endpoint = await crm.webhooks.create({ url: 'https://example.com/hooks', types: ['deal.won'], enabled: false });
      const consumer = `webhook:${endpoint.id}`;
      for (let i = 0; i < 3; i++) await crm.contacts.create({ name: `C${i}` });
      const head = await crm.events.head();
      // The disabled endpoint holds its own types only.
      expect(await crm.events.prune()).toMatchObject({ through: head });
      const { version } = await crm.webhooks.get(endpoint.id);
      await crm.webhooks.update(endpoint.id, { version, types: ['contact.created'] });
      // Nothing below the bound is owed to the new types: the checkpoint moved up to it, not a silent gap.
      expect(await crm.events.status(consumer)).toMatchObject({ position: head, lag: 0 });
      expect((await crm.events.read()).prunedThrough).toBeLessThanOrEqual(head);
      await crm.contacts.create({ name: 'D' });
      expect(await crm.events.status(consumer)).toMatchObject({ position: head, lag: 1 });
      expect(await crm.events.prune()).toEqual({ deleted: 0, through: head });
    });
  });
}
