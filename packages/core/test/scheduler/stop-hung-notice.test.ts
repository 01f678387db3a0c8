import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';

describe('scheduler stop with a hung notice handler', () => {
  it('stop() and close() do not wait out the notice handler timeout; the notice is delivered by a later tick', async () => {
    const { crm, clock } = await createTestCrm({ now: Date.now() });
    let hang = true;
    const seen: string[] = [];
    let called!: () => void;
    const inHandler = new Promise<void>((resolve) => (called = resolve));
    // Ignores its signal while `hang`: only the abort lets the tick end before the 10 s handler timeout.
    crm.on('task.due', (event) => (hang ? (called(), new Promise<void>(() => undefined)) : void seen.push(event.type)));
    await crm.scheduler.tick();
    await crm.tasks.create({ subject: 'Call Ada', dueAt: new Date(clock.now() + 1000).toISOString() });
    clock.advance(2000);
    const tick = crm.scheduler.tick();
    await inHandler;
    await crm.scheduler.stop();
    await tick;
    hang = false;
    await crm.scheduler.tick();
    expect(seen).toEqual(['task.due']);
    await crm.close();
  }, 5000);
});
