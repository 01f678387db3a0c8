/**
 * Types of queryable fields. `string[]` fields are lists (tags, multiselect, search keys) that support
 * `containsAny` and are indexed multi-entry.
 */
export type FieldType = 'string' | 'number' | 'boolean' | 'string[]';

/** Custom-field paths look like `custom.budget` or `custom.budget.amount`. */
export const CUSTOM_PATH_PATTERN = /^custom\.[a-z][a-zA-Z0-9_]{0,47}(\.(amount|currency))?$/;
