/** The entities whose rows devices hold: every change of one gets a `syncChange` row (design sync.md §7). */
export const SYNCED_ENTITIES = ['lead', 'contact', 'company', 'deal', 'task', 'activity', 'stageVisit', 'pipeline', 'customField', 'setting'] as const;

/** An entity devices hold. */
export type SyncedEntity = (typeof SYNCED_ENTITIES)[number];

/**
 * The `setting` rows devices hold (by id): configuration the device's services read. Access settings
 * (`accessPolicy`, `accessDirectory`, `accessShared`) and sync's own state never leave the server.
 */
export const SYNCED_SETTINGS: readonly string[] = ['calendar', 'taskTypes', 'identity', 'configRevision'];

/**
 * Configuration the device's services read on every write (stages and their rules, custom field
 * definitions, the calendar, task types, identity rules): not records, so every device of the tenant
 * receives it whatever the user's read grants (design sync.md §7, review13 R9) — the server's services
 * read it unguarded too, and a device without it refuses what the server accepts.
 */
export const CONFIG_ENTITIES: ReadonlySet<string> = new Set(['pipeline', 'customField', 'setting']);

const ENTITIES: ReadonlySet<string> = new Set(SYNCED_ENTITIES);

/** Whether the record `entity`/`id` is synced to devices. */
export function isSynced(entity: string, id: string): entity is SyncedEntity {
  return ENTITIES.has(entity) && (entity !== 'setting' || SYNCED_SETTINGS.includes(id));
}

/** The id of a record's `syncChange` / `syncShadow` row: `entity:recordId`. */
export function changeKey(entity: string, recordId: string): string {
  return `${entity}:${recordId}`;
}

/** Splits a `changeKey` (record ids never contain `:`). */
export function splitChangeKey(key: string): { entity: string; recordId: string } {
  const at = key.indexOf(':');
  return { entity: key.slice(0, at), recordId: key.slice(at + 1) };
}
