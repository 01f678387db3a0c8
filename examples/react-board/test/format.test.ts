import { describe, expect, it } from 'vitest';
import { formatMoney } from '../src/format.js';

describe('react-board formatting', () => {
  it('shows an amount, and a dash for a deal without one (a value hidden by field rules) instead of throwing', () => {
    expect(formatMoney({ amount: 123_456, currency: 'EUR' })).toBe('€1,234.56');
    // A projected deal row lacks `value` and `weightedValue`: the card and the panel render "—".
    const hidden = {} as { value?: { amount: number; currency: string } };
    expect(formatMoney(hidden.value)).toBe('—');
  });
});
