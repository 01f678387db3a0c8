import * as z from 'zod/mini';
import { CRM_STORAGE_SCHEMA } from '../storage/crm-schema.js';
import { companyUpdateInputSchema } from '../schema/company.js';
import { contactUpdateInputSchema } from '../schema/contact.js';
import { dealUpdateInputSchema, DEAL_STATUSES } from '../schema/deal.js';
import { leadUpdateInputSchema, LEAD_STATUSES } from '../schema/lead.js';
import { taskUpdateInputSchema } from '../schema/task-update.js';
import { TASK_STATUSES } from '../schema/task.js';
import { moneySchema } from '../schema/primitives.js';

/** The update input of each record type a rule can change (`updateFields`; activities are never updated). */
export const UPDATE_SCHEMAS: Readonly<Record<string, z.ZodMiniType>> = { lead: leadUpdateInputSchema, contact: contactUpdateInputSchema, company: companyUpdateInputSchema, deal: dealUpdateInputSchema, task: taskUpdateInputSchema };

type Shape = Readonly<Record<string, z.ZodMiniType>>;
/** A zod schema seen through its wrappers (`optional`, `nullable`: `innerType`; `array`: `element`). */
type Wrapped = z.ZodMiniType & { readonly def: { readonly innerType?: Wrapped; readonly element?: Wrapped; readonly type: string } };
export const shapeOf = (schema: unknown): Shape | undefined => (schema as { def?: { shape?: Shape } } | undefined)?.def?.shape;

/** Stored fields an update computes from the ones given: its `*.updated` event reports them too. */
const COMPUTED: Readonly<Record<string, Shape>> = {
  deal: { weightedValue: moneySchema, expectedCloseMonth: z.string(), probabilityManual: z.boolean() },
  // Given as a rule's text, stored as an object.
  task: { recurrence: z.strictObject({}) },
};
/** Update input that is no stored field (so never a change an event reports). */
const INPUT_ONLY = new Set(['version', 'scope', 'exchangeRate', 'currency']);

/** The schema of a field an update can change (`value.amount` inside `value`), `null` for a custom field, or `undefined`. */
export function updatedField(entity: string, path: string): z.ZodMiniType | null | undefined {
  const [head, ...rest] = path.split('.');
  if (INPUT_ONLY.has(head!)) return undefined;
  let schema: unknown = { ...shapeOf(UPDATE_SCHEMAS[entity]), ...COMPUTED[entity] }[head!];
  if (schema && head === 'custom' && rest.length) return null;
  for (const key of rest) {
    // Unwrap optional / nullable to reach an object's shape.
    while (schema && !shapeOf(schema) && (schema as { def: { innerType?: unknown } }).def.innerType) schema = (schema as { def: { innerType?: unknown } }).def.innerType;
    schema = shapeOf(schema)?.[key];
  }
  return schema as z.ZodMiniType | undefined;
}

/**
 * Fields a condition or a field trigger may name for a record type: its stored fields (parts of a
 * stored object such as `value.amount` included, nothing below a plain value: `title.length` is no
 * field), `id` and `custom.*` (checked against the tenant's definitions by `customFieldIssues`).
 */
export function knownField(entity: string, path: string): boolean {
  if (path.startsWith('custom.')) return true;
  const schema = CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity);
  const fields = new Set([...Object.keys(schema?.fields ?? {}), ...Object.keys(shapeOf(UPDATE_SCHEMAS[entity]) ?? {}), 'id', 'version', 'value', 'lineItems', 'notes', 'subject', 'body', 'outcome', 'pipelineId']);
  return fields.has(path) || [...fields].some((f) => f.startsWith(`${path}.`));
}

/** The values of fields no update sets but a condition may test. */
const STATUSES: Readonly<Record<string, readonly string[]>> = { lead: LEAD_STATUSES, deal: DEAL_STATUSES, task: TASK_STATUSES };
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * Whether a condition value is one a field of a record can hold — `exact` for `eq` / `ne` / `in`, else
 * (ordering) of the field's type — or the type is not known here (custom fields; stages and lost
 * reasons are judged by the caller). A text where a number is stored can never equal it, nor order
 * against it (`testCondition` compares values of one type); an ISO-8601 date orders against a stored time.
 */
export function fieldHolds(entity: string, field: string, value: unknown, exact: boolean): boolean {
  if (field === 'status' && STATUSES[entity]) return !exact || STATUSES[entity].includes(value as string);
  const stored = CRM_STORAGE_SCHEMA.entities.find((e) => e.name === entity)?.fields[field];
  // Down to the schema of one value, through optional / nullable / list wrappers.
  let schema = updatedField(entity, field) as Wrapped | null | undefined;
  let list = stored === 'string[]';
  while (schema?.def.innerType || schema?.def.element) {
    list ||= Boolean(schema.def.element);
    schema = schema.def.innerType ?? schema.def.element;
  }
  const type: string = (schema ? schema.def.type : stored === 'string[]' ? 'string' : stored) ?? '';
  // An object (`value`, `lineItems`' items, `custom`) is never one value; a list orders against none.
  if (type === 'object' || type === 'record' || (list && !exact)) return false;
  if (!exact || !schema) return !['number', 'string', 'boolean'].includes(type) || typeof value === type;
  return schema.safeParse(value).success || (typeof value === 'string' && ISO_DATE.test(value) && schema.safeParse('2000-01-01T00:00:00.000Z').success);
}
