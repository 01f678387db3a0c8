import type { SettingRecord } from './context.js';
import { CONFIG_REVISION } from './context.js';
import type { Operation } from './operation.js';

/**
 * Marks a configuration change (custom fields, calendar, task types) so every process's caches reload.
 * Written in the same transaction as the change.
 */
export async function bumpConfigRevision(op: Operation): Promise<void> {
  const [current] = await op.getMany<SettingRecord<null>>('setting', [CONFIG_REVISION]);
  const next: SettingRecord<null> = {
    id: CONFIG_REVISION, tenantId: op.tenantId, key: CONFIG_REVISION, value: null,
    version: (current?.version ?? 0) + 1, createdAt: current?.createdAt ?? op.now, updatedAt: op.now,
  };
  if (current) await op.update('setting', current, next);
  else await op.insert('setting', next);
}
