import { expect } from 'vitest';
import { createMemoryStorage, isCrmError, type CrmErrorCode, type CrmError, type StorageAdapter } from '@crmkit/core';
import type { StorageTx, WriteOp } from '@crmkit/core/storage';
import { createTestCrm, type CreateTestCrmOptions, type TestCrm } from '@crmkit/core/testing';

/** Awaits a promise expected to fail with a CrmError of `code`, and returns the error. */
export async function expectCrmError<C extends CrmErrorCode>(promise: Promise<unknown>, code: C): Promise<CrmError<C>> {
  let error: unknown;
  try {
    await promise;
  } catch (e) {
    error = e;
  }
  if (!isCrmError(error, code)) throw new Error(`expected CrmError ${code}, got ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return error;
}

/** Paths of the issues of a VALIDATION error, as dotted strings. */
export function issuePaths(error: CrmError<'VALIDATION'>): string[] {
  return error.details.issues.map((i) => i.path.join('.'));
}

/** A test CRM with a two-stage sales pipeline. */
export async function crmWithPipeline(options: Omit<CreateTestCrmOptions, 'features'> = {}): Promise<TestCrm & { pipelineId: string }> {
  const t = await createTestCrm(options);
  const pipeline = await t.crm.pipelines.create({
    name: 'Sales',
    stages: [
      { key: 'new', name: 'New', probability: 10 },
      { key: 'proposal', name: 'Proposal', probability: 60 },
    ],
  });
  return { ...t, pipelineId: pipeline.id };
}

/** Expects the memory storage to be unchanged since `before`. */
export function expectUnchanged(t: TestCrm, before: ReturnType<TestCrm['storage']['snapshot']>): void {
  expect(t.storage.snapshot()).toEqual(before);
}

/** Decides per storage write (entity, ops) whether it fails, and with which error. */
export type WriteFault = (entity: string, ops: readonly WriteOp[]) => Error | undefined;

/**
 * A memory storage whose transactions' writes can be made to fail as a lost connection or a concurrent
 * writer makes them (`state.fault`); `state.writes` lists the entity of every write attempted.
 */
export function faultyStorage() {
  const inner = createMemoryStorage();
  const state: { fault?: WriteFault; writes: string[] } = { writes: [] };
  const wrap = (tx: StorageTx): StorageTx =>
    new Proxy(tx, {
      get(target, key) {
        if (key === 'write') {
          return async (entity: string, tenantId: string, ops: readonly WriteOp[]) => {
            state.writes.push(entity);
            const error = state.fault?.(entity, ops);
            if (error) throw error;
            return target.write(entity, tenantId, ops);
          };
        }
        const value = Reflect.get(target, key) as unknown;
        return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
      },
    });
  const storage = new Proxy(inner, {
    get(target, key) {
      if (key === 'transaction') return (mode: 'r' | 'rw', fn: (tx: StorageTx) => Promise<unknown>) => target.transaction(mode, (tx) => fn(wrap(tx)));
      const value = Reflect.get(target, key) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  }) as StorageAdapter;
  return { storage: storage as ReturnType<typeof createMemoryStorage>, state };
}
