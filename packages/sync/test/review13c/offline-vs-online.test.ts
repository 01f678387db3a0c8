import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13c C2–C5 as a property: the same random 8-command session of a rep, run online (`crm.as('anna')`) on one
 * office and offline on a device of an identical office, then synced, accepts the same number of commands and ends
 * in the same server state. It holds for a rep without field rules (40 of 40 seeds, the control) and fails for a
 * rep who may not read one deal field, `value` (9 of 40 seeds on integ b7d818d): a refused click is deferred (C2)
 * and its rejection takes later moves on the same record down with it (C5); and for a rep who may not read the
 * required `margin` either (every deal update deferred) 14 of 40 (C3/C4's invented conflicts). fix13f: all hold;
 * each run also counts the sessions that left a command to the server, so the property is not met vacuously.
 */
function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

type Ids = { a: string; b: string; t: string; c: string };

function pick(ids: Ids, r: () => number): [string, unknown[]] {
  const d = r() < 0.5 ? ids.a : ids.b;
  const options: [string, unknown[]][] = [
    ['deals.update', [d, { title: ['Acme', 'Bolt', 'New'][Math.floor(r() * 3)], contactId: r() < 0.5 ? ids.c : undefined }]],
    ['deals.advance', [d]],
    ['deals.win', [d]],
    ['deals.lose', [d, { reason: 'price' }]],
    ['deals.reopen', [d, { toStage: 'new' }]],
    ['deals.postpone', [d, { until: '2026-01-20T00:00:00.000Z' }]],
    ['activities.log', [{ kind: 'call', dealId: d, contactId: ids.c }]],
    ['tasks.complete', [ids.t]],
    ['tasks.postpone', [ids.t, { until: '2026-01-09T10:00:00.000Z' }]],
    ['tasks.create', [{ subject: 'Next', ownerId: 'anna', dealId: d, dueAt: '2026-01-07T10:00:00.000Z' }]],
    ['deals.update', [d, { ownerId: r() < 0.7 ? 'anna' : 'ben' }]],
    ['contacts.update', [ids.c, { name: `Cora ${Math.floor(r() * 3)}` }]],
    ['deals.remove', [d]],
  ];
  return options[Math.floor(r() * options.length)]!;
}

/** `none`: no field rules; `value`: a deal's value hidden; `margin`: value and the required custom field `margin` hidden (every deal update of the rep is deferred). */
type Rules = 'none' | 'value' | 'margin';

async function setup(rules: Rules) {
  const o = await office(rules === 'none' ? { noFieldRules: true } : rules === 'value' ? { denyDeal: ['value'] } : { requiredMargin: true });
  const margin = rules === 'margin' ? { custom: { margin: 20 } } : {};
  const a = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' }, ...margin } as never);
  const b = await o.crm.deals.create({ title: 'Bolt', pipelineId: o.sales.id, ownerId: 'anna', ...margin } as never);
  const t = await o.crm.tasks.create({ subject: 'Call', ownerId: 'anna', dealId: a.id, dueAt: '2026-01-06T10:00:00.000Z' } as never);
  const c = await o.crm.contacts.create({ name: 'Cora', ownerId: 'anna' } as never);
  return { o, ids: { a: a.id, b: b.id, t: t.id, c: c.id } };
}

/** Seeds whose offline session ends elsewhere than the online one, and how many sessions had a deferred command (the property means something only then). */
async function diverging(rules: Rules, seeds: number): Promise<{ bad: string[]; deferred: number }> {
  const bad: string[] = [];
  let deferred = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const [on, off] = [await setup(rules), await setup(rules)];
    const [r1, r2] = [rng(seed), rng(seed)];
    let acceptedOnline = 0;
    const as = on.o.crm.as({ userId: 'anna' }) as unknown as Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>;
    for (let i = 0; i < 8; i++) {
      const [name, args] = pick(on.ids, r1);
      const [entity, method] = name.split('.') as [string, string];
      acceptedOnline += await as[entity]![method]!(...args).then(() => 1, () => 0);
    }
    const anna = await device(off.o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    const seqs: number[] = [];
    let deferredHere = false;
    for (let i = 0; i < 8; i++) {
      const [name, args] = pick(off.ids, r2);
      await anna.client.execute(name as never, ...(args as [])).then((r) => {
        seqs.push(r.seq);
        deferredHere ||= r.deferred !== undefined;
      }, () => undefined);
    }
    if (deferredHere) deferred++;
    anna.network.online = true;
    await anna.client.syncNow();
    await anna.client.syncNow();
    const rejected = new Set(anna.client.status().rejected.map((r) => r.seq));
    const acceptedOffline = seqs.filter((s) => !rejected.has(s)).length;
    const state = async (x: typeof on) =>
      JSON.stringify([
        ...(await Promise.all([x.ids.a, x.ids.b].map((id) => x.o.crm.deals.get(id).then((d) => [d.title, d.stageKey, d.status, d.ownerId, d.contactId, d.postponeCount], () => null)))),
        (await x.o.crm.tasks.get(x.ids.t)).status,
      ]);
    if (acceptedOnline !== acceptedOffline || (await state(on)) !== (await state(off))) {
      bad.push(`seed ${seed}: accepted online ${acceptedOnline}, offline ${acceptedOffline}; ${anna.client.status().rejected.map((r) => r.error.message.slice(0, 90)).join(' | ')}`);
    }
  }
  return { bad, deferred };
}

describe('review13c: offline work ends where the same work done online ends', () => {
  it('for a rep without field rules (control)', async () => {
    expect(await diverging('none', 40)).toEqual({ bad: [], deferred: 0 });
  }, 120_000);

  it('for a rep who may not read a deal\'s value', async () => {
    const { bad, deferred } = await diverging('value', 40);
    // Since fix13e (C2) no command of these sessions rests on `value`, so none is deferred: the device judges
    // every one itself, and the property checks that its verdicts are the server's. (31 of 40 sessions deferred one
    // at fix13f alone, when any refusal of a projected user was deferred.)
    expect({ bad, deferred }).toEqual({ bad: [], deferred: 0 });
  }, 120_000);

  it('for a rep who may not read value nor the required margin (every deal update deferred: fix13f, C3/C4)', async () => {
    const { bad, deferred } = await diverging('margin', 40);
    expect(bad).toEqual([]);
    expect(deferred).toBeGreaterThanOrEqual(20); // 24 of 40 with fix13e (38 at fix13f alone, which also deferred refusals resting on readable fields)
  }, 120_000);
});
