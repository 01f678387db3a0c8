import type { Clock } from '../domain/clock.js';
import type { Random } from '../domain/random.js';
import type { EventBus } from './event-bus.js';
import type { CustomFieldDefinition, CustomizableEntity } from '../schema/custom-field.js';
import type { StorageAdapter, StorageTx } from '../storage/storage-adapter.js';
import type { FeatureHooks } from './feature-hooks.js';
import type { Logger } from './logger.js';
import type { RecordBase } from '../schema/record.js';
import { DEFAULT_CALENDAR, type BusinessCalendar } from '../domain/calendar/business-calendar.js';
import type { IdentityOptions } from '../domain/duplicates.js';
import type { PhoneNumberParser } from '../domain/phone-numbers.js';

/** Who is acting: recorded on every event. */
export interface Actor {
  readonly userId: string;
}

/** Everything a service (and a feature) needs, bound to one tenant. */
export interface CrmContext {
  readonly storage: StorageAdapter;
  readonly tenantId: string;
  readonly actor: Actor | undefined;
  readonly clock: Clock;
  readonly random: Random;
  readonly newId: (entity: string, nowMs: number) => string;
  readonly bus: EventBus;
  readonly logger: Logger;
  readonly defaultCurrency: string;
  readonly customFields: CustomFieldCache;
  readonly settings: SettingsCache;
  /** Extension points filled by the crm's features (see `CrmFeature`). */
  readonly hooks: FeatureHooks;
  /** Reads phone numbers into E.164 (built-in: international spellings only). */
  readonly phoneParser: PhoneNumberParser;
  /** Rejects calls after `crm.close()`. */
  assertOpen(): void;
}

/** Id of the setting row whose version changes with every configuration change (definitions, calendar, task types). */
export const CONFIG_REVISION = 'configRevision';

/**
 * Tells caches whether the tenant's configuration changed since they loaded it — also when another
 * process or connection changed it, which `onChange` does not always report. It reads one small row,
 * once per transaction.
 */
export class ConfigRevision {
  private seen: number | undefined;
  private readonly checked = new WeakSet<StorageTx>();
  private readonly caches: { invalidate(): void }[] = [];

  constructor(private readonly tenantId: string) {}

  register(cache: { invalidate(): void }): void {
    this.caches.push(cache);
  }

  /** Drops every registered cache when the stored revision differs from the one they were loaded at. */
  async ensureFresh(tx: StorageTx): Promise<void> {
    if (this.checked.has(tx)) return;
    this.checked.add(tx);
    const [row] = await tx.getMany('setting', this.tenantId, [CONFIG_REVISION]);
    const version = row?.version ?? 0;
    if (version !== this.seen) {
      for (const cache of this.caches) cache.invalidate();
      this.seen = version;
    }
  }
}

/**
 * Caches custom-field definitions per entity. Invalidated by any committed change to definitions:
 * in-process through `onChange`, across processes through the configuration revision.
 */
export class CustomFieldCache {
  private readonly cache = new Map<string, readonly CustomFieldDefinition[]>();

  constructor(
    private readonly tenantId: string,
    private readonly revision: ConfigRevision,
  ) {
    revision.register(this);
  }

  invalidate(): void {
    this.cache.clear();
  }

  async load(tx: StorageTx, entity: CustomizableEntity | string): Promise<readonly CustomFieldDefinition[]> {
    await this.revision.ensureFresh(tx);
    const cached = this.cache.get(entity);
    if (cached) return cached;
    const { rows } = await tx.query('customField', this.tenantId, {
      filter: { op: 'eq', field: 'entity', value: entity },
      sort: [{ field: 'key' }],
    });
    const definitions = rows as unknown as CustomFieldDefinition[];
    this.cache.set(entity, definitions);
    return definitions;
  }
}

/** A stored tenant setting. */
export interface SettingRecord<T> extends RecordBase {
  readonly key: string;
  readonly value: T;
}

/** The tenant's identity settings (`crm.identity`). */
export interface IdentitySettings {
  /** ISO 3166 alpha-2 region of phone numbers written without a country code. */
  readonly defaultRegion?: string;
}

/** Caches tenant settings (the business calendar, identity settings); invalidated like custom fields. */
export class SettingsCache {
  private calendar: BusinessCalendar | undefined;
  private identity: IdentitySettings | undefined;

  constructor(private readonly revision: ConfigRevision) {
    revision.register(this);
  }

  invalidate(): void {
    this.calendar = undefined;
    this.identity = undefined;
  }

  async loadIdentity(tx: StorageTx, tenantId: string): Promise<IdentitySettings> {
    await this.revision.ensureFresh(tx);
    if (this.identity) return this.identity;
    const [row] = await tx.getMany('setting', tenantId, ['identity']);
    this.identity = row ? (row as unknown as SettingRecord<IdentitySettings>).value : {};
    return this.identity;
  }

  async loadCalendar(tx: StorageTx, tenantId: string): Promise<BusinessCalendar> {
    await this.revision.ensureFresh(tx);
    if (this.calendar) return this.calendar;
    const [row] = await tx.getMany('setting', tenantId, ['calendar']);
    this.calendar = row ? (row as unknown as SettingRecord<BusinessCalendar>).value : DEFAULT_CALENDAR;
    return this.calendar;
  }
}

/**
 * How identities are read in this tenant, for one operation: the crm's phone parser and the tenant's
 * default region, unless `region` overrides it for this call.
 */
export async function identityOptions(ctx: CrmContext, tx: StorageTx, region?: string): Promise<IdentityOptions> {
  const settings = await ctx.settings.loadIdentity(tx, ctx.tenantId);
  const defaultRegion = region ?? settings.defaultRegion;
  return defaultRegion ? { phoneParser: ctx.phoneParser, defaultRegion } : { phoneParser: ctx.phoneParser };
}
