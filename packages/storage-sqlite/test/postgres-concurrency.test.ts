import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createCrm, isCrmError, silentLogger, type StorageAdapter } from '@crmkit/core';
import type { Row } from '@crmkit/core/storage';
import { automations } from '@crmkit/core/automations';
import { events } from '@crmkit/core/feed';
import { imports } from '@crmkit/core/imports';
import { duplicates } from '@crmkit/core/duplicates';
import { merges } from '@crmkit/core/merges';
import { createPostgresStorage } from '@crmkit/storage-sqlite';
import { createPostgresTestBed } from './support/postgres-subjects.js';

const url = inject('postgresUrl');

describe('postgres across connections', () => {
  const bed = createPostgresTestBed(url);
  let cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups = [];
  });
  afterAll(() => bed?.end());

  /** Two adapters on one schema, each with its own pool: two independent connections. */
  async function twoAdapters(): Promise<[StorageAdapter, StorageAdapter, string]> {
    const schema = bed!.schemaName('race');
    const make = async () => {
      const adapter = createPostgresStorage({ connectionString: url, schema, maxConnections: 2 });
      await adapter.open((await import('@crmkit/core/storage')).CRM_STORAGE_SCHEMA);
      cleanups.push(() => adapter.close());
      return adapter;
    };
    const a = await make();
    const b = await make();
    cleanups.push(() => bed!.dropSchema(schema));
    return [a, b, schema];
  }

  const deal = (version: number, extra: Record<string, unknown> = {}) =>
    ({ id: 'd1', tenantId: 't', version, stageKey: 'new', postponeCount: 0, ...extra }) as Row;
  const read = async (adapter: StorageAdapter) => (await adapter.transaction('r', (tx) => tx.getMany('deal', 't', ['d1'])))[0]!;
  const move = (adapter: StorageAdapter, stageKey: string, expectedVersion: number) =>
    adapter.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'update', row: deal(expectedVersion + 1, { stageKey }), expectedVersion }]));

  it('two connections moving the same deal with the same version: exactly one wins, the other gets CONFLICT', async () => {
    const [a, b] = await twoAdapters();
    await a.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: deal(1) }]));
    for (let round = 1; round <= 5; round++) {
      const results = await Promise.allSettled([move(a, `a${round}`, round), move(b, `b${round}`, round)]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won.length).toBe(1);
      expect(lost.length).toBe(1);
      expect(isCrmError(lost[0]!.reason, 'CONFLICT') && lost[0]!.reason.details).toMatchObject({ expectedVersion: round, actualVersion: round + 1 });
      const stored = await read(b);
      expect(stored).toMatchObject({ version: round + 1, stageKey: results[0]!.status === 'fulfilled' ? `a${round}` : `b${round}` });
    }
  });

  it('a writer that waits on the other connection’s row lock gets CONFLICT after it commits, never a lost update', async () => {
    const [a, b] = await twoAdapters();
    await a.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: deal(1) }]));
    let bStarted!: () => void;
    const bMayStart = new Promise<void>((resolve) => (bStarted = resolve));
    const first = a.transaction('rw', async (tx) => {
      await tx.write('deal', 't', [{ type: 'update', row: deal(2, { stageKey: 'from-a' }), expectedVersion: 1 }]);
      bStarted();
      // Keep the row locked a while (SQL engines allow other awaits inside a transaction).
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    await bMayStart;
    const second = await move(b, 'from-b', 1).catch((e: unknown) => e);
    await first;
    expect(isCrmError(second, 'CONFLICT') && second.details).toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    expect(await read(b)).toMatchObject({ version: 2, stageKey: 'from-a' });
  });

  it('loses no update when two connections increment the same row with read-then-write races', async () => {
    const [a, b] = await twoAdapters();
    await a.transaction('rw', (tx) => tx.write('deal', 't', [{ type: 'insert', row: deal(1) }]));
    const times = 25;
    let conflicts = 0;
    const worker = async (adapter: StorageAdapter) => {
      for (let done = 0; done < times; ) {
        const row = await read(adapter);
        try {
          await adapter.transaction('rw', (tx) =>
            tx.write('deal', 't', [{ type: 'update', row: { ...row, version: row.version + 1, postponeCount: (row.postponeCount as number) + 1 }, expectedVersion: row.version }]),
          );
          done++;
        } catch (error) {
          if (!isCrmError(error, 'CONFLICT')) throw error;
          conflicts++;
        }
      }
    };
    await Promise.all([worker(a), worker(b)]);
    expect(await read(a)).toMatchObject({ postponeCount: 2 * times, version: 1 + 2 * times });
    expect(conflicts).toBeGreaterThanOrEqual(0);
  });

  it('two crm instances racing deals.update with the same version: one wins, one CONFLICT', async () => {
    const [a, b] = await twoAdapters();
    const crmA = await createCrm({ storage: a, tenantId: 'acme', logger: silentLogger, closeStorage: false });
    const crmB = await createCrm({ storage: b, tenantId: 'acme', logger: silentLogger, closeStorage: false });
    await crmA.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const created = await crmA.deals.create({ title: 'Contested' });
    const results = await Promise.allSettled([crmA.deals.update(created.id, { title: 'A', version: 1 }), crmB.deals.update(created.id, { title: 'B', version: 1 })]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(isCrmError(rejected.reason, 'CONFLICT')).toBe(true);
    expect((await crmB.deals.get(created.id)).version).toBe(2);
  });

  it('two crm instances running one rate-limited rule at once: never more runs than its limit', async () => {
    const [a, b] = await twoAdapters();
    const open = (storage: StorageAdapter) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false, features: [events(), automations()] });
    const crmA = await open(a);
    const crmB = await open(b);
    await crmA.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }] });
    const deal = await crmA.deals.create({ title: 'Busy' });
    const rule = await crmA.automations.define({ name: 'Tag', trigger: { type: 'manual', entity: 'deal' }, rateLimit: { max: 5, perMinutes: 60 }, actions: [{ type: 'addTag', tag: 'x' }] });
    // Each run counts the rule's recent runs; without a per-rule lock, runs on two connections both see "4 of 5".
    const runs = await Promise.all(Array.from({ length: 16 }, (_, i) => (i % 2 ? crmA : crmB).automations.trigger(rule.id, { type: 'deal', id: deal.id })));
    expect(runs.filter((r) => r?.status === 'done').length).toBe(5);
    expect(runs.filter((r) => r?.status === 'skipped' && r.reason?.startsWith('rateLimited')).length).toBe(11);
    const stored = (await crmA.automations.runs({ ruleId: rule.id, limit: 100 })).items;
    expect(stored.filter((r) => r.status === 'done').length).toBe(5);
    await crmA.close();
    await crmB.close();
  });

  it('two crm instances defining the 1,000th rule at once: one is stored, the other is refused with VALIDATION', async () => {
    const [a, b] = await twoAdapters();
    const open = (storage: StorageAdapter) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false, features: [events(), automations()] });
    const crmA = await open(a);
    const crmB = await open(b);
    const first = await crmA.automations.define({ name: 'R0', enabled: false, trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'addTag', tag: 'x' }] });
    const copies = Array.from({ length: 998 }, (_, i) => ({ ...first, id: `rule_seed_${i}`, name: `R${i + 1}` }) as unknown as Row);
    await a.transaction('rw', (tx) => tx.write('automationRule', 'acme', copies.map((row) => ({ type: 'insert' as const, row }))));
    const define = (crm: typeof crmA, name: string) => crm.automations.define({ name, trigger: { type: 'manual', entity: 'deal' }, actions: [{ type: 'addTag', tag: 'y' }] });
    const results = await Promise.allSettled([define(crmA, 'A'), define(crmB, 'B')]);
    expect(results.filter((r) => r.status === 'fulfilled').length).toBe(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!.reason;
    // The loser waits for the winner and sees the maximum reached (not a CONFLICT to retry into the same refusal).
    expect(isCrmError(refused, 'VALIDATION') && refused.details.issues[0]).toMatchObject({ code: 'too_big' });
    expect((await crmB.automations.list()).length).toBe(1000);
    await crmA.close();
    await crmB.close();
  });
  it('two crm instances importing overlapping refs in opposite order (upsert by external ref): both finish, one record per ref', async () => {
    const [a, b] = await twoAdapters();
    const open = (storage: StorageAdapter) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false, features: [imports()] });
    const crmA = await open(a);
    const crmB = await open(b);
    const rows = Array.from({ length: 60 }, (_, i) => ({ n: `Cust ${i}`, s: `r${i}` }));
    const options = { entity: 'contact' as const, mode: 'upsert' as const, key: 'externalRef:shop', mapping: { name: 'n', 'externalRefs.shop': 's' }, chunkSize: 10 };
    // Chunks take row locks in opposite orders: PostgreSQL aborts one as a deadlock (40P01, retryable), the chunk runs again.
    const [ra, rb] = await Promise.all([crmA.import.run({ ...options, rows }), crmB.import.run({ ...options, rows: [...rows].reverse() })]);
    for (const report of [ra, rb]) {
      expect(report.counts.failed, JSON.stringify(report.rows.filter((r) => r.outcome === 'failed'))).toBe(0);
      expect(report.counts.created + report.counts.updated + report.counts.skipped).toBe(60);
    }
    expect(ra.counts.created + rb.counts.created).toBe(60);
    const stored = (await crmA.contacts.list({ limit: 200 })).items;
    expect(stored).toHaveLength(60);
    expect(new Set(stored.map((c) => c.externalRefs![0]!.id)).size).toBe(60);
    for (const id of [ra.jobId!, rb.jobId!]) expect((await crmA.import.job(id)).status).toBe('completed');
    await crmA.close();
    await crmB.close();
  });

  it('two crm instances: deals imported (import.run, imports.deals) for contacts merged meanwhile all end on a contact that exists (review16h #1)', async () => {
    const [a, b] = await twoAdapters();
    const open = (storage: StorageAdapter) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false, features: [imports(), merges()] });
    const crmA = await open(a);
    const crmB = await open(b);
    await crmA.pipelines.create({ name: 'P', stages: [{ key: 'new', name: 'New' }] });
    const keep = await crmA.contacts.create({ name: 'Keep' });
    const dups = [];
    for (let i = 0; i < 12; i++) dups.push(await crmA.contacts.create({ name: `Dup ${i}` }));
    const rows = dups.map((d, i) => ({ title: `Order ${i}`, contactId: d.id }));
    const [run, bulk] = await Promise.allSettled([
      crmA.import.run({ entity: 'deal', mode: 'create', rows, chunkSize: 2 }),
      crmA.imports.deals(rows.map((r) => ({ ...r, title: `${r.title} (bulk)` }))),
      (async () => {
        for (const d of dups) await crmB.merges.contacts(keep.id, [d.id]);
      })(),
    ]);
    // A row (the bulk call: all of them) whose contact was merged before it is refused; one before the merge is moved by it.
    if (run.status === 'fulfilled') for (const r of run.value.rows.filter((x) => x.outcome === 'failed')) expect(r.error).toBe('VALIDATION');
    else throw run.reason;
    if (bulk.status === 'rejected') expect(isCrmError(bulk.reason, 'VALIDATION')).toBe(true);
    const deals = (await crmA.deals.list({ limit: 100 })).items;
    expect(deals.length).toBe(run.value.counts.created + (bulk.status === 'fulfilled' ? rows.length : 0));
    expect(new Set(deals.map((d) => d.contactId))).toEqual(new Set(deals.length ? [keep.id] : []));
    await crmA.close();
    await crmB.close();
  });

  // No unique index guards an e-mail: the chunks' keyed locks (pg_advisory_xact_lock) make the lookups wait for each other.
  for (const [label, extra] of [
    ['upsert keyed by e-mail', { mode: 'upsert', key: 'email' }],
    ['create with duplicates: skip', { mode: 'create', duplicates: { action: 'skip' } }],
    ['create keyed by e-mail', { mode: 'create', key: 'email' }],
  ] as const) {
    it(`two crm instances importing one customer file in opposite order (${label}): one contact per e-mail, no deadlock`, async () => {
      const [a, b] = await twoAdapters();
      const open = (storage: StorageAdapter) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false, features: [imports(), duplicates()] });
      const crmA = await open(a);
      const crmB = await open(b);
      const rows = Array.from({ length: 40 }, (_, i) => ({ N: `Customer Person${i}`, E: `c${i}@shop.example` }));
      const options = { entity: 'contact' as const, mapping: { name: 'N', email: 'E' }, chunkSize: 5, ...extra };
      const [ra, rb] = await Promise.all([crmA.import.run({ ...options, rows }), crmB.import.run({ ...options, rows: [...rows].reverse() })]);
      const stored = (await crmA.contacts.list({ limit: 200 })).items;
      expect(stored.map((c) => c.email).sort()).toEqual(rows.map((r) => r.E).sort());
      expect(ra.counts.created + rb.counts.created).toBe(40);
      const failed = [...ra.rows, ...rb.rows].filter((r) => r.outcome === 'failed');
      // Create mode with a key: the loser's rows fail already_exists; the other modes update or skip.
      if (extra.mode === 'create' && 'key' in extra) expect(failed.every((r) => r.issues![0]!.code === 'already_exists')).toBe(true);
      else expect(failed).toEqual([]);
      // The nightly re-run finds one contact per e-mail (no ambiguous_key).
      if (extra.mode === 'upsert') expect((await crmA.import.run({ ...options, rows })).counts).toEqual({ created: 0, updated: 0, skipped: 40, failed: 0 });
      await crmA.close();
      await crmB.close();
    });
  }

  // A keyed import locks its key values, a duplicates import its entity: the two must still wait for each other (review 16g #5).
  for (const [entity, label, keyed, rows] of [
    ['contact', 'upsert keyed by e-mail', { mode: 'upsert', key: 'email' }, Array.from({ length: 24 }, (_, i) => ({ N: `Person Number${i}`, E: `q${i}@x.example` }))],
    ['contact', 'create keyed by e-mail', { mode: 'create', key: 'email' }, Array.from({ length: 24 }, (_, i) => ({ N: `Person Number${i}`, E: `q${i}@x.example` }))],
    ['company', 'upsert keyed by domain', { mode: 'upsert', key: 'domain' }, Array.from({ length: 24 }, (_, i) => ({ N: `Firm Alpha${i}`, E: `alpha${i}.example` }))],
  ] as const) {
    it(`a ${entity} import ${label} and one with duplicates: skip at once: one ${entity} per client`, async () => {
      const [a, b] = await twoAdapters();
      const open = (storage: StorageAdapter) => createCrm({ storage, tenantId: 'acme', logger: silentLogger, closeStorage: false, features: [imports(), duplicates()] });
      const crmA = await open(a);
      const crmB = await open(b);
      const mapping: Record<string, string> = entity === 'contact' ? { name: 'N', email: 'E' } : { name: 'N', domain: 'E' };
      const [ra, rb] = await Promise.all([
        crmA.import.run({ entity, mapping, chunkSize: 4, ...keyed, rows }),
        crmB.import.run({ entity, mapping, chunkSize: 4, mode: 'create', duplicates: { action: 'skip' }, rows: [...rows].reverse() }),
      ]);
      const stored = (entity === 'contact' ? await crmA.contacts.list({ limit: 200 }) : await crmA.companies.list({ limit: 200 })).items as { name: string }[];
      expect(stored.map((c) => c.name).sort()).toEqual(rows.map((r) => r.N).sort());
      expect(ra.counts.created + rb.counts.created).toBe(24);
      await crmA.close();
      await crmB.close();
    });
  }
});
