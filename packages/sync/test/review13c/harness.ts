import { createCrm, createMemoryStorage, silentLogger } from '@crmkit/core';
import { access } from '@crmkit/core/access';
import { activities } from '@crmkit/core/activities';
import { customFields } from '@crmkit/core/custom-fields';
import { tasks } from '@crmkit/core/tasks';
import { createFakeClock } from '@crmkit/core/testing';
import { createSqliteStorage } from '@crmkit/storage-sqlite';
import { createSyncServer, syncChanges } from '@crmkit/sync/server';
import { createSyncClient, inProcessTransport, replicaStorage, syncReplica, type SyncTransport } from '../../src/index.js';

/**
 * review13c: what a new user builds from docs/sync.md — an office crm on SQLite with an access policy and
 * `createSyncServer`, devices on `replicaStorage` with a network switch. Reps see their own deals; the
 * `rep` role may not read a deal's `value` nor the custom field `margin` (required).
 */
export async function office(options: { denyDeal?: string[]; requiredMargin?: boolean; noFieldRules?: boolean } = {}) {
  const clock = createFakeClock('2026-01-05T09:00:00.000Z');
  const crm = await createCrm({
    storage: createSqliteStorage({ filename: ':memory:' }), tenantId: 'acme', actor: { userId: 'admin' }, logger: silentLogger, clock, random: { seed: 7 },
    features: [tasks(), activities(), customFields(), access(), syncChanges()] as const,
  });
  const sales = await crm.pipelines.create({ name: 'Sales', stages: [{ key: 'new', name: 'New' }, { key: 'proposal', name: 'Proposal' }, { key: 'won', name: 'Won', kind: 'won' }, { key: 'lost', name: 'Lost', kind: 'lost' }] });
  await crm.customFields.define({ entity: 'deal', key: 'margin', label: 'Margin', type: 'number', required: options.requiredMargin ?? false } as never);
  await crm.customFields.define({ entity: 'deal', key: 'region', label: 'Region', type: 'text' } as never);
  await crm.access.setPolicy({
    roles: {
      rep: {
        grants: { deal: { '*': 'own' }, contact: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' }, customField: { read: 'all' } },
        ...(options.noFieldRules ? {} : { fields: { deal: { read: { deny: options.denyDeal ?? ['value', 'custom.margin'] } } } }),
      },
    },
    defaultRoles: ['rep'],
  } as never);
  const sessions = new Map([['token-anna', { userId: 'anna' }], ['token-ben', { userId: 'ben' }]]);
  const server = createSyncServer(crm, { principal: (request) => sessions.get(request.headers.get('authorization')?.replace('Bearer ', '') ?? '') });
  return { crm, clock, sales, server };
}

export async function device(server: { handle(r: Request): Promise<Response> }, user: string, seed = 11) {
  const network = { online: true };
  const wire = inProcessTransport(server, { headers: () => ({ authorization: `Bearer token-${user}` }) });
  const transport: SyncTransport = {
    push: (body, signal) => (network.online ? wire.push(body, signal) : Promise.reject(new TypeError('fetch failed'))),
    pull: (body, signal) => (network.online ? wire.pull(body, signal) : Promise.reject(new TypeError('fetch failed'))),
  };
  const crm = await createCrm({
    storage: replicaStorage(createMemoryStorage()), tenantId: 'acme', actor: { userId: user }, logger: silentLogger,
    clock: createFakeClock('2026-01-05T10:00:00.000Z'), random: { seed },
    features: [tasks(), activities(), customFields(), syncReplica()] as const,
  });
  const client = await createSyncClient({ crm, transport, start: false });
  return { crm, client, network };
}
