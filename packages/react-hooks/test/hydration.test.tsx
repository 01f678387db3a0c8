import { act } from '@testing-library/react';
import { hydrateRoot } from 'react-dom/client';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';
import { CrmProvider } from '@crmkit/react-hooks';
import { loadServerData, Page } from './fixtures.js';
import { settled } from './helpers.js';

describe('hydration', () => {
  it('hydrates server HTML without mismatches, then follows live changes', async () => {
    const data = await loadServerData();
    const { crm } = data;
    const ui = (
      <CrmProvider crm={crm}>
        <Page data={data} />
      </CrmProvider>
    );
    const container = document.createElement('div');
    container.innerHTML = renderToString(ui);
    document.body.appendChild(container);
    const serverHtml = container.innerHTML;
    const recoverable = vi.fn();
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    let root!: ReturnType<typeof hydrateRoot>;
    await act(async () => {
      root = hydrateRoot(container, ui, { onRecoverableError: recoverable });
    });
    await settled(() => undefined);
    expect(recoverable).not.toHaveBeenCalled();
    expect(consoleError).not.toHaveBeenCalled();
    expect(container.innerHTML).toBe(serverHtml); // fetched data equals the server's: nothing changed

    await settled(() => crm.deals.update(data.deal.id, { title: 'Renamed live' }));
    expect(container.querySelector('h1')!.textContent).toBe('Renamed live');
    expect(container.querySelector('li')!.textContent).toBe('Renamed live');
    act(() => root.unmount());
    consoleError.mockRestore();
    container.remove();
  });
});
