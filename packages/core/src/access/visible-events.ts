import type { CrmEvent } from '../events/event-map.js';
import { encodeCursor } from '../query/cursor.js';
import { createMatcher } from '../query/match.js';
import type { Filter, SortSpec } from '../query/query-spec.js';
import type { RecordBase } from '../schema/record.js';
import type { Row } from '../storage/storage-adapter.js';
import type { AccessGuard, EventPageQuery } from '../crm/access-guard.js';
import { deepFreeze } from '../storage/deep-freeze.js';

/** Entities whose rows an event's subject or refs can point at, and whose visibility is per row. */
const RECORD_TYPES = new Set(['lead', 'contact', 'company', 'deal', 'task', 'activity']);
const CONFIG_TYPES: Readonly<Record<string, string>> = { pipeline: 'pipeline', customField: 'customField', assignmentStrategy: 'setting', setting: 'setting' };

/** Loads rows by id, `undefined` for missing ones (a transaction's `getMany`). */
export type RowLoader = (entity: string, ids: readonly string[]) => Promise<readonly (RecordBase | undefined)[]>;

/**
 * Judges a batch of events for a principal, keeping their order: each visible event projected, each
 * hidden one `undefined`. An event is visible when its subject is readable now; its `refs` keep only
 * records the principal may read. Rows are loaded in one `getMany` per entity; `known` (the rows an
 * operation wrote) saves those reads.
 */
export async function judgeEvents(
  guard: AccessGuard,
  events: readonly CrmEvent[],
  load: RowLoader,
  known?: ReadonlyMap<string, Row | null>,
): Promise<(CrmEvent | undefined)[]> {
  const rows = new Map<string, RecordBase | null>();
  const wanted = new Map<string, Set<string>>();
  const want = (key: string) => {
    if (rows.has(key)) return;
    const colon = key.indexOf(':');
    const type = key.slice(0, colon);
    if (!RECORD_TYPES.has(type)) return;
    const row = known?.get(key);
    if (row !== undefined) {
      rows.set(key, row as unknown as RecordBase | null);
      return;
    }
    if (!wanted.has(type)) wanted.set(type, new Set());
    wanted.get(type)!.add(key.slice(colon + 1));
  };
  for (const event of events) {
    want(`${event.subjectType}:${event.subjectId}`);
    for (const ref of event.refs) want(ref);
  }
  for (const [type, ids] of wanted) {
    const list = [...ids];
    const found = await load(type, list);
    list.forEach((id, i) => rows.set(`${type}:${id}`, found[i] ?? null));
  }
  const refVisible = (key: string): boolean => {
    const colon = key.indexOf(':');
    const type = key.slice(0, colon);
    if (CONFIG_TYPES[type]) return guard.granted(CONFIG_TYPES[type]!, 'read');
    if (!RECORD_TYPES.has(type)) return false;
    const row = rows.get(key);
    return row ? guard.canRead(type, row) : guard.reachesAll(type, 'read');
  };
  return events.map((event) => {
    const subject = rows.get(`${event.subjectType}:${event.subjectId}`);
    // Frozen like the events it projects: a view's handlers share it, as the crm's do.
    return guard.canSeeEvent(event, subject) ? deepFreeze(guard.projectEvent(event, refVisible)) : undefined;
  });
}

/** Rows examined per call before a short page is returned with a cursor (bounds the work of one call). */
const SCAN_LIMIT = 20_000;

/**
 * Reads a page of the event log for a principal. Event visibility follows the event's subject as it is
 * now (a deal's history moves with the deal when it is reassigned), which no stored field of an
 * immutable log row can express; so this is the one read that cannot be a single pushed-down filter.
 * It pushes what it can (the subject types the principal may read) and then keeps reading with the
 * cursor until the page is full: `limit` is honoured, and no count of hidden rows is exposed —
 * `nextCursor` is present when a further visible event exists (or, after `SCAN_LIMIT` rows examined
 * in one call, to continue the scan).
 */
export async function readEventPage(
  guard: AccessGuard,
  query: EventPageQuery,
  load: RowLoader,
  filter: Filter | undefined,
  sort: readonly SortSpec[],
  limit: number,
  after: string | undefined,
): Promise<{ items: CrmEvent[]; nextCursor?: string }> {
  const scope = guard.eventFilter();
  const where: Filter | undefined = scope ? (filter ? { op: 'and', filters: [scope, filter] } : scope) : filter;
  const batch = Math.min(1000, Math.max(limit + 1, 100));
  const matches = createMatcher(filter);
  const items: CrmEvent[] = [];
  let last: CrmEvent | undefined;
  let scanned = 0;
  let cursor = after;
  for (;;) {
    const page = await query({ filter: where, sort, limit: batch, ...(cursor ? { after: cursor } : {}) });
    const events = page.rows as unknown as CrmEvent[];
    const judged = await judgeEvents(guard, events, load);
    for (let i = 0; i < events.length; i++) {
      const visible = judged[i];
      // Matched as the view sees it: an event found by a ref the view may not see (a timeline's
      // `refs` lookup through a hidden link) is not listed.
      if (!visible || !matches(visible)) continue;
      if (items.length === limit) return { items, nextCursor: encodeCursor(last as unknown as Row, sort) };
      items.push(visible);
      last = events[i];
    }
    scanned += events.length;
    if (!page.nextCursor) return { items };
    cursor = page.nextCursor;
    if (scanned >= SCAN_LIMIT) return { items, nextCursor: encodeCursor(events[events.length - 1] as unknown as Row, sort) };
  }
}
