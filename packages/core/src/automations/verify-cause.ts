import { validationError } from '../errors/crm-error.js';
import type { StorageAdapter, StorageTx } from '../storage/storage-adapter.js';
import type { AutomationCause, AutomationRun } from './automation-schema.js';

const refuse = (context: string, key: string, code = 'invalid_value') => validationError(context, [{ path: ['event', 'cause', key], code, message: code === 'not_found' ? 'names no run of this tenant' : 'is not that of a run' }]);

/**
 * Refuses a cause no run could have recorded: a depth negative or past `maxDepth + 1` (a skipped
 * run's events), a chain not ending with its rule or longer than its depth allows.
 *
 * @throws CrmError `VALIDATION` at `event.cause.depth` / `event.cause.chain`.
 */
export function checkCauseShape(cause: AutomationCause, maxDepth: number, context: string): void {
  if (!(cause.depth >= 0 && cause.depth <= maxDepth + 1)) throw refuse(context, 'depth');
  if (cause.chain.at(-1) !== cause.ruleId || cause.chain.length > cause.depth + 1) throw refuse(context, 'chain');
}

/**
 * Refuses a cause that is not that of a stored run of this tenant (its rule, depth, and chain — or
 * the end of it: a continuation after a `wait` starts over with its own rule). A forged cause would
 * let a caller switch rules off for its writes (as a loop or past the depth limit).
 *
 * @throws CrmError `VALIDATION` (`not_found` at `event.cause.runId`, or at the field that differs).
 */
export async function verifyCause(tx: StorageTx, tenantId: string, cause: AutomationCause, context: string): Promise<void> {
  const [run] = (await tx.getMany('automationRun', tenantId, [cause.runId])) as unknown as (AutomationRun | undefined)[];
  if (!run) throw refuse(context, 'runId', 'not_found');
  if (run.ruleId !== cause.ruleId) throw refuse(context, 'ruleId');
  if (run.depth !== cause.depth) throw refuse(context, 'depth');
  const chain = run.chain ?? [run.ruleId];
  if (cause.chain.some((id, i) => id !== chain[chain.length - cause.chain.length + i])) throw refuse(context, 'chain');
}

/** `root`, whose write transactions first verify `cause` (`causedBy` is synchronous; the check runs with the write). */
export function causeCheckedStorage(root: StorageAdapter, tenantId: string, cause: AutomationCause): StorageAdapter {
  const transaction: StorageAdapter['transaction'] = (mode, fn) => root.transaction(mode, async (tx) => {
    if (mode !== 'r') await verifyCause(tx, tenantId, cause, 'automations.causedBy');
    return fn(tx);
  });
  // Every other member is the root's (bound: an adapter's methods may use private fields).
  return new Proxy(root, { get: (target, key) => (key === 'transaction' ? transaction : typeof target[key as keyof StorageAdapter] === 'function' ? (target[key as keyof StorageAdapter] as () => unknown).bind(target) : target[key as keyof StorageAdapter]) });
}
