import type { AggregateRow, AggregateSpec } from '../../query/query-spec.js';
import { addToViewGroup, emptyViewGroup, planViewRead, viewGroupId, viewGroupKey, viewMoves, type RowMove, type ViewGroup } from '../aggregate-views.js';
import type { Row } from '../storage-adapter.js';
import type { StoreLayout } from './index-layout.js';
import type { KeyRange } from './index-planner.js';
import { encodeValue, type Key } from './key-encoding.js';

/** A group of a materialized aggregate as an ordered key-value engine stores it: the group and its key. */
export type StoredViewGroup = ViewGroup & { k: Key };

/** The key of a group: `[view key, tenantId, first group value (encoded), group id]` — a tenant's groups, and those of one leading value, are a key range. */
export const viewRecordKey = (view: string, tenantId: string, key: ViewGroup['key']): Key => [view, tenantId, encodeValue(key[0]), viewGroupId(key)];

/**
 * The groups of materialized aggregates one transaction changed, for adapters that stage writes and
 * apply them at commit (IndexedDB): keyed by the JSON of their key, written with the rows.
 */
export class ViewChanges {
  readonly groups = new Map<string, StoredViewGroup>();

  private group(view: StoreLayout['views'][number], tenantId: string, key: ViewGroup['key']): [StoredViewGroup, boolean] {
    const k = viewRecordKey(view.key, tenantId, key);
    const id = JSON.stringify(k);
    const known = this.groups.get(id);
    if (known) return [known, false];
    // Changes count from an empty group; the stored totals are added when they arrive.
    const group = { ...emptyViewGroup(view.view, key), k };
    this.groups.set(id, group);
    return [group, true];
  }

  /**
   * Moves written rows into the store's views: each group a row leaves or enters is loaded once per
   * transaction (`load`, inside the engine transaction, where writers are serialised), then changed.
   *
   * @param load Reads a stored group by key (`undefined`: none yet).
   */
  async apply(store: StoreLayout, tenantId: string, moved: readonly RowMove[], load: (k: Key) => Promise<StoredViewGroup | undefined>): Promise<void> {
    for (const view of store.views) {
      const moves = viewMoves(view.view, moved).map((move) => ({ ...move, at: this.group(view, tenantId, move.key) }));
      await Promise.all(
        moves.map(async ({ at: [group, fresh] }) => {
          const stored = fresh ? await load(group.k) : undefined;
          if (!stored) return;
          group.count += stored.count;
          group.inexact += stored.inexact;
          group.sums = group.sums.map((sum, i) => sum + stored.sums[i]!);
        }),
      );
      for (const { row, sign, at } of moves) addToViewGroup(view.view, at[0], row, sign);
    }
  }

  /** Adds a stored row to `views` (rebuilding them from the rows of a store). */
  add(views: StoreLayout['views'], row: Row): void {
    for (const view of views) addToViewGroup(view.view, this.group(view, row.tenantId, viewGroupKey(view.view, row))[0], row, 1);
  }

  /**
   * Answers an aggregate from a materialized aggregate when one fits (`planViewRead`): reads the stored
   * groups of the tenant (only those of the leading values the filter fixes) and puts this
   * transaction's changes over them. `undefined` when none fits or a group is inexact: compute from rows.
   *
   * @param read Reads the stored groups in a key range.
   */
  async answer(store: StoreLayout, tenantId: string, spec: AggregateSpec, read: (range: KeyRange) => Promise<StoredViewGroup[]>): Promise<AggregateRow[] | undefined> {
    const plan = planViewRead(store.views.map((v) => v.view), spec);
    if (!plan) return undefined;
    const key = store.views.find((v) => v.view === plan.view)!.key;
    const prefix = [key, tenantId];
    const leading = plan.leading && new Set(plan.leading.map(encodeValue));
    const ranges = leading ? [...leading].map((v) => ({ lower: [...prefix, v], upper: [...prefix, v, []] })) : [{ lower: prefix, upper: [...prefix, []] }];
    const groups = new Map<string, StoredViewGroup>();
    for (const range of ranges) for (const group of await read(range)) groups.set(JSON.stringify(group.k), group);
    for (const [id, group] of this.groups) if ((group.k as Key[])[0] === key && (group.k as Key[])[1] === tenantId) groups.set(id, group);
    return plan.answer([...groups.values()].filter((g) => g.count > 0));
  }
}
