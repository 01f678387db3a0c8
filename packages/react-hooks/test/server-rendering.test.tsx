// @vitest-environment node
import { renderToString } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { CrmProvider } from '@crmkit/react-hooks';
import { loadServerData, Page } from './fixtures.js';
import { salesCrm } from './helpers.js';

/** The HTML without React's text separators. */
const text = (html: string) => html.replaceAll('<!-- -->', '');

describe('server rendering (renderToString, Node)', () => {
  it('renders the data passed in, without fetching or subscribing', async () => {
    const data = await loadServerData();
    const empty = await salesCrm(); // the rendering CRM holds none of the data
    const before = empty.storage.listeners();
    const html = text(
      renderToString(
        <CrmProvider crm={empty.crm}>
          <Page data={data} />
        </CrmProvider>,
      ),
    );
    expect(html).toContain('<h1>Server deal</h1>');
    expect(html).toContain('deals: Second deal, Server deal');
    expect(html).toContain('agenda: Server task');
    expect(html).toContain('timeline: task.created, deal.created');
    expect(html).toContain('board: success');
    expect(html).toMatch(/<h3>New \(1\) 12000 EUR<\/h3><ul><li>Server deal<\/li><\/ul>/);
    expect(html).toMatch(/<h3>Proposal \(1\) 8000 EUR<\/h3><ul><li>Second deal<\/li><\/ul>/);
    expect(empty.storage.listeners()).toBe(before);
  });

  it('without data, renders explicit loading states', async () => {
    const data = await loadServerData();
    const html = text(
      renderToString(
        <CrmProvider crm={data.crm}>
          <Page data={data} withInitialData={false} />
        </CrmProvider>,
      ),
    );
    expect(html).toContain('<h1>loading</h1>');
    expect(html).toContain('deals: loading');
    expect(html).toContain('board: loading');
    expect(html).not.toContain('<section>');
  });
});
