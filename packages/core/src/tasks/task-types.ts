import { DEFAULT_TASK_TYPES, type TaskTypeDefinition } from '../schema/task-type.js';
import type { SettingRecord } from '../crm/context.js';
import type { Operation } from '../crm/operation.js';

/** The tenant's task types: the built-in ones plus its own, by key. */
export async function loadTaskTypes(op: Operation): Promise<TaskTypeDefinition[]> {
  const [row] = await op.getMany<SettingRecord<TaskTypeDefinition[]>>('setting', ['taskTypes']);
  const custom = row?.value ?? [];
  const byKey = new Map<string, TaskTypeDefinition>(DEFAULT_TASK_TYPES.map((t) => [t.key, t]));
  for (const t of custom) byKey.set(t.key, t);
  return [...byKey.values()];
}
