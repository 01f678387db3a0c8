/** Types of scripts/bundle-size.mjs, for the TypeScript that measures through it (storage-indexeddb's bench). */
export interface SizeTarget {
  readonly name: string;
  readonly code: string;
  readonly budget: number;
  readonly goal?: number;
  readonly base?: string;
  readonly external?: readonly string[];
}
/** One target measured: bytes of the minified bundle, gzip -9 bytes, and whether they are within the budget. */
export type SizeResult = { readonly name: string; readonly ok: boolean } & (
  | { readonly min: number; readonly gzip: number; readonly budget: number; readonly goal?: number; readonly error?: undefined }
  | { readonly error: string }
);
export const targets: readonly SizeTarget[];
export function measureTargets(selected?: readonly SizeTarget[], packages?: readonly string[], name?: string): Promise<SizeResult[]>;
