import type { AggregateRow } from '../../query/query-spec.js';
import { CRM_STORAGE_SCHEMA } from '../../storage/crm-schema.js';
import type { Row, StorageAdapter, StorageCapabilities } from '../../storage/storage-adapter.js';

/** What a conformance factory returns: a fresh, empty adapter, and how to reopen and dispose it. */
export interface ConformanceSubject {
  readonly adapter: StorageAdapter;
  /** For durable adapters: a new adapter over the same data (after `adapter.close()`). */
  reopen?(): Promise<StorageAdapter>;
  /**
   * For adapters shared by several tabs or processes: another adapter over the same data, open at the
   * same time as `adapter` (another tab, another process's connection). Not yet opened.
   */
  peer?(): Promise<StorageAdapter> | StorageAdapter;
  /** Deletes files, databases or servers the subject made. Called after each test. */
  dispose?(): Promise<void>;
}

/** Makes a fresh, empty adapter (not yet opened) for each test. */
export type ConformanceFactory = () => Promise<StorageAdapter | ConformanceSubject> | StorageAdapter | ConformanceSubject;

export interface ConformanceOptions {
  /** Runs of each property test (default 60). */
  readonly numRuns?: number;
  /** Per-test timeout in ms (default 60 000). */
  readonly timeout?: number;
}

export interface Harness {
  readonly capabilities: StorageCapabilities;
  readonly options: Required<ConformanceOptions>;
  /** Creates, opens and returns an adapter; it is closed and disposed after the test. */
  open(): Promise<{ adapter: StorageAdapter; subject: ConformanceSubject }>;
  /** Opens the subject's `peer` (closed after the test), or `undefined` when it has none. */
  openPeer(subject: ConformanceSubject): Promise<StorageAdapter | undefined>;
  cleanup(): Promise<void>;
}

export function createHarness(factory: ConformanceFactory, capabilities: StorageCapabilities, options: ConformanceOptions = {}): Harness {
  let live: ConformanceSubject[] = [];
  const peers: StorageAdapter[] = [];
  return {
    capabilities,
    options: { numRuns: options.numRuns ?? 60, timeout: options.timeout ?? 60_000 },
    async open() {
      const made = await factory();
      const subject: ConformanceSubject = 'adapter' in made ? made : { adapter: made };
      live.push(subject);
      await subject.adapter.open(CRM_STORAGE_SCHEMA);
      return { adapter: subject.adapter, subject };
    },
    async openPeer(subject) {
      if (!subject.peer) return undefined;
      const peer = await subject.peer();
      peers.push(peer);
      await peer.open(CRM_STORAGE_SCHEMA);
      return peer;
    },
    async cleanup() {
      for (const peer of peers.splice(0)) await peer.close().catch(() => {});
      const subjects = live;
      live = [];
      for (const s of subjects) {
        await s.adapter.close().catch(() => {});
        await s.dispose?.();
      }
    },
  };
}

/** A deal-shaped row for tests. */
export function dealRow(id: string, fields: Record<string, unknown> = {}, tenantId = 't1'): Row {
  return {
    id,
    tenantId,
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    custom: {},
    ...fields,
  } as Row;
}

/** Inserts rows in one transaction. */
export async function seed(adapter: StorageAdapter, entity: string, rows: readonly Row[], tenantId = 't1'): Promise<void> {
  if (rows.length === 0) return;
  await adapter.transaction('rw', (tx) => tx.write(entity, tenantId, rows.map((row) => ({ type: 'insert' as const, row }))));
}

/** Reads every row of an entity for a tenant, in id order. */
export async function readAll(adapter: StorageAdapter, entity: string, tenantId = 't1'): Promise<Row[]> {
  return adapter.transaction('r', async (tx) => (await tx.query(entity, tenantId, { sort: [{ field: 'id' }] })).rows);
}

/** Catches the rejection of a promise, failing if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/** Aggregate rows equal up to float rounding (sums within 1e-9 relative), groups in the same order. */
export function closeEnough(actual: readonly AggregateRow[], expected: readonly AggregateRow[]): boolean {
  if (actual.length !== expected.length) return false;
  return actual.every((row, i) => {
    const other = expected[i]!;
    if (JSON.stringify(row.group) !== JSON.stringify(other.group)) return false;
    return (
      Object.keys(other.values).every((k) => {
        const a = row.values[k];
        const b = other.values[k];
        if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
        return a === b;
      }) && Object.keys(row.values).length === Object.keys(other.values).length
    );
  });
}
