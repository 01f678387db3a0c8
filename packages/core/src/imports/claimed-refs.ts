import { externalKeyOf, type ExternalRef } from '../schema/external-ref.js';

/** The external refs rows of a dry run wrote (rolled back with their chunk), by key: which row's record holds each. */
export interface ClaimedRefs {
  /** The earlier row whose record (not `recordId`) holds one of `refs`, if any. */
  holder(refs: readonly ExternalRef[], recordId: string | undefined): { row: number; key: string } | undefined;
  /** Records that the row's record holds `refs`. */
  claim(refs: readonly ExternalRef[], recordId: string, row: number): void;
}

/**
 * A dry run rolls each chunk back, so a later chunk no longer sees the refs an earlier one wrote, where
 * the real run's storage refuses them (`CONFLICT`): the run remembers them to give the same verdict.
 */
export function claimedRefs(): ClaimedRefs {
  const claims = new Map<string, { row: number; recordId: string }>();
  return {
    holder(refs, recordId) {
      for (const ref of refs) {
        const key = externalKeyOf(ref);
        const claim = claims.get(key);
        if (claim && claim.recordId !== recordId) return { row: claim.row, key };
      }
      return undefined;
    },
    claim(refs, recordId, row) {
      for (const ref of refs) if (!claims.has(externalKeyOf(ref))) claims.set(externalKeyOf(ref), { row, recordId });
    },
  };
}
