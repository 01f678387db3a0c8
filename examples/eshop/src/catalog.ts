/** The shop's products, prices in cents. */
export const CATALOG = {
  'CHAIR-ERGO': { name: 'Ergonomic chair', price: 249_00 },
  'DESK-OAK': { name: 'Oak standing desk', price: 689_00 },
  'LAMP-LED': { name: 'LED desk lamp', price: 39_90 },
  'INSTALL': { name: 'Assembly service', price: 120_00 },
} as const;

export type Sku = keyof typeof CATALOG;

/** A checkout: the customer (an account, or a guest's details) and their cart. */
export interface Checkout {
  readonly customer: { readonly name: string; readonly email: string; readonly phone?: string; readonly company?: string };
  readonly cart: readonly { readonly sku: Sku; readonly quantity: number }[];
  readonly comment?: string;
}

/** The checkouts the demo places on each run (the shop's seeded customers buy again). */
export const SAMPLE_CHECKOUTS: readonly Checkout[] = [
  {
    customer: { name: 'Ada Lovelace', email: 'ada@analytical-engines.co.uk' },
    cart: [{ sku: 'CHAIR-ERGO', quantity: 12 }, { sku: 'DESK-OAK', quantity: 12 }, { sku: 'INSTALL', quantity: 1 }],
    comment: 'New office in Camden, need everything by March.',
  },
  // Grace checks out as a guest with another spelling of her Gmail address: the shop makes her a second account.
  { customer: { name: 'Grace Hopper', email: 'gracehopper@gmail.com' }, cart: [{ sku: 'LAMP-LED', quantity: 3 }] },
  { customer: { name: 'Charles Babbage', email: 'charles@analytical-engines.co.uk' }, cart: [{ sku: 'CHAIR-ERGO', quantity: 4 }] },
];
