import { describe, expect, it } from 'vitest';
import { examples, run } from './docs-runner.js';

// Sections of docs/integration.md are owned by different features; each is checked on its own.
describe.each(['External ids'])('docs/integration.md, "%s" examples', (section) => {
  const blocks = examples('integration.md', section);
  it('has examples, each followed by what it prints', () => {
    expect(blocks.length).toBeGreaterThan(1);
    for (const block of blocks) expect(block.prints, block.code.slice(0, 200)).toBeDefined();
  });
  it.each(blocks.map((b, i) => [i + 1, b] as const))('example %i runs and prints what the guide says', async (_, block) => {
    expect(await run(block.code)).toBe(block.prints);
  });
});
