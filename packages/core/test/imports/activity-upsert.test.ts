import { describe, expect, it } from 'vitest';
import { createTestCrm } from '@crmkit/core/testing';
import { csvSource } from '@crmkit/core/csv';

const refused = (run: Promise<unknown>) => run.then(() => undefined, (e: unknown) => e);

/** A call log imported every night: upsert keyed by the telephony's id logs each call once (review16h #8). */
describe('activity imports with mode upsert', () => {
  it('creates what is new and leaves an activity found by key as it is (skipped, unchanged), as upsertByExternalRef does', async () => {
    const { crm } = await createTestCrm();
    const ada = await crm.contacts.create({ name: 'Ada' });
    const file = (rows: string[]) => csvSource(['kind,contactId,outcome,externalRefs.tel', ...rows].join('\r\n'));
    const options = { entity: 'activity' as const, mode: 'upsert' as const, key: 'externalRef:tel' };
    const first = await crm.import.run({ ...options, csv: file([`call,${ada.id},Quote,a1`, `call,${ada.id},Demo,a2`]) });
    expect(first.rows.map((r) => r.outcome)).toEqual(['created', 'created']);
    const logged = await crm.activities.getByExternalRef('tel', 'a1');
    // The next night's file repeats a1 (with another outcome: history is not rewritten) and adds a3.
    const again = await crm.import.run({ ...options, csv: file([`call,${ada.id},Changed,a1`, `call,${ada.id},Demo,a2`, `call,${ada.id},Order,a3`]) });
    expect(again.rows.map((r) => [r.outcome, r.reason])).toEqual([['skipped', 'unchanged'], ['skipped', 'unchanged'], ['created', undefined]]);
    expect(again.rows[0]!.id).toBe(logged.id);
    expect(await crm.activities.get(logged.id)).toEqual(logged);
    expect((await crm.activities.list({ limit: 100 })).items).toHaveLength(3);
    // Repeated within one file: the second row is a duplicate key, as for every entity.
    const twice = await crm.import.run({ ...options, rows: [{ kind: 'call', 'externalRefs.tel': 'a4' }, { kind: 'call', 'externalRefs.tel': 'a4' }] });
    expect(twice.rows.map((r) => [r.outcome, r.issues?.[0]?.code])).toEqual([['created', undefined], ['failed', 'duplicate_key']]);
    // A dry run gives the same verdicts and writes nothing.
    const dry = await crm.import.run({ ...options, dryRun: true, rows: [{ kind: 'call', 'externalRefs.tel': 'a1' }, { kind: 'call', 'externalRefs.tel': 'a9' }] });
    expect(dry.rows.map((r) => r.outcome)).toEqual(['skipped', 'created']);
    expect((await crm.activities.list({ limit: 100 })).items).toHaveLength(4);
  });

  it('mode update is still refused for activities (they are never updated): VALIDATION at mode', async () => {
    const { crm } = await createTestCrm();
    const error = await refused(crm.import.run({ entity: 'activity', mode: 'update', key: 'externalRef:tel', rows: [{ kind: 'call', 'externalRefs.tel': 'a1' }] }));
    expect(error).toMatchObject({ code: 'VALIDATION', details: { issues: [{ path: ['mode'], code: 'invalid_value' }] } });
  });
});
