/** Freezes a JSON document in place, recursively, and returns it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  } else if (value !== null && typeof value === 'object') {
    // immer freezes deeply already; children of a frozen object are frozen too in every record crmkit makes.
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      if (child !== null && typeof child === 'object' && !Object.isFrozen(child)) deepFreeze(child);
    }
  }
  return value;
}
