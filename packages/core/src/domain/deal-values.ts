import type { Money } from '../schema/primitives.js';
import type { LineItem, LineItemInput } from '../schema/deal.js';
import type { Pipeline, Stage } from '../schema/pipeline.js';
import { compact } from './records.js';
import { lineTotal, sumAmounts, weightedAmount } from './money.js';

/** Prices line items: each gets its `total` (half-even, integer arithmetic). */
export function priceLineItems(items: readonly LineItemInput[]): LineItem[] {
  return items.map((item) =>
    compact({
      productRef: item.productRef,
      name: item.name,
      quantity: item.quantity,
      unitPrice: item.unitPrice,
      discountPercent: item.discountPercent,
      total: lineTotal(item.quantity, item.unitPrice, item.discountPercent ?? 0),
    }),
  );
}

/** The deal amount: the sum of its line items when it has any, else the given value (or zero). */
export function dealAmount(lineItems: readonly LineItem[], value: Money | undefined): number {
  if (lineItems.length > 0) return sumAmounts(lineItems.map((l) => l.total));
  return value?.amount ?? 0;
}

/** Finds a stage by key. */
export function findStage(pipeline: Pipeline, key: string): Stage | undefined {
  return pipeline.stages.find((s) => s.key === key);
}

/** The first open stage, where new deals start by default. */
export function firstOpenStage(pipeline: Pipeline): Stage | undefined {
  return pipeline.stages.find((s) => s.kind === 'open');
}

/** Money-derived fields of a deal for an amount, currency and probability. */
export function valueFields(amount: number, currency: string, probability: number): { value: Money; weightedValue: Money } {
  return { value: { amount, currency }, weightedValue: { amount: weightedAmount(amount, probability), currency } };
}
