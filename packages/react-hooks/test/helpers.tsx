import { createMemoryStorage, type StorageAdapter } from '@crmkit/core';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { createTestCrm } from '@crmkit/core/testing';
import { act } from '@testing-library/react';
import type { ReactNode } from 'react';
import { CrmProvider } from '@crmkit/react-hooks';
import type { ObservedCrm } from '@crmkit/core/observe';

/** Lets storage promises, microtasks and observer refetches settle. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setTimeout(r, 0));
}

/** Runs CRM calls inside act() and waits until observers have refetched. */
export async function settled<T>(fn: () => Promise<T> | T): Promise<T> {
  let out!: T;
  await act(async () => {
    out = await fn();
    await settle();
  });
  return out;
}

/** Memory storage that counts live `onChange` subscriptions and can serve stale deal reads (a concurrent writer). */
export interface InstrumentedStorage extends StorageAdapter {
  /** Live `onChange` listeners. */
  listeners(): number;
  /** Until called with `undefined`, every read of this deal inside a read-write transaction returns it one version older: each write then fails with CONFLICT. */
  staleReads(dealId: string | undefined): void;
}

export function instrumentedStorage(): InstrumentedStorage {
  const inner = createMemoryStorage();
  let live = 0;
  let stale: string | undefined;
  const wrapTx = (tx: StorageTx): StorageTx => ({
    getMany: async (entity, tenantId, ids) => {
      const rows = await tx.getMany(entity, tenantId, ids);
      if (entity !== 'deal' || !stale) return rows;
      return rows.map((row) => {
        if (!row || row.id !== stale) return row;
        return { ...row, version: (row.version as number) - 1 } as Row;
      });
    },
    query: (...args) => tx.query(...args),
    aggregate: (...args) => tx.aggregate(...args),
    write: (...args) => tx.write(...args),
    nextSequence: (...args) => tx.nextSequence(...args),
    claim: (...args) => tx.claim(...args),
    lockKeys: (...args) => tx.lockKeys(...args),
  });
  return {
    name: inner.name,
    capabilities: inner.capabilities,
    open: (schema) => inner.open(schema),
    ensureIndexes: (...args) => inner.ensureIndexes(...args),
    transaction: (mode, fn) => inner.transaction(mode, (tx) => fn(mode === 'rw' ? wrapTx(tx) : tx)),
    onChange(listener) {
      const off = inner.onChange(listener);
      live++;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        live--;
        off();
      };
    },
    close: () => inner.close(),
    listeners: () => live,
    staleReads: (dealId) => void (stale = dealId),
  };
}

/** A CRM with a sales pipeline: `new` → `qualified` (needs a contact) → `proposal` → won / lost. */
export async function salesCrm() {
  const storage = instrumentedStorage();
  const { crm, clock } = await createTestCrm({ storage });
  const pipeline = await crm.pipelines.create({
    name: 'Sales',
    stages: [
      { key: 'new', name: 'New', probability: 10 },
      { key: 'qualified', name: 'Qualified', probability: 40, entryRules: [{ type: 'hasContact', message: 'A qualified deal needs a contact' }] },
      { key: 'proposal', name: 'Proposal', probability: 70 },
      { key: 'won', name: 'Won', kind: 'won' },
      { key: 'lost', name: 'Lost', kind: 'lost' },
    ],
  });
  return { crm, clock, storage, pipeline };
}

export function wrapper(crm: ObservedCrm) {
  return function Wrapper({ children }: { children?: ReactNode }) {
    return <CrmProvider crm={crm}>{children}</CrmProvider>;
  };
}
