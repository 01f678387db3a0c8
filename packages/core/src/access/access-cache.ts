import type { ConfigRevision, SettingRecord } from '../crm/context.js';
import type { Principal } from '../crm/access-guard.js';
import type { StorageTx } from '../storage/storage-adapter.js';
import { CompiledAccess } from './compiled-access.js';
import { DirectoryIndex, EMPTY_DIRECTORY, type Directory } from './access-directory.js';
import type { AccessPolicy } from './access-policy.js';
import { OWNER_KEYS_KEY } from './owner-keys.js';

/** Setting rows holding a tenant's access configuration. */
export const POLICY_KEY = 'accessPolicy';
export const DIRECTORY_KEY = 'accessDirectory';
/**
 * The share keys records were ever shared with, as `<entity> <key>` (`deal u:anna`, `deal t:north`):
 * a principal's filter on an entity gets the "shared with me" branch only when one of its keys is
 * there. A bare entity name (written before per-key marks, until `reindex()`) stands for every key.
 */
export const SHARED_KEY = 'accessShared';

/** Compiled principals kept per crm: the working set of a server's active users. */
const MAX_COMPILED = 1000;

interface AccessConfig {
  readonly policy: AccessPolicy | undefined;
  readonly directory: DirectoryIndex;
  readonly shared: ReadonlySet<string>;
  /** Whether every deal carries its owner's team key (`OWNER_KEYS_KEY`, on an adapter that keeps them). */
  readonly ownerKeys: boolean;
}

/** The cache key of a principal: what its compiled rules depend on. */
function principalKey(principal: Principal): string {
  return JSON.stringify([principal.userId, principal.roles ?? null, principal.teamIds ?? null]);
}

/**
 * The tenant's policy and directory, loaded once per configuration revision, and the rules compiled
 * per principal (least recently used evicted beyond `MAX_COMPILED`). Invalidated by any configuration
 * change: in this process at once, in others through the configuration revision, which every
 * operation checks (one small read, shared with the custom-field cache).
 */
export class AccessCache {
  private config: AccessConfig | undefined;
  private readonly compiled = new Map<string, CompiledAccess>();

  constructor(
    private readonly tenantId: string,
    private readonly revision: ConfigRevision,
    /** Whether the adapter keeps owner keys on deals (`StorageCapabilities.ownerKeys`). */
    private readonly keyed = false,
  ) {
    revision.register(this);
  }

  invalidate(): void {
    this.config = undefined;
    this.compiled.clear();
  }

  /** Whether the loaded configuration has share mark `mark` (`<entity> <key>`; marks never go away while shares remain). */
  knowsShared(mark: string): boolean {
    return this.config?.shared.has(mark) === true;
  }

  /** The stored policy and directory, through `tx` (from the cache when the revision did not move). */
  async load(tx: StorageTx): Promise<AccessConfig> {
    await this.revision.ensureFresh(tx);
    if (this.config) return this.config;
    const [policy, directory, shared, ownerKeys] = (await tx.getMany('setting', this.tenantId, [POLICY_KEY, DIRECTORY_KEY, SHARED_KEY, OWNER_KEYS_KEY])) as unknown as (SettingRecord<unknown> | undefined)[];
    const config: AccessConfig = {
      policy: (policy?.value ?? undefined) as AccessPolicy | undefined,
      directory: new DirectoryIndex((directory?.value as Directory | undefined) ?? EMPTY_DIRECTORY),
      shared: new Set((shared?.value as string[] | undefined) ?? []),
      ownerKeys: this.keyed && ownerKeys?.value === true,
    };
    this.config = config;
    return config;
  }

  /**
   * The compiled rules of a principal, or `undefined` when the tenant has no policy.
   *
   * @throws CrmError `VALIDATION` when the principal names a role the policy does not define.
   */
  async guard(tx: StorageTx, principal: Principal): Promise<CompiledAccess | undefined> {
    const config = await this.load(tx);
    if (!config.policy) return undefined;
    const key = principalKey(principal);
    let hit = this.compiled.get(key);
    if (hit) {
      this.compiled.delete(key);
      this.compiled.set(key, hit);
      return hit;
    }
    hit = new CompiledAccess(config.policy, config.directory, principal, config.shared, config.ownerKeys);
    // Only keep it if no invalidation raced in while loading.
    if (this.config === config) {
      this.compiled.set(key, hit);
      if (this.compiled.size > MAX_COMPILED) this.compiled.delete(this.compiled.keys().next().value!);
    }
    return hit;
  }
}
