import type { Observer, ObserverSnapshot } from '@crmkit/core/observe';
import { useCallback, useState, useSyncExternalStore } from 'react';

/**
 * Subscribes a component to a core observer and returns its snapshot (`status`, `data`, `error`,
 * `isFetching`): the same object until the observer's data or state changes. The observer starts on
 * the first subscriber and stops on the last unsubscribe. On the server the snapshot is whatever the
 * observer holds (its `initialData`, else `loading`).
 *
 * `initialData` is shown while an observer that could not take it at construction is still loading
 * (server rendering, hydration).
 *
 * @param observer An observer from `crm.observe`; keep it stable across renders.
 * @param initialData Data to show until the observer has loaded.
 * @returns The current snapshot.
 * @example
 * const [observer] = useState(() => crm.observe.activities({ where: where.eq('dealId', id) }));
 * const { status, data } = useObserver(observer);
 */
export function useObserver<T>(observer: Observer<T>, initialData?: T): ObserverSnapshot<T> {
  const [seed] = useState<ObserverSnapshot<T> | undefined>(() =>
    initialData === undefined ? undefined : { status: 'success', data: initialData, error: undefined, isFetching: false },
  );
  const getSnapshot = useCallback(() => {
    const snapshot = observer.getSnapshot();
    return seed && snapshot.status === 'loading' ? seed : snapshot;
  }, [observer, seed]);
  return useSyncExternalStore(observer.subscribe, getSnapshot, getSnapshot);
}
