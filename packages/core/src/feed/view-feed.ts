import type { CrmEvent } from '../events/event-map.js';
import type { AccessGuard, AccessHooks } from '../crm/access-guard.js';
import type { Operation } from '../crm/operation.js';
import type { RecordBase } from '../schema/record.js';
import { readFeedPage, type FeedPage, type FeedSelection } from '../consumers/feed-read.js';

/**
 * Prefix of the consumers a view starts: `view:<encoded user id>:<name>`. A view's consumer is its
 * principal's own (checkpoints, backlog and status per name and user), so two users running
 * `mailer` never share a checkpoint, and a consumer's events were judged for the user it hands them to.
 */
export const VIEW_CONSUMER_PREFIX = 'view:';

/** Whether a stored consumer name belongs to some view (`view:…`, compared without case). */
export function isViewConsumerName(name: string): boolean {
  return name.toLowerCase().startsWith(VIEW_CONSUMER_PREFIX);
}

/**
 * A user id as it appears in a view consumer's name: letters, digits, `.` and `-` as they are, any
 * other character as `_<hex code point>_` (injective, so `a:b` + `c` never meets `a` + `b:c`).
 */
function encodeUserId(userId: string): string {
  let out = '';
  for (const char of userId) out += /[A-Za-z0-9.-]/.test(char) ? char : `_${char.codePointAt(0)!.toString(16)}_`;
  return out;
}

/** The stored name of a view's consumer `name` for `userId`. */
export function viewConsumerName(userId: string, name: string): string {
  return `${VIEW_CONSUMER_PREFIX}${encodeUserId(userId)}:${name}`;
}

/** Rows examined per feed read of a view before a short page is returned (bounds the work of one call). */
const SCAN_LIMIT = 20_000;

/**
 * Reads the feed as a view's principal may see it: events whose subject the principal may read now,
 * field-projected. Event visibility follows the subject as it is now (a reassigned deal's history
 * moves with it), which no stored column of the immutable log expresses, so this pushes down what it
 * can (the subject types the principal reads anything of) and keeps reading pages until `limit`
 * visible events are collected — `limit` is honoured, and a hidden event shows only as a gap in
 * positions. After `SCAN_LIMIT` rows examined in one call, a short page with `hasMore` is returned.
 */
export async function readVisibleFeed(op: Operation, guard: AccessGuard, access: AccessHooks, after: number, limit: number, selection: FeedSelection): Promise<FeedPage> {
  const scope = guard.eventFilter();
  const select: FeedSelection = scope ? { ...selection, filter: scope } : selection;
  const load = (type: string, ids: readonly string[]) => op.getMany<RecordBase>(type, ids);
  const batch = Math.min(1000, Math.max(limit, 100));
  const events: CrmEvent[] = [];
  let position = after;
  let scanned = 0;
  for (;;) {
    const page = await readFeedPage(op, position, batch, select);
    const judged = await access.judgeEvents(guard, page.events, load);
    for (let i = 0; i < judged.length; i++) {
      const visible = judged[i];
      if (!visible) continue;
      events.push(visible);
      if (events.length === limit) {
        const at = page.events[i]!.position!;
        return { events, position: at, head: page.head, hasMore: at < page.head, prunedThrough: page.prunedThrough };
      }
    }
    position = page.position;
    scanned += page.events.length;
    if (!page.hasMore || scanned >= SCAN_LIMIT) return { events, position, head: page.head, hasMore: page.hasMore, prunedThrough: page.prunedThrough };
  }
}
