/**
 * Promises over IndexedDB requests. They settle inside the request's own success event, so the code
 * after an `await` runs while the transaction is still active — what keeps a `transaction(fn)` whose
 * `fn` awaits only tx methods alive until it is done.
 */
export function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Walks a cursor request, calling `visit` with each value inside the success event until it returns
 * `false` or the cursor ends. A throwing `visit` rejects (and stops) the walk.
 */
export function walk(req: IDBRequest<IDBCursorWithValue | null>, visit: (value: unknown) => boolean | void): Promise<void> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => {
      try {
        const cursor = req.result;
        if (cursor && visit(cursor.value) !== false) cursor.continue();
        else resolve();
      } catch (error) {
        reject(error);
      }
    };
    req.onerror = () => reject(req.error);
  });
}
