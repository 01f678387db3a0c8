import { describe, expect, it } from 'vitest';
import { StagedWrites, storedForWrite, type Row, type StoredRecord } from '@crmkit/core/storage';

const row = (id: string, version = 1): Row => ({ id, tenantId: 't', version, createdAt: '2026-01-01T00:00:00.000Z' }) as Row;

describe('StagedWrites.reserve (nextSequence of key-value adapters)', () => {
  it('hands out consecutive numbers after the stored value, concurrent calls included, and keeps the last value to store', async () => {
    const staging = new StagedWrites();
    let loads = 0;
    const load = async () => {
      loads++;
      await Promise.resolve();
      return 41;
    };
    const firsts = await Promise.all([staging.reserve('t', 'feed', 3, load), staging.reserve('t', 'feed', 2, load), staging.reserve('u', 'feed', 1, async () => undefined)]);
    expect(firsts).toEqual([42, 45, 1]);
    expect(await staging.reserve('t', 'feed', 1, load)).toBe(47);
    expect(loads).toBe(1);
    expect([...staging.sequences.values()].sort((a, b) => a.tenantId.localeCompare(b.tenantId))).toEqual([
      { tenantId: 't', name: 'feed', value: 47 },
      { tenantId: 'u', name: 'feed', value: 1 },
    ]);
  });
});

describe('storedForWrite', () => {
  it('fetches updates by key, proves fresh inserts absent with one bounded key probe, and skips ids the transaction staged', async () => {
    const stored = new Map<string, StoredRecord>([['b05', row('b05', 3) as StoredRecord]]);
    const gets: string[] = [];
    const probes: [string, string, number][] = [];
    const reads = {
      keys: async (lower: string, upper: string, cap: number) => {
        probes.push([lower, upper, cap]);
        return [...stored.keys()].filter((id) => id >= lower && id <= upper).map((id) => ['t', id]);
      },
      get: async (id: string) => {
        gets.push(id);
        const record = stored.get(id);
        return record && ({ ...record } as StoredRecord);
      },
    };
    const inserts = Array.from({ length: 10 }, (_, i) => ({ type: 'insert' as const, row: row(`b${String(i).padStart(2, '0')}`) }));
    const staged = new Map<string, Row | null>([['a00', null]]);
    const found = await storedForWrite([...inserts, { type: 'update', row: row('z99', 2), expectedVersion: 1 }, { type: 'delete', id: 'a00' }], staged, reads);
    expect(probes).toEqual([['b00', 'b09', 26]]);
    expect(gets.sort()).toEqual(['b05', 'z99']);
    expect([...found.entries()]).toEqual([['b05', row('b05', 3)]]);
  });
});
