import { describe, expect, it } from 'vitest';
import { device, office } from './harness.js';

/**
 * review13d: review13c's offline-vs-online property with field rules on tasks, leads and contacts and with lead
 * commands: the same random 8-command session of a rep, online (`crm.as('anna')`, no versions) and offline on a
 * device of an identical office, must give each command the same verdict and end in the same state. Today it fails
 * for rules on tasks (`dueAt`/`priority`, `dealId`) in 5 of 15 sessions: `tasks.create{dueAt|dealId}` is recorded on
 * the device and refused by the server (the other helper's item (1)), and its refusal takes later deal moves down
 * (`predecessorRejected`, finding D1). Rules on leads/contacts and on deal fields other than `value` hold.
 */

function rng(seed: number) {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}
type Ids = { d: string; t: string; c: string; l: string; l2: string };
function pick(ids: Ids, r: () => number): [string, unknown[]] {
  const options: [string, unknown[]][] = [
    ['deals.update', [ids.d, { title: 'T' + Math.floor(r() * 3) }]],
    ['deals.advance', [ids.d]],
    ['deals.lose', [ids.d, { reason: 'price' }]],
    ['deals.reopen', [ids.d, { toStage: 'new' }]],
    ['tasks.complete', [ids.t]],
    ['tasks.postpone', [ids.t, { until: '2026-01-09T10:00:00.000Z' }]],
    ['tasks.update', [ids.t, { subject: 'S' + Math.floor(r() * 3) }]],
    ['tasks.cancel', [ids.t]],
    ['tasks.create', [{ subject: 'Next', ownerId: 'anna', dealId: ids.d, dueAt: '2026-01-07T10:00:00.000Z' }]],
    ['contacts.update', [ids.c, { name: `Cora ${Math.floor(r() * 3)}` }]],
    ['leads.update', [ids.l, { name: `Lee ${Math.floor(r() * 3)}` }]],
    ['leads.qualify', [ids.l]],
    ['leads.disqualify', [ids.l, { reason: 'spam' }]],
    ['leads.convert', [r() < 0.5 ? ids.l : ids.l2, {}]],
    ['activities.log', [{ kind: 'call', dealId: ids.d, contactId: ids.c }]],
  ];
  return options[Math.floor(r() * options.length)]!;
}

async function setup(fields: Record<string, unknown>) {
  const o = await office(fields);
  const d = await o.crm.deals.create({ title: 'Acme', pipelineId: o.sales.id, ownerId: 'anna', value: { amount: 5000, currency: 'EUR' }, expectedCloseDate: '2026-02-01', custom: { region: 'N' } });
  const t = await o.crm.tasks.create({ subject: 'Call', ownerId: 'anna', dealId: d.id, dueAt: '2026-01-06T10:00:00.000Z', priority: 'high' });
  const c = await o.crm.contacts.create({ name: 'Cora', ownerId: 'anna', email: 'cora@x.io', phone: '+4915112345678' });
  const l = await o.crm.leads.create({ name: 'Lee', ownerId: 'anna', email: 'lee@x.io', companyName: 'LeeCo', custom: { source2: 'web' } });
  const l2 = await o.crm.leads.create({ name: 'Lou', ownerId: 'anna', phone: '+4915112345679' });
  return { o, ids: { d: d.id, t: t.id, c: c.id, l: l.id, l2: l2.id } };
}

async function diverging(fields: Record<string, unknown>, seeds: number) {
  const bad: string[] = [];
  let deferred = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const [on, off] = [await setup(fields), await setup(fields)];
    const [r1, r2] = [rng(seed), rng(seed)];
    const as = on.o.crm.as({ userId: 'anna' });
    const online: string[] = [];
    for (let i = 0; i < 8; i++) {
      const [name, args] = pick(on.ids, r1);
      const [entity, method] = name.split('.') as [string, string];
      online.push(name + '=' + await as[entity][method](...args).then(() => 'ok', (e: { code?: string; message?: string }) => `${e.code}`));
    }
    const anna = await device(off.o.server, 'anna');
    await anna.client.syncNow();
    anna.network.online = false;
    const seqs: (number | string)[] = [];
    const offline: string[] = [];
    for (let i = 0; i < 8; i++) {
      const [name, args] = pick(off.ids, r2);
      await anna.client.execute(name as never, ...(args as [])).then((r) => {
        seqs.push(r.seq);
        offline.push(r.deferred ? `deferred:${r.seq}` : `ok:${r.seq}`);
        if (r.deferred) deferred++;
      }, (e: { code?: string }) => offline.push(`${e.code}`));
    }
    anna.network.online = true;
    await anna.client.syncNow();
    await anna.client.syncNow();
    const rejected = new Map(anna.client.status().rejected.map((r) => [r.seq, r.error.code]));
    const offVerdicts = offline.map((v) => (v.startsWith('ok:') || v.startsWith('deferred:') ? (rejected.get(Number(v.split(':')[1])) ?? 'ok') : v));
    const state = async (x: typeof on) => JSON.stringify([
      await x.o.crm.deals.get(x.ids.d).then((d: any) => [d.title, d.stageKey, d.status], () => null),  
      await x.o.crm.tasks.get(x.ids.t).then((t: any) => [t.status, t.subject, t.dueAt], () => null),  
      await x.o.crm.leads.get(x.ids.l).then((l: any) => [l.status, l.name], () => null),  
      await x.o.crm.leads.get(x.ids.l2).then((l: any) => [l.status], () => null),  
      await x.o.crm.contacts.get(x.ids.c).then((c: any) => [c.name], () => null),  
    ]);
    const [s1, s2] = [await state(on), await state(off)];
    if (JSON.stringify(online.map((x) => x.split('=')[1])) !== JSON.stringify(offVerdicts) || s1 !== s2) bad.push(`seed ${seed}: online ${online.join(',')} | offline ${offline.join(',')} -> ${offVerdicts.join(',')}${s1 !== s2 ? `\n   on ${s1}\n  off ${s2}` : ''}`);
  }
  return { bad, deferred };
}

const POLICIES: Record<string, Record<string, unknown>> = {
  none: {},
  taskDue: { task: { read: { deny: ['dueAt', 'priority'] } } },
  leadContact: { lead: { read: { deny: ['email', 'phone', 'custom.source2'] } }, contact: { read: { deny: ['email', 'phone'] } } },
  dealMisc: { deal: { read: { deny: ['expectedCloseDate', 'probability', 'custom.region'] } } },
  taskDeal: { task: { read: { deny: ['dealId'] } } },
};

describe('review13d: offline work ends where the same work online ends, field rules beyond deals', () => {
  for (const [name, fields] of Object.entries(POLICIES)) {
    it(name, async () => {
      const out = await diverging(fields, Number(process.env.SEEDS ?? 15));
            expect(out.bad).toEqual([]);
    }, 300_000);
  }
});
