import type { Crm } from '@crmkit/core';
import { COMMANDS, type CommandName } from '../protocol/commands.js';

const queries = (arg: unknown): boolean => typeof arg === 'object' && arg !== null && ('where' in arg || 'orderBy' in arg);

const SERVICES: ReadonlySet<string> = new Set(Object.keys(COMMANDS).map((name) => name.split('.')[0]!));

/**
 * `client.crm` (design sync.md §8): the device crm where each pushable method (`deals.advance`,
 * `tasks.complete`, … — `COMMAND_NAMES`) becomes a command, run at once on the device and pushed to the
 * server; everything else passes through to the crm (reads, and writes of non-synced data; a write of
 * synced data the server does not take as a command fails with `VALIDATION` `sync_local_write`).
 * Feature APIs read through the proxy are built over it (core builds them over the object they are read
 * through): `client.crm.observe.board(…)`'s moves become commands too. A read whose options filter or
 * sort (`where`, `orderBy`) waits for `judgeRead` (which throws the refusal a view gives).
 */
export function commandProxy<C extends Crm>(crm: C, execute: (name: CommandName, args: readonly unknown[]) => Promise<unknown>, judgeRead?: (name: string, args: readonly unknown[]) => Promise<void>): C {
  const services = new Map<string, object>();
  return new Proxy(crm, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver) as unknown;
      if (typeof key !== 'string' || !SERVICES.has(key) || typeof value !== 'object' || value === null) return value;
      let service = services.get(key);
      if (!service) {
        service = new Proxy(value, {
          get(inner, method, innerReceiver) {
            const name = `${key}.${String(method)}`;
            if (name in COMMANDS) return (...args: unknown[]) => execute(name as CommandName, args);
            const member = Reflect.get(inner, method, innerReceiver) as unknown;
            if (typeof member !== 'function') return member;
            const bound = (member as (...a: unknown[]) => unknown).bind(inner);
            // A read whose query names fields (`where`, `orderBy`) is judged first, as a view's is (review13d D8).
            return judgeRead ? (...args: unknown[]) => (args.some(queries) ? judgeRead(name, args).then(() => bound(...args)) : bound(...args)) : bound;
          },
        });
        services.set(key, service);
      }
      return service;
    },
  });
}
