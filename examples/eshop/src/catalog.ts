/** The shop's products, prices in cents. */
export const CATALOG = {
  'CHAIR-ERGO': { name: 'Ergonomic chair', price: 249_00 },
  'DESK-OAK': { name: 'Oak standing desk', price: 689_00 },
  'LAMP-LED': { name: 'LED desk lamp', price: 39_90 },
  'INSTALL': { name: 'Assembly service', price: 120_00 },
} as const;

export type Sku = keyof typeof CATALOG;

/** What a visitor submits at checkout when they ask for a quote. */
export interface OrderRequest {
  readonly customer: { readonly name: string; readonly email: string; readonly phone?: string; readonly company?: string };
  readonly cart: readonly { readonly sku: Sku; readonly quantity: number }[];
  readonly comment?: string;
}

/** Sample requests the demo processes on each run. */
export const SAMPLE_REQUESTS: readonly OrderRequest[] = [
  {
    customer: { name: 'Ada Lovelace', email: 'ada@analytical-engines.co.uk', phone: '+44 20 7946 0958', company: 'Analytical Engines Ltd' },
    cart: [{ sku: 'CHAIR-ERGO', quantity: 12 }, { sku: 'DESK-OAK', quantity: 12 }, { sku: 'INSTALL', quantity: 1 }],
    comment: 'New office in Camden, need everything by March.',
  },
  {
    customer: { name: 'Grace Hopper', email: 'grace.hopper+shop@gmail.com', phone: '+1 (202) 555-0142' },
    cart: [{ sku: 'LAMP-LED', quantity: 3 }],
  },
  {
    customer: { name: 'Charles Babbage', email: 'charles@analytical-engines.co.uk', company: 'Analytical Engines' },
    cart: [{ sku: 'CHAIR-ERGO', quantity: 4 }],
  },
];
