import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../src/server.ts';
import { type FixtureSubgraphs, startFixtureSubgraphs } from './fixture/subgraphs.ts';
import { startTestGateway, token } from './helpers.ts';

let fixture: FixtureSubgraphs;
let gateway: RunningGateway;
let browser: Browser;

beforeAll(async () => {
  fixture = await startFixtureSubgraphs();
  fixture.world.products.set('p1', { id: 'p1', name: 'Kettle', priceCents: 2_500, available: 4 });
  fixture.world.orders.set('o1', {
    id: 'o1',
    customerId: 'alice',
    lines: [{ productId: 'p1', quantity: 1 }],
    status: 'PENDING',
  });
  fixture.world.sagas.publish({
    id: 'o1',
    status: 'RUNNING',
    steps: [{ name: 'OrderPlaced', status: 'DONE' }],
  });
  gateway = await startTestGateway(fixture, { PLAYGROUND: 'true' });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await gateway?.stop();
  await fixture?.stop();
});

describe('the playground', () => {
  it('answers browsers with GraphiQL and API clients with GraphQL', async () => {
    const page = await fetch(`${gateway.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const api = await fetch(`${gateway.url}/graphql?query=%7B__typename%7D`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await api.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('loads in Chromium from the gateway alone and runs a query', { timeout: 90_000 }, async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const foreign: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(gateway.url) && !request.url().startsWith('ws://127.0.0.1')) {
        foreign.push(request.url());
      }
    });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${gateway.url}/graphql`);
    await page.locator('.graphiql-container').waitFor({ timeout: 60_000 });
    // The first example (the catalog) is preloaded: run it.
    await page.locator('.graphiql-query-editor .view-lines').getByText('query Catalog').waitFor();
    const answered = page.waitForResponse(
      (response) => response.url() === `${gateway.url}/graphql` && response.request().method() === 'POST',
    );
    await page.locator('.graphiql-execute-button').click();
    const response = await answered;
    expect(await response.json()).toMatchObject({
      data: { products: [{ name: 'Kettle', priceCents: 2_500 }] },
    });
    await page.locator('.graphiql-response').getByText('"Kettle"').waitFor();

    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await context.close();
  });

  it('runs a subscription over WebSocket with the Authorization header of the headers editor', {
    timeout: 90_000,
  }, async () => {
    const bearer = await token('alice', ['customer']);
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${gateway.url}/graphql`);
    await page.locator('.graphiql-container').waitFor({ timeout: 60_000 });
    await page.locator('.graphiql-query-editor .view-lines').getByText('query Catalog').waitFor();

    await replaceEditorText(
      page,
      '.graphiql-query-editor',
      'subscription { orderSaga(orderId: "o1") { status order { lines { product { name } } } } }',
    );
    await page
      .getByRole('button', { name: /headers/i })
      .first()
      .click();
    await replaceEditorText(
      page,
      '.graphiql-editor-tool [data-uri*="headers"], .graphiql-editor-tool .graphiql-editor:visible',
      JSON.stringify({ Authorization: `Bearer ${bearer}` }),
    );

    const socket = page.waitForEvent('websocket');
    await page.locator('.graphiql-execute-button').click();
    expect((await socket).url()).toBe(`${gateway.url.replace('http', 'ws')}/graphql`);
    await page.locator('.graphiql-response').getByText('"RUNNING"').waitFor();
    await page.locator('.graphiql-response').getByText('"Kettle"').waitFor();

    fixture.world.sagas.publish({
      id: 'o1',
      status: 'COMPLETED',
      steps: [{ name: 'OrderPlaced', status: 'DONE' }],
    });
    await page.locator('.graphiql-response').getByText('"COMPLETED"').waitFor();
    await context.close();
  });
});

/** Replaces the whole text of the Monaco editor inside `selector`. */
const replaceEditorText = async (page: import('playwright-core').Page, selector: string, text: string) => {
  const editor = page.locator(selector).locator('.monaco-editor').first();
  await editor.click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
};
