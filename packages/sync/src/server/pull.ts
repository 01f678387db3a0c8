import type { CrmContext, Principal } from '@crmkit/core';
import { hiddenFields, type CompiledAccess } from '@crmkit/core/access';
import type { Row, StorageTx } from '@crmkit/core/storage';
import { decodeCheckpoint, encodeCheckpoint, type Checkpoint } from '../protocol/checkpoint.js';
import { invalid } from '../protocol/errors.js';
import { exitTag } from '../protocol/exit-tag.js';
import { LIMITS, pullRequestSchema, type PullResponse, type Rights } from '../protocol/messages.js';
import { parseWith } from '../protocol/parse.js';
import { CONFIG_ENTITIES, SYNCED_ENTITIES, type SyncedEntity } from '../protocol/synced-entities.js';
import { tooBig } from './http.js';
import { fitBytes } from './page-bytes.js';
import { scopeFingerprint } from './scope-fingerprint.js';
import { assertOwner, keptRejections, readClient } from './sync-client-row.js';
import { HORIZON, readHead, type SyncChangeRow } from './sync-changes.js';

/** Changes whose records are read at once (then on to the end of a server transaction) while the page has bytes left. */
const CHUNK = 100;
const encoder = new TextEncoder();

/** The `syncChange` rows after `after` in position order: `limit` of them, then on to the end of the last one's transaction. */
async function changesAfter(tx: StorageTx, tenantId: string, after: number, limit: number): Promise<{ changes: SyncChangeRow[]; hasMore: boolean }> {
  const read = (from: number, n: number) => tx.query('syncChange', tenantId, { filter: { op: 'gt', field: 'position', value: from }, sort: [{ field: 'position' }], limit: n }).then((page) => page.rows as SyncChangeRow[]);
  const changes = await read(after, limit + 1);
  if (changes.length <= limit) return { changes, hasMore: false };
  const next = changes.pop()!;
  const { txPosition } = changes.at(-1)!;
  // A page never splits one server transaction: a unique key moving between two records arrives whole.
  // Its positions were contiguous when written, so the rows still at them follow the page's last row in
  // position order (rows it wrote that were rewritten since moved beyond, under another transaction).
  if (next.txPosition !== txPosition) return { changes, hasMore: true };
  for (;;) {
    const rest = await read(changes.at(-1)!.position, 1000);
    const end = rest.findIndex((c) => c.txPosition !== txPosition);
    changes.push(...(end < 0 ? rest : rest.slice(0, end)));
    if (end >= 0) return { changes, hasMore: true };
    if (rest.length < 1000) return { changes, hasMore: false };
  }
}

/**
 * One page of changes for a device (design sync.md §7), read in one transaction (a consistent
 * snapshot): rows readable by `principal` now (configuration — `CONFIG_ENTITIES` — whatever the read
 * grants), field-projected; exit tags of records deleted or
 * unreadable now; a reset (from position 0, then a sweep on the device) for a new device, a pruned
 * checkpoint or a changed scope fingerprint.
 *
 * @param maxRows The server's page size (`limits.pageRows`): a smaller `limit` is clamped to it.
 * @param maxBytes The server's page bytes (`limits.pageBytes`, UTF-8 bytes of the rows' JSON; `fitBytes`).
 * @throws CrmError `VALIDATION`: bad body (400), `limit` over the protocol's 2 000 (or a larger `maxRows`) (413), checkpoint
 *   `invalid_checkpoint` / `foreign_checkpoint` / `checkpoint_ahead` (400); `FORBIDDEN` (`client_owner`, 403)
 *   when the client id belongs to another user (its verdicts are that user's).
 */
export async function pull(ctx: CrmContext, principal: Principal, body: unknown, maxRows: number, maxBytes: number): Promise<PullResponse> {
  const asked = (body as { limit?: unknown } | null)?.limit;
  const most = Math.max(maxRows, LIMITS.pageRows);
  if (typeof asked === 'number' && asked > most) throw tooBig('sync.pull', ['limit'], most, 'rows');
  const request = parseWith(pullRequestSchema, body, 'sync.pull');
  const tenant = ctx.tenantId;
  // A server that lowered its page size answers smaller pages (`hasMore` brings the rest), not 413.
  const limit = Math.min(request.limit ?? LIMITS.defaultPageRows, maxRows);
  const sent = request.checkpoint === null ? undefined : decodeCheckpoint(request.checkpoint, tenant);
  return ctx.storage.transaction('r', async (tx) => {
    const guarded = Promise.resolve(ctx.hooks.access?.guard(tx, principal));
    const [head, fingerprint, client, horizonRow, guard] = await Promise.all([
      readHead(tx, tenant),
      guarded.then((g) => scopeFingerprint(ctx, tx, principal, g)),
      readClient(tx, tenant, request.clientId),
      tx.getMany('setting', tenant, [HORIZON]).then(([row]) => row as (Row & { value: number }) | undefined),
      guarded,
    ]);
    assertOwner(client, principal, 'sync.pull');
    if (sent && sent.p > head) throw invalid('sync.pull', [{ path: ['checkpoint'], code: 'checkpoint_ahead', message: `is ahead of this server's changes (${head}): start over with a reset` }]);
    const from: Checkpoint = !sent || sent.p < (horizonRow?.value ?? 0) || sent.s !== fingerprint ? { v: 1, t: tenant, p: 0, s: fingerprint, r: 1, h: head } : sent;
    const resetting = from.r === 1;
    const { changes, hasMore: more } = await changesAfter(tx, tenant, from.p, limit);
    let hasMore = more;
    // Records are read a chunk of whole transactions at a time, until the page's bytes are spent (`pageBytes`).
    const out: ({ entity: SyncedEntity; row: Row } | undefined)[] = [];
    const sizes: number[] = [];
    for (let bytes = 0, at = 0; at < changes.length && bytes <= maxBytes; ) {
      let end = Math.min(at + CHUNK, changes.length);
      while (end < changes.length && changes[end]!.txPosition === changes[end - 1]!.txPosition) end++;
      const chunk = changes.slice(at, end);
      const byEntity = new Map<string, SyncChangeRow[]>();
      for (const change of chunk) byEntity.set(change.entity, [...(byEntity.get(change.entity) ?? []), change]);
      const stored = new Map<string, Row | undefined>();
      for (const [entity, list] of byEntity) {
        const rows = await tx.getMany(entity, tenant, list.map((c) => c.recordId));
        list.forEach((c, i) => stored.set(c.id, rows[i]));
      }
      for (const change of chunk) {
        const row = stored.get(change.id);
        const sent = row && !change.deleted && (!guard || CONFIG_ENTITIES.has(change.entity) || guard.canRead(change.entity, row as never)) ? { entity: change.entity as SyncedEntity, row: guard ? guard.project(change.entity, row) : row } : undefined;
        const size = sent ? encoder.encode(JSON.stringify(sent)).length : 0;
        out.push(sent);
        sizes.push(size);
        bytes += size;
      }
      at = end;
    }
    // Bounded by bytes too: a page of big rows (long notes, custom fields) ends early, `hasMore` brings the rest.
    const kept = fitBytes(changes.slice(0, out.length), sizes, maxBytes);
    if (kept < changes.length) {
      changes.length = kept;
      hasMore = true;
    }
    const rows: { entity: SyncedEntity; row: Row }[] = [];
    const goneOf: SyncChangeRow[] = [];
    for (const [i, change] of changes.entries()) {
      const row = out[i];
      if (row) rows.push(row);
      // A reset's sweep removes what was there before it began; later changes carry their tags.
      else if (!resetting || change.position > (from.h ?? 0)) goneOf.push(change);
    }
    const gone = await Promise.all(goneOf.map((c) => exitTag(tenant, c.entity, c.recordId)));
    // Field rules that hide nothing (`deny: []`) project nothing: only entities with a hidden field are listed.
    const ruled = guard ? SYNCED_ENTITIES.filter((e) => !CONFIG_ENTITIES.has(e) && guard.hasFieldRules(e)) : [];
    const custom = ruled.length ? ((await tx.query('customField', tenant, {})).rows as unknown as { entity: string; key: string }[]) : [];
    const hidden = Object.fromEntries(ruled.map((e) => [e, hiddenFields(guard!, e, custom.filter((d) => d.entity === e).map((d) => d.key))]).filter(([, f]) => f!.length));
    const position = changes.at(-1)?.position ?? (resetting ? head : from.p);
    const next: Checkpoint = resetting && hasMore ? { ...from, p: position } : { v: 1, t: tenant, p: position, s: fingerprint };
    return {
      protocol: 1,
      checkpoint: encodeCheckpoint(next),
      rows,
      gone,
      ...(Object.keys(hidden).length ? { hidden } : {}),
      ...(guard ? { rights: rightsOf(guard as unknown as CompiledAccess) } : {}),
      ...(resetting ? { reset: from === sent ? ('continue' as const) : ('begin' as const) } : {}),
      ...(resetting && !hasMore ? { resetDone: true as const } : {}),
      hasMore,
      head,
      client: { lastSeq: client?.lastSeq ?? 0, rejected: keptRejections(client?.rejected ?? [], request.ackRejectedThrough) },
      serverTime: ctx.clock.now(),
    };
  });
}

/** The user's rights a device rebuilds core's guard from (`PullResponse.rights`, fix13j). */
function rightsOf(guard: CompiledAccess): Rights {
  return { roles: Object.fromEntries(guard.roleDefs), teamIds: guard.teamIds, team: [...guard.owners('team')], subtree: [...guard.owners('subtree')], departed: guard.departed };
}
