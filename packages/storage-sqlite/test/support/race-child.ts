// A child process for the cross-process tests: opens crmkit on a shared SQLite file and runs the
// commands its parent sends over IPC, replying with what happened. Run with `node --import tsx`.
import { createCrm, isCrmError, silentLogger, type Crm, type StorageAdapter } from '@crmkit/core';
import type { Row } from '@crmkit/core/storage';
import { createSqliteStorage } from '../../src/index.js';

type Command =
  | { cmd: 'open'; file: string; tenantId: string; busyTimeoutMs?: number }
  | { cmd: 'update'; id: string; version: number; title: string }
  | { cmd: 'increment'; id: string; times: number }
  | { cmd: 'hold'; ms: number; id: string }
  | { cmd: 'close' };

let storage: StorageAdapter | undefined;
let crm: Crm | undefined;
let tenantId = '';

function describe(error: unknown): string {
  if (isCrmError(error)) return `CrmError:${error.code}:${JSON.stringify(error.details)}:${error.message}`;
  return `${error instanceof Error ? error.name : 'throw'}:${error instanceof Error ? error.message : String(error)}`;
}

async function increment(id: string, times: number): Promise<{ done: number; conflicts: number; errors: string[] }> {
  let done = 0;
  let conflicts = 0;
  const errors: string[] = [];
  while (done < times) {
    try {
      // Read in one transaction, write in another with the version read: a real lost-update race.
      const [row] = await storage!.transaction('r', (tx) => tx.getMany('deal', tenantId, [id]));
      const next = { ...row!, version: row!.version + 1, postponeCount: (row!.postponeCount as number) + 1 } as Row;
      await storage!.transaction('rw', (tx) => tx.write('deal', tenantId, [{ type: 'update', row: next, expectedVersion: row!.version }]));
      done++;
    } catch (error) {
      if (isCrmError(error, 'CONFLICT')) conflicts++;
      else errors.push(describe(error));
      if (errors.length > 5) break;
    }
  }
  return { done, conflicts, errors };
}

async function handle(message: Command): Promise<unknown> {
  switch (message.cmd) {
    case 'open':
      tenantId = message.tenantId;
      storage = createSqliteStorage({ filename: message.file, ...(message.busyTimeoutMs ? { busyTimeoutMs: message.busyTimeoutMs } : {}) });
      crm = await createCrm({ storage, tenantId, logger: silentLogger, actor: { userId: `pid${process.pid}` } });
      return { pid: process.pid };
    case 'update':
      try {
        const deal = await crm!.deals.update(message.id, { title: message.title, version: message.version });
        return { outcome: 'won', version: deal.version };
      } catch (error) {
        return { outcome: isCrmError(error, 'CONFLICT') ? 'conflict' : 'error', error: describe(error) };
      }
    case 'increment':
      return increment(message.id, message.times);
    case 'hold': {
      // Holds the write lock for `ms`: a transaction that keeps writing until the time is up.
      const started = Date.now();
      let writes = 0;
      await storage!.transaction('rw', async (tx) => {
        while (Date.now() - started < message.ms) {
          const [row] = await tx.getMany('deal', tenantId, [message.id]);
          await tx.write('deal', tenantId, [{ type: 'update', row: { ...row!, version: row!.version + 1 } as Row, expectedVersion: row!.version }]);
          writes++;
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      });
      return { writes };
    }
    case 'close':
      await crm?.close();
      return { closed: true };
  }
}

process.on('message', (message: Command & { seq: number }) => {
  handle(message).then(
    (result) => process.send!({ seq: message.seq, result }),
    (error: unknown) => process.send!({ seq: message.seq, error: describe(error) }),
  );
});
process.send!({ seq: 0, result: 'ready' });
