import type { SettingRecord } from './context.js';
import { CONFIG_LOCK, CONFIG_REVISION } from './context.js';
import type { Operation } from './operation.js';

/** Writes setting row `key` from its current value (read after the caller took the row's lock). */
async function putSetting<T>(op: Operation, key: string, next: (current: T | undefined) => T): Promise<T> {
  const [current] = await op.getMany<SettingRecord<T>>('setting', [key]);
  const value = next(current?.value);
  const row: SettingRecord<T> = {
    id: key, tenantId: op.tenantId, key, value,
    version: (current?.version ?? 0) + 1, createdAt: current?.createdAt ?? op.now, updatedAt: op.now,
  };
  if (current) await op.update('setting', current, row);
  else await op.insert('setting', row);
  return value;
}

/**
 * Marks a configuration change (custom fields, calendar, task types, access) so every process's caches
 * reload. Written in the same transaction as the change, under the configuration lock.
 */
export async function bumpConfigRevision(op: Operation): Promise<void> {
  await op.tx.lockKeys(op.tenantId, [CONFIG_LOCK]);
  await putSetting<null>(op, CONFIG_REVISION, () => null);
}

/**
 * Writes a tenant setting row (`setting` entity, by key) from its current value under a keyed lock
 * taken before it is read, so writers in other processes or connections wait and then build on this
 * one's value: an internal row never fails a call with `CONFLICT` because someone else wrote it too.
 * A configuration row (`config`, the default) is written under the configuration lock and moves the
 * configuration revision; another row (a system job's bookkeeping) under a lock of its own.
 *
 * @returns The value written.
 */
export async function writeSetting<T>(op: Operation, key: string, next: (current: T | undefined) => T, config = true): Promise<T> {
  await op.tx.lockKeys(op.tenantId, [config ? CONFIG_LOCK : `setting:${key}`]);
  const value = await putSetting(op, key, next);
  if (config) await bumpConfigRevision(op);
  return value;
}
