import { describe, expect, it } from 'vitest';
import { examples, run } from './docs-runner.js';

describe.each(['feed.md', 'webhooks.md'])('docs/%s examples', (file) => {
  const blocks = examples(file);
  it('has examples, each followed by what it prints', () => {
    expect(blocks.length).toBeGreaterThan(2);
    for (const block of blocks) expect(block.prints, block.code.slice(0, 200)).toBeDefined();
  });
  it.each(blocks.map((b, i) => [i + 1, b] as const))('example %i runs and prints what the guide says', async (_, block) => {
    expect(await run(block.code)).toBe(block.prints);
  });
});
