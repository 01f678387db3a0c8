import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';
import { exitTag } from '../protocol/exit-tag.js';
import type { PullResponse } from '../protocol/messages.js';
import { changeKey } from '../protocol/synced-entities.js';
import { evictStaleHolders } from './evict-holders.js';
import type { ShadowRow } from './replica-storage.js';
import type { SyncState } from './sync-state.js';

/** A received record's exit tag (id = the tag): a `gone` tag or a reset's sweep resolves it to the record. */
export interface TagRow extends Row {
  readonly entity: string;
  readonly recordId: string;
  readonly epoch: number;
}

/** A page with the tags of its rows computed (before the transaction: `crypto.subtle` is a foreign await). */
export interface PreparedPage {
  readonly page: PullResponse;
  readonly tags: readonly string[];
}

/** Hashes the exit tags of a page's rows. */
export async function preparePage(tenantId: string, page: PullResponse): Promise<PreparedPage> {
  return { page, tags: await Promise.all(page.rows.map(({ entity, row }) => exitTag(tenantId, entity, row.id as string))) };
}

/** The stored tag rows of `tags` (`seen`: only those can exist). */
async function readTags(tx: StorageTx, tenantId: string, tags: readonly string[], seen?: Set<string>): Promise<(TagRow | undefined)[]> {
  const known = seen ? tags.filter((t) => seen.has(t)) : tags;
  const rows = new Map(((known.length ? await tx.getMany('syncTag', tenantId, known) : []) as (TagRow | undefined)[]).map((r) => [r?.id, r]));
  return tags.map((t) => rows.get(t));
}

/** Writes grouped per entity: every delete first, then inserts and updates (a unique key moving between records never collides). */
class Writes {
  private readonly deletes = new Map<string, WriteOp[]>();
  private readonly puts = new Map<string, WriteOp[]>();
  add(entity: string, op: WriteOp): void {
    const map = op.type === 'delete' ? this.deletes : this.puts;
    const ops = map.get(entity);
    if (ops) ops.push(op);
    else map.set(entity, [op]);
  }
  async flush(tx: StorageTx, tenantId: string): Promise<void> {
    for (const map of [this.deletes, this.puts]) for (const [entity, ops] of map) await tx.write(entity, tenantId, ops);
  }
}

type BaseItem = { readonly entity: string; readonly id: string; readonly row: Row | null; readonly tagged: boolean };

/**
 * Replaces the base row of `entity`/`id` with `row` (`null`: the record is gone): the shadow when a
 * pending command changed the record (its optimistic live row stays until the rebase), else the live row.
 * A record without a shadow is live exactly when it has a tag; before the first complete pull the live
 * rows of untagged records are not read (the initial sync inserts only).
 */
async function setBase(tx: StorageTx, tenantId: string, writes: Writes, items: readonly BaseItem[], initial: boolean): Promise<void> {
  // Most pages meet no shadow (no pending command): one probe instead of a miss per record.
  const anyShadow = (await tx.query('syncShadow', tenantId, { limit: 1 })).rows.length > 0;
  const shadows = (anyShadow ? await tx.getMany('syncShadow', tenantId, items.map((i) => changeKey(i.entity, i.id))) : []) as (ShadowRow | undefined)[];
  const byEntity = new Map<string, BaseItem[]>();
  items.forEach((item, i) => {
    const shadow = shadows[i];
    if (shadow) writes.add('syncShadow', { type: 'update', row: { ...shadow, version: shadow.version + 1, row: item.row }, expectedVersion: shadow.version });
    else if (!initial || item.tagged) {
      const list = byEntity.get(item.entity);
      if (list) list.push(item);
      else byEntity.set(item.entity, [item]);
    }
    else if (item.row) writes.add(item.entity, { type: 'insert', row: item.row });
  });
  for (const [entity, list] of byEntity) {
    const live = await tx.getMany(entity, tenantId, list.map((i) => i.id));
    list.forEach((item, i) => {
      if (live[i]) writes.add(entity, { type: 'delete', id: item.id });
      if (item.row) writes.add(entity, { type: 'insert', row: item.row });
    });
  }
}

/**
 * Applies one pull page in the caller's sync-owned transaction (design sync.md §8): storage-level
 * writes, no services, rules or events — observers see the adapter's one change batch. Pulled rows
 * replace the base whole (idempotent: a page applied twice leaves the same state); `gone` tags delete
 * the records they resolve to; the last page of a reset sweeps records received before the reset; the
 * new checkpoint is written with the data.
 *
 * @param seen The tags of a device that had none when this pull began, as this pull stored them: only
 *   those are read (a new device's pages insert without a read per record). Updated here.
 * @returns The state to store (new checkpoint, epoch), written by the caller in the same transaction.
 */
export async function applyPage(tx: StorageTx, tenantId: string, state: SyncState, prepared: PreparedPage, seen?: Set<string>): Promise<Partial<SyncState>> {
  const { page, tags } = prepared;
  const epoch = page.reset === 'begin' ? state.epoch + 1 : state.epoch;
  const writes = new Writes();
  const stored = await readTags(tx, tenantId, tags, seen);
  if (seen) for (const tag of tags) seen.add(tag);
  const base = page.rows.map(({ entity, row }, i) => ({ entity, id: row.id as string, row: { ...row, tenantId } as Row, tagged: stored[i] !== undefined }));
  // Records that left: `gone` tags, and at the end of a reset every tag of an older epoch.
  const goneTags = (await tx.getMany('syncTag', tenantId, page.gone)).filter((t): t is TagRow => t !== undefined);
  if (page.resetDone) goneTags.push(...((await tx.query('syncTag', tenantId, { filter: { op: 'lt', field: 'epoch', value: epoch } })).rows as TagRow[]));
  const putTags = new Set(tags);
  const leaving = goneTags.filter((t) => !putTags.has(t.id));
  const items = [...base, ...leaving.map((t) => ({ entity: t.entity, id: t.recordId, row: null, tagged: true }))];
  await evictStaleHolders(tx, tenantId, items, (entity, op) => writes.add(entity, op));
  await setBase(tx, tenantId, writes, items, state.lastSyncAt === undefined);
  for (const tag of new Map(leaving.map((t) => [t.id, t])).values()) writes.add('syncTag', { type: 'delete', id: tag.id });
  tags.forEach((id, i) => {
    const before = stored[i];
    const row = { id, tenantId, version: (before?.version ?? 0) + 1, entity: base[i]!.entity, recordId: base[i]!.id, epoch } as TagRow;
    writes.add('syncTag', before ? { type: 'update', row, expectedVersion: before.version } : { type: 'insert', row });
  });
  await writes.flush(tx, tenantId);
  return { checkpoint: page.checkpoint, epoch };
}
