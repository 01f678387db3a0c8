import type { CrmContext } from '../crm/context.js';
import { runRead } from '../crm/operation.js';
import type { AutomationRun } from './automation-schema.js';

/**
 * The runs in `status` whose `resumeAt` had come when the sweep began, oldest first, read page by page in one
 * cursor pass: each is yielded once, so a sweep over them ends even when handling a run leaves it due.
 */
export async function* dueRuns(ctx: CrmContext, status: 'failed' | 'waiting', pageSize: number): AsyncGenerator<AutomationRun> {
  let until: string | undefined;
  let after: string | undefined;
  do {
    const page = await runRead(ctx, (op) =>
      op.query<AutomationRun>('automationRun', { filter: { op: 'and', filters: [{ op: 'eq', field: 'status', value: status }, { op: 'lte', field: 'resumeAt', value: (until ??= op.now) }] }, sort: [{ field: 'resumeAt' }, { field: 'id' }], limit: pageSize, ...(after ? { after } : {}) }),
    );
    after = page.nextCursor;
    yield* page.rows;
  } while (after);
}
