import { refuseFields } from '@crmkit/core/access';
import { filterFields } from '@crmkit/core/storage';
import { COMMANDS } from '../protocol/commands.js';
import type { HiddenFields } from './hidden-fields.js';

/** The record entity of each service with commands (`deals` → `deal`). */
const ENTITIES: Readonly<Record<string, string>> = Object.fromEntries(Object.entries(COMMANDS).map(([name, spec]) => [name.split('.')[0]!, spec.entity]));

/**
 * The refusal `crm.as(user)` gives a read that filters or sorts by a field the server hides from the
 * user (review13d D8): core's own check (`refuseFields`, as `checkReadFields`) over the fields of the
 * options' `where` and `orderBy`, with the pull's hidden list. The rows on the device lack those fields:
 * without it the read would answer as if no record matched.
 *
 * @throws CrmError `FORBIDDEN` — `deals.list: anna may not read value of deal`.
 */
export function judgeRead(name: string, args: readonly unknown[], hidden: HiddenFields, userId: string): void {
  const entity = ENTITIES[name.split('.')[0]!];
  const drop = entity ? hidden[entity] : undefined;
  if (!drop) return;
  for (const arg of args) {
    const { where, orderBy } = (typeof arg === 'object' && arg) as { where?: never; orderBy?: readonly { field?: unknown }[] };
    const fields = [...filterFields(where)];
    if (Array.isArray(orderBy)) for (const s of orderBy) if (typeof s?.field === 'string') fields.push(s.field);
    refuseFields(userId, entity!, fields, (field) => !drop.includes(field), false, name);
  }
}
