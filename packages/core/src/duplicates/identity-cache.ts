import type { ConfigRevision, CrmContext, SettingRecord } from '../crm/context.js';
import type { Operation } from '../crm/operation.js';
import type { IdentityOptions } from '../domain/duplicates.js';
import { internationalPhoneParser } from '../domain/phone-numbers.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import type { StorageTx } from '../storage/storage-adapter.js';

/** The tenant's identity settings (`crm.identity`). */
export interface IdentitySettings {
  /** ISO 3166 alpha-2 region of phone numbers written without a country code. */
  readonly defaultRegion?: string;
}

/** Caches the tenant's identity settings; invalidated like custom-field definitions. */
export class IdentityCache {
  private identity: IdentitySettings | undefined;

  constructor(private readonly revision: ConfigRevision) {
    revision.register(this);
  }

  invalidate(): void {
    this.identity = undefined;
  }

  async load(tx: StorageTx, tenantId: string): Promise<IdentitySettings> {
    await this.revision.ensureFresh(tx);
    if (this.identity) return this.identity;
    const [row] = await tx.getMany('setting', tenantId, ['identity']);
    // Frozen: the cached settings are shared by every operation and handed out by `crm.identity.get()`.
    this.identity = row ? deepFreeze((row as unknown as SettingRecord<IdentitySettings>).value) : {};
    return this.identity;
  }
}

/** One cache per crm instance (its configuration revision). */
const caches = new WeakMap<ConfigRevision, IdentityCache>();

/** The identity-settings cache of a crm, made on first use. */
export function identityCache(ctx: CrmContext): IdentityCache {
  let cache = caches.get(ctx.revision);
  if (!cache) caches.set(ctx.revision, (cache = new IdentityCache(ctx.revision)));
  return cache;
}

/** The phone parser of a crm: `createCrm({ phoneNumbers })`, else the built-in international one. */
export const phoneParserOf = (ctx: CrmContext) => ctx.phoneParser ?? internationalPhoneParser;

/**
 * How identities are read in this tenant, for one operation: the crm's phone parser and the tenant's
 * default region, unless `region` overrides it for this call.
 */
export async function identityOptions(op: Operation, region?: string): Promise<IdentityOptions> {
  const settings = await identityCache(op.ctx).load(op.tx, op.tenantId);
  const defaultRegion = region ?? settings.defaultRegion;
  const phoneParser = phoneParserOf(op.ctx);
  return defaultRegion ? { phoneParser, defaultRegion } : { phoneParser };
}
