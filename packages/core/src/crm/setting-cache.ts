import { deepFreeze } from '../storage/deep-freeze.js';
import type { StorageTx } from '../storage/storage-adapter.js';
import type { ConfigRevision, CrmContext, SettingRecord } from './context.js';

/** Caches one tenant setting row (`setting` entity, by key); invalidated like custom-field definitions. */
export class SettingCache<T> {
  private value: T | undefined;

  constructor(
    private readonly revision: ConfigRevision,
    private readonly key: string,
    private readonly fallback: T,
  ) {
    revision.register(this);
  }

  invalidate(): void {
    this.value = undefined;
  }

  /** The stored value, or the fallback when the tenant has none. */
  async load(tx: StorageTx, tenantId: string): Promise<T> {
    await this.revision.ensureFresh(tx);
    if (this.value !== undefined) return this.value;
    const [row] = await tx.getMany('setting', tenantId, [this.key]);
    // Frozen: the cached value is shared by every operation and handed out by the settings' `get()`.
    this.value = row ? deepFreeze((row as unknown as SettingRecord<T>).value) : this.fallback;
    return this.value;
  }
}

/** One cache per crm instance (its configuration revision) and setting key. */
const caches = new WeakMap<ConfigRevision, Map<string, SettingCache<unknown>>>();

/** The cache of the setting `key` of a crm, made on first use (`fallback` must be frozen). */
export function settingCache<T>(ctx: CrmContext, key: string, fallback: T): SettingCache<T> {
  let byKey = caches.get(ctx.revision);
  if (!byKey) caches.set(ctx.revision, (byKey = new Map()));
  let cache = byKey.get(key) as SettingCache<T> | undefined;
  if (!cache) byKey.set(key, (cache = new SettingCache<T>(ctx.revision, key, fallback)));
  return cache;
}
