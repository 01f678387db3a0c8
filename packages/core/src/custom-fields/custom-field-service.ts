import { conflict, isCrmError, validationError } from '../errors/crm-error.js';
import { diffRecords, newRecordBase, reviseRecord, compact } from '../domain/records.js';
import {
  CUSTOMIZABLE_ENTITIES,
  customFieldDefineInputSchema,
  customFieldKeySchema,
  customFieldUpdateInputSchema,
  type CustomFieldDefineInput,
  type CustomFieldDefinition,
  type CustomFieldUpdateInput,
  type CustomizableEntity,
} from '../schema/custom-field.js';
import * as z from 'zod/mini';
import type { RuntimeIndexSpec } from '../storage/storage-adapter.js';
import { bumpConfigRevision } from '../crm/config-revision.js';
import type { CrmContext } from '../crm/context.js';
import { runRead, runWrite } from '../crm/operation.js';
import { parseArgument, parseInput } from '../crm/parse-input.js';
import type { CustomFieldCache } from './definition-cache.js';

const addressSchema = z.strictObject({ entity: z.enum(CUSTOMIZABLE_ENTITIES), key: customFieldKeySchema });

/** Definitions have deterministic ids, so two concurrent `define` calls cannot both succeed. */
function definitionId(entity: string, key: string): string {
  return `cf_${entity}_${key}`;
}

/** The storage index an `indexed` definition asks for (money: its amount), or none. */
export function customFieldIndex(def: CustomFieldDefinition): RuntimeIndexSpec | undefined {
  if (!def.indexed || def.type === 'multiselect') return undefined;
  const field = `custom.${def.key}`;
  if (def.type === 'money') return { entity: def.entity, field: `${field}.amount`, type: 'number' };
  return { entity: def.entity, field, type: def.type === 'number' ? 'number' : def.type === 'boolean' ? 'boolean' : 'string' };
}

/**
 * Makes sure storage has the index of every indexed custom field of the tenant: at start-up (a crash
 * between a definition's commit and its index, or a definition made by another process) and after a
 * definition turns `indexed` on. Indexes are created outside any transaction (`ensureIndexes`).
 */
export async function ensureCustomFieldIndexes(ctx: CrmContext, definitions?: readonly CustomFieldDefinition[]): Promise<void> {
  const all =
    definitions ??
    (await ctx.storage.transaction('r', async (tx) => (await tx.query('customField', ctx.tenantId, {})).rows as unknown as CustomFieldDefinition[]));
  const indexes = all.map(customFieldIndex).filter((spec): spec is RuntimeIndexSpec => spec !== undefined);
  if (indexes.length) await ctx.storage.ensureIndexes(indexes);
}

/**
 * Custom fields: typed fields each business adds to leads, contacts, companies and deals.
 * Values are validated on every write and are filterable and sortable as `custom.<key>`. `crm.customFields`.
 */
export class CustomFieldService {
  /** @internal */
  constructor(
    private readonly ctx: CrmContext,
    private readonly cache: CustomFieldCache,
  ) {}

  /**
   * Defines a custom field.
   *
   * @example
   * await crm.customFields.define({ entity: 'deal', key: 'budget', label: 'Budget', type: 'money', currency: 'EUR' });
   * await crm.deals.list({ where: where.gte('custom.budget.amount', 100_000) });
   * @throws CrmError `VALIDATION` when the key exists already for the entity, or `indexed` is set on a
   *   multiselect field; `STORAGE` when the index cannot be created (the definition is stored, and the
   *   index is created at the next start).
   */
  async define(input: CustomFieldDefineInput): Promise<CustomFieldDefinition> {
    const parsed = parseInput(customFieldDefineInputSchema, input, 'customFields.define');
    const defined = await runWrite(this.ctx, async (op) => {
      op.guard?.require('customField', 'create');
      const definition = compact({
        ...newRecordBase(definitionId(parsed.entity, parsed.key), op.tenantId, op.now),
        ...parsed,
        archived: false,
      }) as CustomFieldDefinition;
      try {
        await op.insert('customField', definition);
      } catch (error) {
        if (isCrmError(error, 'CONFLICT')) {
          throw validationError('customFields.define', [{ path: ['key'], code: 'duplicate', message: `${parsed.entity} already has a custom field "${parsed.key}"` }]);
        }
        throw error;
      }
      op.record('customField.defined', { type: 'customField', id: definition.id }, { definition });
      await bumpConfigRevision(op);
      this.cache.invalidate();
      return definition;
    }, true);
    await ensureCustomFieldIndexes(this.ctx, [defined]);
    return defined;
  }

  /**
   * Changes a definition's label, description, `required` flag or options, or archives it.
   * The type cannot change: stored values would no longer match it.
   */
  async update(entity: CustomizableEntity, key: string, patch: CustomFieldUpdateInput & { version?: number }): Promise<CustomFieldDefinition> {
    const address = parseInput(addressSchema, { entity, key }, 'customFields.update');
    const { version, ...rest } = patch ?? {};
    const parsed = parseInput(customFieldUpdateInputSchema, rest, 'customFields.update');
    const updated = await runWrite(this.ctx, async (op) => {
      op.guard?.require('customField', 'update');
      const current = await op.require<CustomFieldDefinition>('customField', definitionId(address.entity, address.key));
      if (version !== undefined && version !== current.version) throw conflict('customField', current.id, version, current.version);
      if (parsed.indexed && current.type === 'multiselect') {
        throw validationError('customFields.update', [{ path: ['indexed'], code: 'invalid_value', message: 'multiselect fields cannot be indexed' }]);
      }
      if (parsed.options && current.type !== 'select' && current.type !== 'multiselect') {
        throw validationError('customFields.update', [{ path: ['options'], code: 'invalid_value', message: 'only select and multiselect fields have options' }]);
      }
      const next = reviseRecord(current, op.now, (draft) => {
        for (const [k, v] of Object.entries(parsed)) if (v !== undefined) (draft as Record<string, unknown>)[k] = v;
      });
      if (next === current) return current;
      await op.update('customField', current, next);
      op.record('customField.updated', { type: 'customField', id: current.id }, { changes: diffRecords(current, next) });
      await bumpConfigRevision(op);
      this.cache.invalidate();
      return next;
    }, true);
    if (parsed.indexed) await ensureCustomFieldIndexes(this.ctx, [updated]);
    return updated;
  }

  /** Lists the definitions of one entity (or all), ordered by key. */
  async list(entity?: CustomizableEntity): Promise<CustomFieldDefinition[]> {
    if (entity !== undefined) parseArgument(z.enum(CUSTOMIZABLE_ENTITIES), entity, 'customFields.list', 'entity');
    return runRead(this.ctx, async (op) => {
      op.guard?.require('customField', 'read');
      const { rows } = await op.query<CustomFieldDefinition>('customField', {
        ...(entity ? { filter: { op: 'eq' as const, field: 'entity', value: entity } } : {}),
        sort: [{ field: 'entity' }, { field: 'key' }],
      });
      return rows;
    });
  }
}
