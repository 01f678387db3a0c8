import { Immer } from 'immer';

/**
 * crmkit's own immer instance, with auto-freezing off. Records reach the domain as fresh JSON from the
 * SQL and IndexedDB adapters, or deep-frozen by the memory adapter (which freezes what it stores), so
 * freezing every produced copy again guarded nothing on the first and was redundant on the second,
 * while it walked whole records: about 4 % of the CPU of a committed `deals.advance` on SQLite (V8
 * profile). A private instance also leaves a host app's own immer settings alone.
 */
const immer = new Immer({ autoFreeze: false });

/** immer's `produce` on crmkit's instance. */
export const produce: Immer['produce'] = immer.produce;
