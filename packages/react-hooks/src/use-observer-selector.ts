import type { Observer, ObserverSnapshot } from '@crmkit/core/observe';
import { useCallback, useRef, useSyncExternalStore } from 'react';

/**
 * Subscribes to a part of an observer's snapshot: the component re-renders only when the selected
 * value changes (`isEqual`, default `Object.is`). With core's structural sharing, selecting an
 * unchanged record or column returns the same object, so React bails out.
 *
 * `select` must be pure; keep it stable (`useCallback`) so results are memoised per snapshot.
 *
 * @param observer The observer to read.
 * @param select Picks the value from a snapshot.
 * @param isEqual When the new value equals the previous one, the previous one is returned.
 * @returns The selected value.
 * @example
 * const count = useObserverSelector(observer, useCallback((s) => s.data?.items.length ?? 0, []));
 */
export function useObserverSelector<T, S>(
  observer: Observer<T>,
  select: (snapshot: ObserverSnapshot<T>) => S,
  isEqual: (a: S, b: S) => boolean = Object.is,
): S {
  const memo = useRef<{ snapshot: ObserverSnapshot<T>; select: unknown; value: S } | undefined>(undefined);
  const getSelection = useCallback(() => {
    const snapshot = observer.getSnapshot();
    const last = memo.current;
    if (last && last.snapshot === snapshot && last.select === select) return last.value;
    const next = select(snapshot);
    const value = last && isEqual(last.value, next) ? last.value : next;
    memo.current = { snapshot, select, value };
    return value;
  }, [observer, select, isEqual]);
  return useSyncExternalStore(observer.subscribe, getSelection, getSelection);
}
