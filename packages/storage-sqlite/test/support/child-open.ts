// What the worker processes of the fleet tests share (fleet-child.ts, automation-child.ts): the storage
// of the engine under test and a logger that appends warnings and errors to per-process log files (one
// line per write: a line survives a SIGKILL whole).
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger, StorageAdapter } from '@crmkit/core';
import { createPostgresStorage, createSqliteStorage } from '../../src/index.js';

/** The `open` message every worker gets first: which engine, where, and where to log. */
export interface ChildOpen {
  cmd: 'open';
  engine: 'sqlite' | 'postgres';
  file?: string;
  url?: string;
  schema?: string;
  tenantId: string;
  logDir: string;
  leaseMs: number;
}

/** Appends one line to `<dir>/<name>-<pid>.log`. */
export const childLog = (dir: string, name: string, line: string): void => appendFileSync(join(dir, `${name}-${process.pid}.log`), `${line}\n`);

/** The shared SQLite file (busy timeout, fast change polling) or the PostgreSQL schema of the test. */
export function childStorage(message: ChildOpen): StorageAdapter {
  return message.engine === 'sqlite'
    ? createSqliteStorage({ filename: message.file!, busyTimeoutMs: 20_000, changePollMs: 50 })
    : createPostgresStorage({ connectionString: message.url!, schema: message.schema!, maxConnections: 4 });
}

/** A logger that keeps warnings and errors in the log directory (errors as their message). */
export function childLogger(logDir: string): Logger {
  const line = (text: string, data: unknown) => `${text} ${JSON.stringify(data, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`;
  return {
    debug: () => undefined,
    info: () => undefined,
    warn: (text, data) => childLog(logDir, 'warnings', line(text, data)),
    error: (text, data) => childLog(logDir, 'errors', line(text, data)),
  };
}
