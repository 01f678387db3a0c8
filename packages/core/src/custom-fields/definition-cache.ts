import type { ConfigRevision } from '../crm/context.js';
import type { CustomFieldDefinition } from '../schema/custom-field.js';
import { deepFreeze } from '../storage/deep-freeze.js';
import type { StorageTx } from '../storage/storage-adapter.js';

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

  /** The definitions cached already (dropped on any change, by this or another process), without a read. */
  peek(entity: string): readonly CustomFieldDefinition[] | undefined {
    return this.cache.get(entity);
  }

  async load(tx: StorageTx, entity: string): Promise<readonly CustomFieldDefinition[]> {
    await this.revision.ensureFresh(tx);
    const cached = this.cache.get(entity);
    if (cached) return cached;
    const { rows } = await tx.query('customField', this.tenantId, {
      filter: { op: 'eq', field: 'entity', value: entity },
      sort: [{ field: 'key' }],
    });
    // Frozen: every operation shares the cached list (rows of SQL adapters are fresh, mutable objects).
    const definitions = deepFreeze(rows as unknown as CustomFieldDefinition[]);
    this.cache.set(entity, definitions);
    return definitions;
  }
}
