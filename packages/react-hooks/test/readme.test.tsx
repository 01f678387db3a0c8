import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { act, screen, within } from '@testing-library/react';
import { expect, it } from 'vitest';
import { settled } from './helpers.js';
import { start } from './readme-example.js';

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), 'utf8');

it('the README example is this file, verbatim', () => {
  expect(read('../README.md')).toContain('```tsx\n' + read('./readme-example.tsx') + '```');
});

it('the README example runs: the board renders, a move works, a refused move rolls back with the error', async () => {
  const element = document.body.appendChild(document.createElement('div'));
  const crm = await settled(() => start(element));
  await settled(() => undefined);
  const [fresh, proposal] = screen.getAllByRole('heading');
  expect(fresh!.textContent).toBe('New (2) 1400.00 EUR, weighted 140.00 EUR');
  expect(proposal!.textContent).toBe('Proposal (0) ');

  await settled(() => within(screen.getByText(/^Chairs/)).getByRole('button').click());
  expect(screen.getAllByRole('heading')[1]!.textContent).toBe('Proposal (1) 500.00 EUR, weighted 300.00 EUR');

  await settled(() => within(screen.getByText(/^Desks/)).getByRole('button').click());
  expect(screen.getByRole('alert').textContent).toBe('Rule violated: Needs a contact');
  expect(screen.getAllByRole('heading')[0]!.textContent).toBe('New (1) 900.00 EUR, weighted 90.00 EUR');
  await act(async () => {
    await crm.close();
  });
  element.remove();
});
