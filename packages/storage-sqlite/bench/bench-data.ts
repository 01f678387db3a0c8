import type { DealCreateInput } from '@crmkit/core';
import type { Row } from '@crmkit/core/storage';

/** A small seeded PRNG (mulberry32): the same run generates the same data. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const OPEN_STAGES = ['lead', 'qualified', 'meeting', 'proposal', 'negotiation', 'contract'] as const;
const CURRENCIES = ['EUR', 'USD', 'GBP'];
const TAGS = ['vip', 'b2b', 'retail', 'partner', 'churn-risk'];
const WORDS = ['chairs', 'desks', 'licences', 'support', 'rollout', 'laptops', 'servers', 'training', 'renewal', 'upgrade'];

/** `n` valid inputs for `crm.imports.deals`, spread over the open stages of one pipeline. */
export function dealInputs(n: number, pipelineId: string, seed = 1): DealCreateInput[] {
  const rnd = seeded(seed);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  return Array.from({ length: n }, (_, i) => ({
    title: `${Math.ceil(rnd() * 200)} ${pick(WORDS)} for customer ${i}`,
    pipelineId,
    stageKey: pick(OPEN_STAGES),
    ownerId: `u${Math.floor(rnd() * 50)}`,
    value: { amount: Math.floor(rnd() * 10_000_000), currency: pick(CURRENCIES) },
    expectedCloseDate: `2027-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-15`,
    source: pick(['web', 'shop', 'call', 'import']),
    tags: rnd() < 0.3 ? [pick(TAGS)] : [],
  }));
}

/** A stored deal row as crmkit writes it (for generating the 1M-deal database without the event log). */
export function dealRow(i: number, tenantId: string, pipelineId: string, stageKey: string, rnd: () => number): Row {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rnd() * items.length)]!;
  const currency = pick(CURRENCIES);
  const amount = Math.floor(rnd() * 10_000_000);
  const probability = stageKey === 'won' ? 100 : stageKey === 'lost' ? 0 : 10 + OPEN_STAGES.indexOf(stageKey as (typeof OPEN_STAGES)[number]) * 15;
  const ms = Date.UTC(2024, 0, 1) + Math.floor(rnd() * 730 * 86_400_000);
  const at = new Date(ms).toISOString();
  const status = stageKey === 'won' ? 'won' : stageKey === 'lost' ? 'lost' : 'open';
  return {
    id: `deal_${String(i).padStart(8, '0')}`,
    tenantId,
    version: 1,
    createdAt: at,
    updatedAt: at,
    title: `${Math.ceil(rnd() * 200)} ${pick(WORDS)} for customer ${i}`,
    pipelineId,
    stageKey,
    status,
    ownerId: `u${Math.floor(rnd() * 50)}`,
    value: { amount, currency },
    weightedValue: { amount: Math.round((amount * probability) / 100), currency },
    lineItems: [],
    probability,
    probabilityManual: false,
    expectedCloseDate: `2027-${String(1 + Math.floor(rnd() * 12)).padStart(2, '0')}-15`,
    stageEnteredAt: at,
    lastActivityAt: at,
    postponeCount: 0,
    stagePostponeCount: 0,
    source: pick(['web', 'shop', 'call', 'import']),
    tags: rnd() < 0.3 ? [pick(TAGS)] : [],
    custom: {},
    ...(status === 'open' ? {} : { closedAt: at }),
  } as Row;
}
