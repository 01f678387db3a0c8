import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';
import { exitTag } from '../protocol/exit-tag.js';
import type { PullResponse } from '../protocol/messages.js';
import { changeKey } from '../protocol/synced-entities.js';
import { evictStaleHolders } from './evict-holders.js';
import { shownVersion, type ShadowRow } from './replica-storage.js';
import type { SyncState } from './sync-state.js';
import type { TagIndex } from './tag-packs.js';

/** A page with the tags of its rows computed (before the transaction: `crypto.subtle` is a foreign await). */
export interface PreparedPage {
  readonly page: PullResponse;
  readonly tags: readonly string[];
}

/** Hashes the exit tags of a page's rows. */
export async function preparePage(tenantId: string, page: PullResponse): Promise<PreparedPage> {
  return { page, tags: await Promise.all(page.rows.map(({ entity, row }) => exitTag(tenantId, entity, row.id as string))) };
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
    if (shadow) writes.add('syncShadow', { type: 'update', row: { ...shadow, version: shadow.version + 1, row: item.row, shown: shownVersion(shadow) }, expectedVersion: shadow.version });
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
 * Applies one pull page in the caller's sync-owned transaction (design sync.md §8, §21): storage-level
 * writes, no services, rules or events — observers see the adapter's one change batch. Pulled rows
 * replace the base whole (idempotent: a page applied twice leaves the same state); `gone` tags delete
 * the records they resolve to; the last page of a reset sweeps records received before the reset; the
 * new checkpoint is written with the data.
 *
 * @param tags The device's exit tags as of this transaction (`TagIndex.load`), updated and written here.
 * @returns The state to store (new checkpoint, epoch), written by the caller in the same transaction.
 */
export async function applyPage(tx: StorageTx, tenantId: string, state: SyncState, prepared: PreparedPage, tags: TagIndex): Promise<{ checkpoint: string; epoch: number }> {
  const { page } = prepared;
  const epoch = page.reset === 'begin' ? state.epoch + 1 : state.epoch;
  const writes = new Writes();
  const base = page.rows.map(({ entity, row }, i) => ({ entity, id: row.id as string, row: { ...row, tenantId } as Row, tagged: tags.find(prepared.tags[i]!) !== undefined }));
  // Records that left: `gone` tags (unless the page brings the record back), and at the end of a reset every tag of an older epoch.
  const putTags = new Set(prepared.tags);
  const leaving = page.gone.filter((t) => !putTags.has(t)).map((t) => tags.drop(t)).filter((r) => r !== undefined);
  prepared.tags.forEach((tag, i) => tags.put(tag, changeKey(base[i]!.entity, base[i]!.id), epoch));
  if (page.resetDone) leaving.push(...tags.sweep(epoch));
  const items = [...base, ...leaving.map((r) => ({ entity: r.entity, id: r.id, row: null, tagged: true }))];
  await evictStaleHolders(tx, tenantId, items, (entity, op) => writes.add(entity, op));
  await setBase(tx, tenantId, writes, items, state.lastSyncAt === undefined);
  await writes.flush(tx, tenantId);
  await tags.flush(tx, tenantId);
  return { checkpoint: page.checkpoint, epoch };
}
