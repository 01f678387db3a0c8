import type { CrmContext } from '../crm/context.js';
import { settingCache, type SettingCache } from '../crm/setting-cache.js';
import type { Operation } from '../crm/operation.js';
import type { IdentityOptions } from '../domain/duplicates.js';
import { internationalPhoneParser } from '../domain/phone-numbers.js';

/** The tenant's identity settings (`crm.identity`). */
export interface IdentitySettings {
  /** ISO 3166 alpha-2 region of phone numbers written without a country code. */
  readonly defaultRegion?: string;
}

const NO_IDENTITY_SETTINGS: IdentitySettings = Object.freeze({});

/** The identity-settings cache of a crm, made on first use. */
export function identityCache(ctx: CrmContext): SettingCache<IdentitySettings> {
  return settingCache<IdentitySettings>(ctx, 'identity', NO_IDENTITY_SETTINGS);
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
