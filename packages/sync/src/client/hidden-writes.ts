import { isCrmError } from '@crmkit/core';
import { inputFields, refuseFields, type CompiledAccess } from '@crmkit/core/access';
import { COMMANDS, type CommandName } from '../protocol/commands.js';
import type { HiddenFields } from './hidden-fields.js';

/** The inputs a command writes fields with, by entity: a create's (or log's) first argument, an update's second, a conversion's contact and deal. */
function inputsOf(name: CommandName, [first, second]: readonly unknown[]): [string, unknown][] {
  const { creates, entity } = COMMANDS[name];
  const options = second as { contact?: unknown; deal?: unknown } | undefined;
  return name === 'leads.convert' ? [['contact', options?.contact], ['deal', options?.deal]] : [[entity, creates ? first : name.endsWith('.update') && second]];
}

/**
 * The refusal `crm.as(user)` gives a command that writes fields the server hides from the user
 * (design sync.md §24, fix13h): core's own check (`refuseFields` over `inputFields`, as each service
 * calls it) with the pull's hidden list — a field the user may not read she may not write — or, given the
 * pull's `rights`, core's guard rebuilt from them (`deviceGuard`), which knows the write-denied fields too.
 *
 * @returns The `FORBIDDEN` (`<name>: <user> may not write value of deal`); `undefined` when the command writes no hidden field.
 */
export function hiddenWrite(name: CommandName, args: readonly unknown[], hidden: HiddenFields, userId: string, guard?: CompiledAccess): unknown {
  try {
    for (const [entity, input] of inputsOf(name, args)) {
      const drop = hidden[entity];
      if (typeof input !== 'object') continue;
      const fields = inputFields(entity, input ?? undefined);
      // With the user's rights, core's guard: fields readable but not writable (`write.deny`) too (fix13j).
      if (guard) guard.checkWriteFields(entity, fields, name);
      else if (drop) refuseFields(userId, entity, fields, (field) => !drop.includes(field), true, name);
    }
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * Whether a service's failure comes from a check it makes before the field check (core: parsing the
 * input, then for a change the record's lookup and expected version): the user sees that one, as
 * online. A `VALIDATION` counts when no issue is of a later check (a custom value, a link to a missing
 * record, a required field the user may not read).
 */
export function checkedFirst(error: unknown, args: readonly unknown[], hidden: HiddenFields, entity: string): boolean {
  if (isCrmError(error, 'CONFLICT')) return true;
  if (isCrmError(error, 'NOT_FOUND')) return error.details.id === args[0];
  return isCrmError(error, 'VALIDATION') && error.details.issues.every((i) => i.path[0] !== 'custom' && i.code !== 'not_found' && !(i.code === 'required' && hidden[entity]?.includes(String(i.path[0]))));
}
