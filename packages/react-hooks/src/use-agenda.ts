import type { Agenda } from '@crmkit/core/tasks';
import type { AgendaOptions, ObserverSnapshot } from '@crmkit/core/observe';
import { useEffect } from 'react';
import type { QueryHookOptions } from './hook-options.js';
import { useObserver } from './use-observer.js';
import { useObserverInstance } from './use-observer-instance.js';

/** Options of `useAgenda`: the window and size of `crm.tasks.agenda`, plus `initialData`. */
export interface UseAgendaOptions extends Omit<AgendaOptions, 'ownerId'>, QueryHookOptions<Agenda> {}

/**
 * An owner's agenda (`crm.tasks.agenda`): overdue open tasks, today's, then upcoming, kept current as
 * their tasks change. Unchanged tasks keep their identity.
 *
 * @param ownerId Whose agenda; `undefined` for every owner's.
 * @param options `from`, `to`, `limit` and `initialData`.
 * @returns The observer snapshot; `data` is `{ overdue, today, upcoming }`.
 * @example
 * function MyDay() {
 *   const { data } = useAgenda('anna');
 *   return <ul>{data?.today.map((t) => <li key={t.id}>{t.subject}</li>)}</ul>;
 * }
 */
export function useAgenda(ownerId: string | undefined, options: UseAgendaOptions = {}): ObserverSnapshot<Agenda> {
  const { initialData, ...window } = options;
  const query: AgendaOptions = ownerId === undefined ? window : { ...window, ownerId };
  const observer = useObserverInstance((crm) => crm.observe.agenda(query));
  useEffect(() => observer.setOptions(query));
  return useObserver(observer, initialData);
}
