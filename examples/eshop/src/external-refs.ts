import { isCrmError } from '@crmkit/core';

/** The system name the shop's ids are filed under in every crm record's `externalRefs`. */
export const SHOP = 'shop';

/** `shop` ids of the shop's rows: one namespace per table, so customer 7 and order 7 stay apart. */
export const shopRef = {
  customer: (id: number) => `customer-${id}`,
  order: (id: number) => `order-${id}`,
};

/**
 * A `getByExternalRef` lookup that answers "not linked yet" with `undefined` instead of `NOT_FOUND`.
 *
 * @param lookup `() => crm.contacts.getByExternalRef(SHOP, id)` or the same call of another entity.
 * @returns The linked record, or undefined when no record holds the ref.
 */
export async function findLinked<T>(lookup: () => Promise<T>): Promise<T | undefined> {
  try {
    return await lookup();
  } catch (error) {
    if (isCrmError(error, 'NOT_FOUND')) return undefined;
    throw error;
  }
}
