import { createCrm } from '../../crm/create-crm.js';
import type { CrmWith } from '../../crm/feature.js';
import { silentLogger } from '../../crm/logger.js';
import { CRM_STORAGE_SCHEMA } from '../../storage/crm-schema.js';
import type { StorageAdapter } from '../../storage/storage-adapter.js';
import { allFeatures, type AllFeatures } from '../create-test-crm.js';
import { createFakeClock, type FakeClock } from '../fake-clock.js';
import type { ConformanceFactory, ConformanceSubject } from './harness.js';

/** A crm with every feature, as the service-level suites use it. */
export type FullCrm = CrmWith<AllFeatures>;

export interface CrmSubject {
  readonly crm: FullCrm;
  readonly clock: FakeClock;
  readonly storage: StorageAdapter;
  /** Another tenant on the same storage. */
  readonly other: FullCrm;
  /** Every stored row of the crm's tenant, as JSON: compare two dumps to prove nothing changed. */
  dump(): Promise<string>;
  /**
   * A crm of the same tenant over the subject's `peer` adapter (another process's connection: its
   * transactions overlap the crm's), or the crm itself when the adapter has none (its writers run one
   * at a time anyway). For races: whatever interleaving, the outcome must be one of a serial order's.
   */
  racer(): Promise<FullCrm>;
}

export const CRM_TENANT = 'svc';

/** Opens crms over fresh adapters made by `factory`, and releases them after each test. */
export function createCrmHarness(factory: ConformanceFactory): { open(): Promise<CrmSubject>; cleanup(): Promise<void> } {
  let live: { subject: ConformanceSubject; crms: FullCrm[]; peers: StorageAdapter[] }[] = [];
  return {
    async open() {
      const made = await factory();
      const subject: ConformanceSubject = 'adapter' in made ? made : { adapter: made };
      const storage = subject.adapter;
      const clock = createFakeClock('2026-01-05T09:00:00.000Z');
      const make = (tenantId: string, on = storage, seed = tenantId) =>
        createCrm({
          storage: on,
          tenantId,
          actor: { userId: 'anna' },
          clock,
          logger: silentLogger,
          random: { seed },
          closeStorage: false,
          features: allFeatures(),
        });
      const crm = await make(CRM_TENANT);
      const other = await make('svc-other');
      const entry = { subject, crms: [crm, other], peers: [] as StorageAdapter[] };
      live.push(entry);
      const racer = async () => {
        if (!subject.peer) return crm;
        const peer = await subject.peer();
        entry.peers.push(peer);
        await peer.open(CRM_STORAGE_SCHEMA);
        // Another seed: the two crms must not make the same ids.
        const made = await make(CRM_TENANT, peer, `${CRM_TENANT}:peer${entry.peers.length}`);
        entry.crms.push(made);
        return made;
      };
      const dump = async () =>
        storage.transaction('r', async (tx) => {
          const all: Record<string, unknown[]> = {};
          for (const entity of CRM_STORAGE_SCHEMA.entities) all[entity.name] = (await tx.query(entity.name, CRM_TENANT, { sort: [{ field: 'id' }] })).rows;
          return JSON.stringify(all);
        });
      return { crm, clock, storage, other, dump, racer };
    },
    async cleanup() {
      const subjects = live;
      live = [];
      for (const { subject, crms, peers } of subjects) {
        for (const crm of crms) await crm.close().catch(() => undefined);
        for (const peer of peers) await peer.close().catch(() => undefined);
        await subject.adapter.close().catch(() => undefined);
        await subject.dispose?.();
      }
    },
  };
}
