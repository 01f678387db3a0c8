import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { setupAutomations } from '../automations/automation-setup.js';

// Review 12j #1: a consumer with `types` runs no pass while none of its types come, so its checkpoint
// stays behind; prune goes up to where each consumer is done (its first unhandled event of its types).

const TYPES = ['contact.created', 'contact.updated', 'company.created'] as const;

describe('prune: how far consumers with types are done', () => {
  it('crmkit.automations.messages (automations with a messenger) holds nothing back until a rule sends a message', async () => {
    const { crm, messenger } = await setupAutomations();
    for (let i = 0; i < 5; i++) await crm.contacts.create({ name: `C${i}` });
    await crm.automations.drain();
    expect((await crm.events.consumers()).map((c) => c.name)).toContain('crmkit.automations.messages');
    const head = await crm.events.head();
    expect(await crm.events.prune()).toMatchObject({ through: head });

    const rule = await crm.automations.define({ name: 'Hello', trigger: { type: 'manual', entity: 'contact' }, actions: [{ type: 'sendMessage', channel: 'email', template: 'hello' }] });
    const contact = await crm.contacts.create({ name: 'Ada' });
    await crm.automations.trigger(rule.id, { type: 'contact', id: contact.id });
    const message = (await crm.events.read({ types: ['automation.message'] })).events[0]!;
    await crm.contacts.create({ name: 'Later' });
    // The message not sent yet holds the prune below it (the rules' consumer holds Ada's contact.created too).
    expect((await crm.events.prune()).through).toBeLessThan(message.position!);
    expect((await crm.events.read({ types: ['automation.message'] })).events.map((e) => e.id)).toEqual([message.id]);
    await crm.automations.drain();
    expect(messenger.sent.map((m) => m.template)).toEqual(['hello']);
    expect(await crm.events.prune()).toMatchObject({ through: await crm.events.head() });
  });

  it('property: prune never deletes an event a consumer has yet to take, and drained consumers hold nothing back', async () => {
    const consumerArb = fc.record({
      types: fc.option(fc.uniqueArray(fc.constantFrom(...TYPES), { minLength: 1, maxLength: 2 }), { nil: undefined }),
      partitions: fc.constantFrom(1, 2, 4),
      // Fails the first call for events whose position is a multiple of this (0: never).
      failEvery: fc.constantFrom(0, 2, 3),
    });
    const stepArb = fc.oneof(
      fc.record({ kind: fc.constant('contact' as const) }),
      fc.record({ kind: fc.constant('update' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('company' as const) }),
      fc.record({ kind: fc.constant('drain' as const), which: fc.nat() }),
      fc.record({ kind: fc.constant('prune' as const) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(consumerArb, { minLength: 1, maxLength: 3 }), fc.array(stepArb, { maxLength: 25 }), async (defs, steps) => {
        const { crm, clock } = await createTestCrm();
        const recorded: { id: string; type: string }[] = [];
        crm.on('*', (event) => void recorded.push({ id: event.id, type: event.type }));
        const got = defs.map(() => new Set<string>());
        const tried = defs.map(() => new Set<string>());
        const consumers = await Promise.all(
          defs.map((def, i) =>
            crm.events.consume(
              `c${i}`,
              (event) => {
                const first = !tried[i]!.has(event.id);
                tried[i]!.add(event.id);
                if (def.failEvery && event.position! % def.failEvery === 0 && first) throw new Error('fails once');
                got[i]!.add(event.id);
              },
              { start: false, from: 'beginning', partitions: def.partitions, backoff: { initialMs: 1, maxMs: 1 }, maxAttempts: 5, ...(def.types ? { types: def.types } : {}) },
            ),
          ),
        );
        const contacts: { id: string; version: number }[] = [];
        for (const step of steps) {
          if (step.kind === 'contact') contacts.push(await crm.contacts.create({ name: `C${contacts.length}` }));
          else if (step.kind === 'company') await crm.companies.create({ name: 'Acme' });
          else if (step.kind === 'update' && contacts.length) {
            const i = step.which % contacts.length;
            contacts[i] = await crm.contacts.update(contacts[i]!.id, { version: contacts[i]!.version, jobTitle: `T${step.which}` });
          } else if (step.kind === 'drain') await consumers[step.which % consumers.length]!.drain();
          else if (step.kind === 'prune') {
            const { through } = await crm.events.prune();
            expect(through).toBeLessThanOrEqual(await crm.events.head());
          }
          clock.advance(10);
        }
        // A retry succeeds; an event queued behind it then fails its own first call: rounds until none waits.
        for (let round = 0; round < 40; round++) {
          for (const consumer of consumers) await consumer.drain();
          clock.advance(10);
          if ((await Promise.all(consumers.map((c) => c.status()))).every((s) => s.pending === 0 && s.lag === 0)) break;
        }
        // Every consumer got exactly its types' events, pruned or not.
        defs.forEach((def, i) => {
          const expected = recorded.filter((e) => !def.types || def.types.includes(e.type as never)).map((e) => e.id);
          expect([...got[i]!].sort()).toEqual(expected.sort());
        });
        // All drained: nothing holds the prune back.
        expect((await crm.events.prune()).through).toBe(await crm.events.head());
        expect((await crm.events.read()).events).toEqual([]);
        await crm.close();
      }),
      { numRuns: 40 },
    );
  });
});
