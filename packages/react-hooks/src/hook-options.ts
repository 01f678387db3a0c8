/** Options every data hook accepts. */
export interface QueryHookOptions<T> {
  /**
   * Data to render before (or instead of) the first fetch: server rendering with `renderToString`,
   * hydration, or data the host already has. Read once, when the hook's observer is created.
   */
  readonly initialData?: T;
}
