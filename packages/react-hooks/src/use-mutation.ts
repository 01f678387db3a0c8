import type { CrmError } from '@crmkit/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';

/** How a mutation call ended. `mutate` never rejects: failures come back here and in `error`. */
export type MutationResult<T> = { readonly ok: true; readonly data: T } | { readonly ok: false; readonly error: CrmError | Error };

/** The state of the latest call and the functions to run and reset it. */
export interface Mutation<A extends unknown[], T> {
  readonly status: 'idle' | 'pending' | 'success' | 'error';
  /** The latest call is in flight. */
  readonly pending: boolean;
  /** The latest call's result. */
  readonly data: T | undefined;
  /** The latest call's failure (a `CrmError` with a stable `code` for crmkit failures). */
  readonly error: CrmError | Error | undefined;
  /** Runs the function; only the latest call updates the state. Never rejects. */
  mutate(...args: A): Promise<MutationResult<T>>;
  /** Back to `idle`; results of calls in flight are ignored. */
  reset(): void;
}

interface State<T> {
  readonly status: Mutation<unknown[], T>['status'];
  readonly data: T | undefined;
  readonly error: CrmError | Error | undefined;
}

const IDLE: State<never> = { status: 'idle', data: undefined, error: undefined };

/**
 * Wraps a CRM call with pending and error state for buttons and forms. The latest `fn` is used, so
 * it may be an inline arrow.
 *
 * @param fn The call, e.g. `(id: string) => crm.deals.win(id)`.
 * @returns `{ status, pending, data, error, mutate, reset }`.
 * @example
 * function CompleteButton({ taskId }: { taskId: string }) {
 *   const crm = useCrm();
 *   const complete = useMutation((id: string) => crm.tasks.complete(id));
 *   return (
 *     <>
 *       <button disabled={complete.pending} onClick={() => complete.mutate(taskId)}>Done</button>
 *       {complete.error && <span role="alert">{complete.error.message}</span>}
 *     </>
 *   );
 * }
 */
export function useMutation<A extends unknown[], T>(fn: (...args: A) => Promise<T>): Mutation<A, T> {
  const [state, setState] = useState<State<T>>(IDLE);
  const latestFn = useRef(fn);
  const latestCall = useRef(0);
  useEffect(() => {
    latestFn.current = fn;
  });
  const mutate = useCallback(async (...args: A): Promise<MutationResult<T>> => {
    const call = ++latestCall.current;
    setState({ status: 'pending', data: undefined, error: undefined });
    try {
      const data = await latestFn.current(...args);
      if (call === latestCall.current) setState({ status: 'success', data, error: undefined });
      return { ok: true, data };
    } catch (thrown) {
      const error = thrown instanceof Error ? thrown : new Error(String(thrown));
      if (call === latestCall.current) setState({ status: 'error', data: undefined, error });
      return { ok: false, error };
    }
  }, []);
  const reset = useCallback(() => {
    latestCall.current++;
    setState(IDLE);
  }, []);
  return useMemo(() => ({ ...state, pending: state.status === 'pending', mutate, reset }), [state, mutate, reset]);
}
