import type { Row, StorageTx, WriteOp } from '@crmkit/core/storage';
import { changeKey } from '../protocol/synced-entities.js';

/** Most tags in one pack: a pull page of 1 000 rows fills one, so an initial sync writes one tag row per page. */
export const PACK_SIZE = 1000;

/**
 * A `syncTag` row (design sync.md §20): the exit tags of up to `PACK_SIZE` received records of one
 * reset epoch; each entry is the 16-character tag followed by `entity:recordId`.
 */
export interface TagPack extends Row {
  readonly entity: '';
  readonly recordId: '';
  readonly epoch: number;
  readonly entries: readonly string[];
}

/** A record the device holds under an exit tag. */
export interface HeldRecord {
  readonly entity: string;
  readonly id: string;
}

/** A pack in memory: `id` unset until its first write; `entries` maps tag → `entity:recordId`. */
interface Pack {
  id?: string;
  version: number;
  readonly epoch: number;
  readonly entries: Map<string, string>;
  dirty: boolean;
}

const held = (key: string): HeldRecord => {
  const at = key.indexOf(':');
  return { entity: key.slice(0, at), id: key.slice(at + 1) };
};

/**
 * The device's exit tags, read once per pull loop (every pack of `syncTag`) and kept in memory while
 * the loop's pages apply: a page reads no tag row, and writes only the packs it changed. Rows of the
 * per-record form (one row per tag, id = the tag: WP3/WP4 devices) are moved into packs by the first
 * page that loads them.
 */
export class TagIndex {
  private readonly byTag = new Map<string, Pack[]>();
  private readonly packs: Pack[] = [];
  private readonly legacy: string[] = [];

  /** Every tag of the device, from `tx`. */
  static async load(tx: StorageTx, tenantId: string): Promise<TagIndex> {
    const index = new TagIndex();
    const old: (Row & { entity: string; recordId: string; epoch: number })[] = [];
    for (const stored of (await tx.query('syncTag', tenantId, {})).rows) {
      if (!Array.isArray(stored.entries)) {
        old.push(stored as (typeof old)[number]);
        continue;
      }
      const row = stored as TagPack;
      const pack: Pack = { id: row.id, version: row.version, epoch: row.epoch, entries: new Map(row.entries.map((e) => [e.slice(0, 16), e.slice(16)])), dirty: false };
      index.packs.push(pack);
      for (const tag of pack.entries.keys()) index.link(tag, pack);
    }
    for (const row of old) {
      index.legacy.push(row.id);
      index.put(row.id, changeKey(row.entity, row.recordId), row.epoch);
    }
    return index;
  }

  private link(tag: string, pack: Pack): void {
    const list = this.byTag.get(tag);
    if (list) list.push(pack);
    else this.byTag.set(tag, [pack]);
  }

  /** The record held under `tag`, if any. */
  find(tag: string): HeldRecord | undefined {
    const pack = this.byTag.get(tag)?.[0];
    return pack && held(pack.entries.get(tag)!);
  }

  /** Records `tag` → `key` (`entity:recordId`) at `epoch`; nothing to write when it is already there. */
  put(tag: string, key: string, epoch: number): void {
    const list = this.byTag.get(tag);
    if (list?.some((p) => p.epoch === epoch)) return;
    let pack = this.packs.filter((p) => p.epoch === epoch && p.entries.size < PACK_SIZE).pop();
    if (!pack) this.packs.push((pack = { version: 0, epoch, entries: new Map(), dirty: true }));
    pack.entries.set(tag, key);
    pack.dirty = true;
    this.link(tag, pack);
  }

  /** Forgets `tag`; returns the record it held. */
  drop(tag: string): HeldRecord | undefined {
    const record = this.find(tag);
    for (const pack of this.byTag.get(tag) ?? []) {
      pack.entries.delete(tag);
      pack.dirty = true;
    }
    this.byTag.delete(tag);
    return record;
  }

  /** The end of a reset: forgets every tag of an older epoch; returns the records that got no tag of `epoch` (they left the scope). */
  sweep(epoch: number): HeldRecord[] {
    const gone: HeldRecord[] = [];
    for (const pack of this.packs.filter((p) => p.epoch < epoch)) {
      for (const [tag, key] of pack.entries) {
        const rest = this.byTag.get(tag)!.filter((p) => p !== pack);
        if (rest.length) this.byTag.set(tag, rest);
        else {
          this.byTag.delete(tag);
          gone.push(held(key));
        }
      }
      pack.entries.clear();
      pack.dirty = true;
    }
    return gone;
  }

  /** Writes the changed packs (an emptied one is deleted) and deletes the per-record rows it moved into packs. */
  async flush(tx: StorageTx, tenantId: string): Promise<void> {
    const ops: WriteOp[] = this.legacy.splice(0).map((id) => ({ type: 'delete', id }));
    for (const pack of this.packs.filter((p) => p.dirty)) {
      pack.dirty = false;
      if (!pack.entries.size) {
        if (pack.id) ops.push({ type: 'delete', id: pack.id });
        continue;
      }
      pack.id ??= `pack:${await tx.nextSequence('syncTag', tenantId, 1)}`;
      const row: TagPack = { id: pack.id, tenantId, version: ++pack.version, entity: '', recordId: '', epoch: pack.epoch, entries: [...pack.entries].map(([tag, key]) => tag + key) };
      ops.push(pack.version > 1 ? { type: 'update', row, expectedVersion: pack.version - 1 } : { type: 'insert', row });
    }
    this.packs.splice(0, this.packs.length, ...this.packs.filter((p) => p.entries.size));
    if (ops.length) await tx.write('syncTag', tenantId, ops);
  }
}
