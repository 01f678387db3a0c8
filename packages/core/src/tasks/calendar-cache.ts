import { DEFAULT_CALENDAR, type BusinessCalendar } from '../domain/calendar/business-calendar.js';
import type { ConfigRevision, CrmContext, SettingRecord } from '../crm/context.js';
import type { Operation } from '../crm/operation.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import type { StorageTx } from '../storage/storage-adapter.js';

/** Caches the tenant's business calendar; invalidated like custom-field definitions. */
export class CalendarCache {
  private calendar: BusinessCalendar | undefined;

  constructor(private readonly revision: ConfigRevision) {
    revision.register(this);
  }

  invalidate(): void {
    this.calendar = undefined;
  }

  async load(tx: StorageTx, tenantId: string): Promise<BusinessCalendar> {
    await this.revision.ensureFresh(tx);
    if (this.calendar) return this.calendar;
    const [row] = await tx.getMany('setting', tenantId, ['calendar']);
    // Frozen: the cached calendar is shared by every operation and handed out by `crm.calendar.get()`.
    this.calendar = row ? deepFreeze((row as unknown as SettingRecord<BusinessCalendar>).value) : DEFAULT_CALENDAR;
    return this.calendar;
  }
}

/** One cache per crm instance (its configuration revision), shared by the tasks and scheduler features. */
const caches = new WeakMap<ConfigRevision, CalendarCache>();

/** The calendar cache of a crm, made on first use. */
export function calendarCache(ctx: CrmContext): CalendarCache {
  let cache = caches.get(ctx.revision);
  if (!cache) caches.set(ctx.revision, (cache = new CalendarCache(ctx.revision)));
  return cache;
}

/** The business calendar in effect for the operation's tenant. */
export function loadCalendar(op: Operation): Promise<BusinessCalendar> {
  return calendarCache(op.ctx).load(op.tx, op.tenantId);
}
