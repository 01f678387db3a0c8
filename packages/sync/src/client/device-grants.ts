import { CompiledAccess, parentAccessOf, primaryParent, type AccessPolicy } from '@crmkit/core/access';
import type { AccessAction, RecordBase } from '@crmkit/core';
import type { StorageTx } from '@crmkit/core/storage';
import { COMMANDS } from '../protocol/commands.js';
import type { Command, Rights } from '../protocol/messages.js';
import type { HiddenFields } from './hidden-fields.js';

/** The fields core's scope check (`reaches`) reads on a record: its owner and write shares. */
const SCOPE_FIELDS = ['ownerId', 'shares'];
/** A task's links to its parent (core's `PARENT_LINKS`): which parent's scope it follows. */
const PARENT_LINK_FIELDS = ['dealId', 'leadId', 'contactId', 'companyId'];

/**
 * Core's guard for the device's user, rebuilt from the pull's `rights` (design sync.md §24, fix13j):
 * the same code judges a write on the device as `crm.as(user)` does online. Its directory knows only
 * what the user's scopes reach (her teams' members, her reports).
 */
export function deviceGuard(rights: Rights | undefined, userId: string): CompiledAccess | undefined {
  if (!rights) return undefined;
  const directory = { users: new Map([[userId, { id: userId, departed: rights.departed }]]), membersOf: () => rights.team, reportsOf: () => rights.subtree };
  return new CompiledAccess({ roles: rights.roles, defaultRoles: [] } as unknown as AccessPolicy, directory as never, { userId, roles: Object.keys(rights.roles), teamIds: rights.teamIds });
}

/**
 * The `FORBIDDEN` `crm.as(user)` gives a command for its record's scope (core's `authorize`, and
 * `checkWritten` for an update's new state and a create's owner), judged on the device's row. A task
 * follows its parent's scope too (core's `parentOwner`, which pulled rows lack): it is rebuilt from the
 * parent the device holds. Left to the server (design §26, review13e E2): a record whose scope fields
 * (`ownerId`, `shares`, a task's parent links) the user may not read — the device's row lacks them, so
 * core's guard would refuse what `crm.as` accepts — and a task whose parent (or its owner) it does not hold.
 *
 * @param hidden The fields the server hides from the user, by entity (the pull's `hidden`).
 * @returns The refusal; `undefined` when the guard lets the command through (or cannot judge it).
 */
export async function grantRefusal(guard: CompiledAccess, tx: StorageTx, tenantId: string, command: Omit<Command, 'seq'>, userId: string, hidden: HiddenFields): Promise<unknown> {
  const { target, creates } = COMMANDS[command.name];
  const [service, method] = command.name.split('.') as [string, string];
  const [first, second] = command.args as [unknown, unknown];
  const blind = target && hidden[target]?.some((f) => SCOPE_FIELDS.includes(f) || (target === 'task' && PARENT_LINK_FIELDS.includes(f)));
  try {
    if (target && !blind) {
      let [row] = (await tx.getMany(target, tenantId, [first as string])) as unknown as (RecordBase | undefined)[];
      const parent = row && target === 'task' ? primaryParent(row) : undefined;
      if (parent) {
        const [held] = await tx.getMany(parent.type, tenantId, [parent.id]);
        row = held?.ownerId === undefined ? undefined : { ...row!, ...parentAccessOf(parent.type, held) };
      }
      const action = (method === 'remove' ? 'delete' : method === 'convert' || (service === 'deals' && method !== 'update') ? method : 'update') as AccessAction;
      if (row) guard.authorize(target, action, row);
      if (row && method === 'update') guard.checkWritten(target, action, row, { ...row, ...(second as object) });
    } else if (creates && first && typeof first === 'object') guard.checkWritten(creates, 'create', undefined, { ownerId: userId, ...(first as object) } as never);
  } catch (error) {
    return error;
  }
  return undefined;
}
