import type { StorageAdapter } from '@crmkit/core';
import { serverOf } from './support.js';

/**
 * A server with a policy: reps read and change their own deals, contacts and tasks (`own`), leads read
 * every deal but not its value; the directory puts anna and ben in one team under lea.
 */
export async function scopedServer(makeStorage: () => StorageAdapter) {
  const t = await serverOf(makeStorage, { access: true });
  await t.crm.access.setPolicy({
    roles: {
      rep: { grants: { deal: { '*': 'own' }, contact: { '*': 'own' }, task: { '*': 'own' }, activity: { '*': 'own' }, pipeline: { read: 'all' } } },
      lead: { grants: { deal: { '*': 'all' }, pipeline: { read: 'all' } }, fields: { deal: { read: { deny: ['value', 'weightedValue'] } } } },
    },
    defaultRoles: ['rep'],
  } as never);
  return t;
}
