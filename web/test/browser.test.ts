/**
 * The web app in Debian's Chromium against the whole stack (every service as a process, fresh
 * databases and vhost), served by the gateway from the built web/dist: ordering with each card
 * of the simulated processor and watching the saga live, a lost WebSocket, the admin pages.
 * Screenshots of the timelines land in artifacts/web/.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Stack, startStack, typedGatewayClient } from '@magasin/e2e';
import { CreateProductDocument } from '@magasin/events/operations';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildWebAppIfStale, WEB_DIR } from '../build-state.ts';

const ARTIFACTS = join(WEB_DIR, '..', 'artifacts', 'web');
/** Short enough for the timeout test, long enough for a loaded CI machine to capture in time. */
const SAGA_STEP_TIMEOUT_MS = 6_000;

/** expect.poll's default (1 s) is shorter than a projection may lag on a busy machine. */
const EVENTUALLY = { timeout: 10_000 };

let stack: Stack;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

const KETTLE = { sku: 'WEB-KET', name: 'Browser kettle', priceCents: 2_990, initialStock: 5 };
const TEA = { sku: 'WEB-TEA', name: 'Browser tea', priceCents: 650, initialStock: 4 };
const MUG = { sku: 'WEB-MUG', name: 'Browser mug', priceCents: 1_200, initialStock: 3 };

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  // Built before the gateway starts: it serves web/dist when it is there.
  console.info(`web app: ${await buildWebAppIfStale()}`);
  [stack, browser] = await Promise.all([
    startStack('webui', {
      env: { SAGA_STEP_TIMEOUT_MS: String(SAGA_STEP_TIMEOUT_MS) },
    }),
    chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    }),
  ]);
  const admin = await typedGatewayClient(stack.gatewayUrl, { sub: 'ada', roles: ['admin'] });
  for (const input of [KETTLE, TEA, MUG]) await admin.request(CreateProductDocument, { input });
  await admin.close();
}, 120_000);

afterEach((context) => {
  if (context.task.result?.state === 'fail') {
    console.error(
      `browser errors: ${pageErrors.join('\n') || 'none'}\nstack logs:\n${stack?.logs().slice(-20_000)}`,
    );
  }
});

afterAll(async () => {
  await Promise.all(contexts.map((context) => context.close()));
  await browser?.close();
  await stack?.stop();
});

/** A fresh browser context on the app, signed in as a demo user; `prepare` runs before the app loads. */
const signedIn = async (
  user: 'alice' | 'bob' | 'ada',
  prepare?: (page: Page) => Promise<void>,
): Promise<Page> => {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`${user}: ${error.message}`));
  page.on('console', (message) => {
    // The app's Content-Security-Policy (same origin only) must hold: no violation reported.
    if (message.type() === 'error' && /Content Security Policy/i.test(message.text())) {
      pageErrors.push(`${user}: ${message.text()}`);
    }
  });
  await prepare?.(page);
  await page.goto(`${stack.urls.gateway}/`);
  await page.getByTestId(`sign-in-${user}`).click();
  await expect.poll(() => page.getByTestId('signed-in-as').textContent(), EVENTUALLY).toContain(user);
  return page;
};

const productCard = (page: Page, sku: string) => page.getByTestId(`product-${sku}`);

/** Adds `quantity` units of `sku` from the catalog and places the order with `card`; the order id. */
const order = async (page: Page, sku: string, quantity: number, card: string): Promise<string> => {
  await page.goto(`${stack.urls.gateway}/#/`);
  for (let unit = 0; unit < quantity; unit += 1)
    await productCard(page, sku).getByTestId('add-to-cart').click();
  await page.getByTestId('nav-cart').click();
  await page.getByTestId(`card-${card}`).check();
  // A product created a moment ago may not have reached the store yet: the page says to try again.
  for (let attempt = 1; ; attempt += 1) {
    await page.getByTestId('place-order').click();
    const outcome = await Promise.race([
      page.waitForURL(/#\/orders\/.+/).then(() => 'placed' as const),
      page
        .getByTestId('error')
        .waitFor()
        .then(() => 'error' as const),
    ]);
    if (outcome === 'placed') break;
    const message = await page.getByTestId('error').textContent();
    if (attempt >= 10 || !message?.includes('try again shortly'))
      throw new Error(`the order failed: ${message}`);
    await page.waitForTimeout(300);
  }
  return decodeURIComponent(page.url().split('#/orders/')[1] ?? '');
};

/** The steps of the timeline on screen: "name:status". */
const stepsOnScreen = (page: Page): Promise<string[]> =>
  page
    .getByTestId('saga-step')
    .evaluateAll((steps) =>
      steps.map((step) => `${step.getAttribute('data-step')}:${step.getAttribute('data-status')}`),
    );

/** Records how many steps the timeline shows each time it changes (to prove it grew live). */
const recordStepCounts = (page: Page) =>
  page.evaluate(() => {
    const counts: number[] = [];
    (window as unknown as { stepCounts: number[] }).stepCounts = counts;
    new MutationObserver(() => {
      const count = document.querySelectorAll('[data-testid="saga-step"]').length;
      if (count > 0 && counts[counts.length - 1] !== count) counts.push(count);
    }).observe(document, { childList: true, subtree: true });
  });

const availableInCatalog = async (page: Page, sku: string): Promise<number> =>
  Number(await productCard(page, sku).getByTestId('stock-available').textContent());

describe('the web app in Chromium', () => {
  it('places an order and follows its saga live until COMPLETED', { timeout: 60_000 }, async () => {
    const page = await signedIn('alice');
    await recordStepCounts(page);
    const orderId = await order(page, KETTLE.sku, 1, 'tok_visa');
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);

    const timeline = page.getByTestId('saga-timeline');
    await timeline.and(page.locator('[data-status="COMPLETED"]')).waitFor({ timeout: 30_000 });
    // Steps are in the order the orchestrator recorded them; the services run some concurrently.
    const steps = await stepsOnScreen(page);
    expect(steps[0]).toBe('OrderPlaced:DONE');
    expect(steps.at(-1)).toBe('SagaCompleted:COMPLETED');
    expect([...steps].sort()).toEqual(
      [
        'OrderPlaced:DONE',
        'StockReserved:DONE',
        'PaymentCaptured:DONE',
        'OrderConfirmed:DONE',
        'StockCommitted:DONE',
        'SaleRecorded:DONE',
        'SagaCompleted:COMPLETED',
      ].sort(),
    );
    await expect
      .poll(() => page.getByTestId('saga-outcome').textContent(), EVENTUALLY)
      .toContain('Order confirmed');
    await expect.poll(() => page.getByTestId('order-status').textContent(), EVENTUALLY).toBe('CONFIRMED');
    await expect.poll(() => page.getByTestId('payment-status').textContent(), EVENTUALLY).toBe('captured');
    // The steps arrived one update after another, not as one finished list.
    const counts = await page.evaluate(() => (window as unknown as { stepCounts: number[] }).stepCounts);
    expect(counts.length).toBeGreaterThan(1);
    expect(counts.at(-1)).toBe(7);
    await page.screenshot({
      path: join(ARTIFACTS, 'saga-timeline-completed.png'),
      fullPage: true,
      animations: 'disabled',
    });

    await page.goto(`${stack.urls.gateway}/#/`);
    await expect.poll(() => availableInCatalog(page, KETTLE.sku), EVENTUALLY).toBe(KETTLE.initialStock - 1);
    await page.goto(`${stack.urls.gateway}/#/orders`);
    await page.locator(`[data-order-id="${orderId}"][data-status="CONFIRMED"]`).waitFor();
  });

  it('shows a declined card as a cancellation, compensations included, and the stock back', {
    timeout: 60_000,
  }, async () => {
    const page = await signedIn('bob');
    const orderId = await order(page, TEA.sku, 2, 'tok_declined');

    await page
      .getByTestId('saga-timeline')
      .and(page.locator('[data-status="CANCELLED"]'))
      .waitFor({ timeout: 30_000 });
    const steps = await stepsOnScreen(page);
    const names = steps.map((step) => step.split(':')[0]);
    expect(steps.slice(0, 2)).toEqual(['OrderPlaced:DONE', 'StockReserved:DONE']);
    expect(names).toEqual(expect.arrayContaining(['StockReleased', 'OrderCancelled']));
    expect(steps.at(-1)).toBe('SagaCompleted:CANCELLED');
    // The decline fails the saga and what follows undoes the reservation, shown as compensations.
    // (Which of PaymentDeclined, StockReleased, OrderCancelled the orchestrator records first
    // depends on the queues; see the report.)
    expect(steps).toEqual(
      expect.arrayContaining([expect.stringMatching(/^(PaymentDeclined|OrderCancelled):FAILED$/)]),
    );
    expect(steps).toEqual(expect.arrayContaining([expect.stringMatching(/:COMPENSATED$/)]));
    const outcome = await page.getByTestId('saga-outcome').textContent();
    expect(outcome).toContain('Card declined: order cancelled');
    expect(outcome).toContain('reserved stock put back');
    await expect.poll(() => page.getByTestId('order-status').textContent(), EVENTUALLY).toBe('CANCELLED');
    await expect.poll(() => page.getByTestId('payment-status').textContent(), EVENTUALLY).toBe('declined');
    await page.getByTestId('stock-back').waitFor();
    await expect
      .poll(() => page.getByTestId(`stock-now-${TEA.sku}`).textContent(), { timeout: 10_000 })
      .toBe(String(TEA.initialStock));
    await page.screenshot({
      path: join(ARTIFACTS, 'saga-timeline-declined.png'),
      fullPage: true,
      animations: 'disabled',
    });

    await page.goto(`${stack.urls.gateway}/#/`);
    await expect.poll(() => availableInCatalog(page, TEA.sku), EVENTUALLY).toBe(TEA.initialStock);
    await page.goto(`${stack.urls.gateway}/#/orders`);
    await page.locator(`[data-order-id="${orderId}"][data-status="CANCELLED"]`).waitFor();
  });

  it('says when the live connection drops, reconnects, and shows a timed-out saga compensating', {
    timeout: 60_000,
  }, async () => {
    // Every WebSocket of the page goes through here, so that the test can cut it.
    const sockets: { cut(): Promise<void> }[] = [];
    const page = await signedIn('alice', (page) =>
      page.routeWebSocket(/\/graphql$/, (socket) => {
        const server = socket.connectToServer();
        sockets.push({
          cut: async () => {
            await server.close({ code: 1001, reason: 'cut by the test' });
            await socket.close({ code: 1012, reason: 'cut by the test' });
          },
        });
      }),
    );
    await order(page, MUG.sku, 1, 'tok_timeout');
    await page.getByTestId('saga-step').first().waitFor();
    expect(await page.getByTestId('saga-timeline').getAttribute('data-status')).toBe('RUNNING');

    await sockets.at(-1)?.cut();
    const banner = page.getByTestId('connection-banner');
    await banner.and(page.locator('[data-state="reconnecting"]')).waitFor({ timeout: 5_000 });
    expect(await banner.textContent()).toContain('Connection to the gateway lost');
    await banner.and(page.locator('[data-state="reconnected"]')).waitFor({ timeout: 10_000 });
    expect(sockets.length).toBeGreaterThan(1);

    // The resubscribed timeline carries on to the timeout and its compensation.
    await page
      .getByTestId('saga-timeline')
      .and(page.locator('[data-status="TIMED_OUT"]'))
      .waitFor({ timeout: SAGA_STEP_TIMEOUT_MS + 20_000 });
    const steps = await stepsOnScreen(page);
    expect(steps.slice(0, 2)).toEqual(['OrderPlaced:DONE', 'StockReserved:DONE']);
    expect(steps).toContain('SagaTimedOut:TIMED_OUT');
    expect(steps).toContain('SagaCompensationRequested:REQUESTED');
    expect(steps.at(-1)).toBe('SagaCompleted:TIMED_OUT');
    expect(await page.getByTestId('saga-outcome').textContent()).toContain('Payment timed out');
    await page.screenshot({
      path: join(ARTIFACTS, 'saga-timeline-timed-out.png'),
      fullPage: true,
      animations: 'disabled',
    });
  });

  it('lets an admin add and restock a product and read the sales report', { timeout: 60_000 }, async () => {
    const page = await signedIn('ada');
    await page.getByRole('link', { name: 'Products' }).click();
    const form = page.getByTestId('create-product');
    await form.locator('input[name="sku"]').fill('WEB-POT');
    await form.locator('input[name="name"]').fill('Browser teapot');
    await form.locator('input[name="price"]').fill('49.50');
    await form.locator('input[name="stock"]').fill('2');
    await form.getByRole('button', { name: 'Add product' }).click();
    expect(await page.getByTestId('created').textContent()).toContain(
      'Browser teapot (WEB-POT) added with 2 in stock',
    );

    const row = page.getByTestId('admin-product-WEB-POT');
    await row.getByTestId('restock-quantity').fill('8');
    await row.getByTestId('restock').click();
    expect(await row.getByTestId('restocked').textContent()).toBe('+8: 10 available');
    await expect.poll(() => row.getByTestId('available').textContent(), EVENTUALLY).toBe('10');

    // The same sku again is refused with the store's reason.
    await form.locator('input[name="sku"]').fill('WEB-POT');
    await form.locator('input[name="name"]').fill('Another teapot');
    await form.locator('input[name="price"]').fill('1');
    await form.getByRole('button', { name: 'Add product' }).click();
    expect(await form.getByTestId('error').textContent()).toMatch(/not added.*WEB-POT/i);

    // The kettle sold in the first test is in the report.
    await page.getByRole('link', { name: 'Sales report' }).click();
    await expect.poll(() => page.getByTestId('sales-count').textContent(), { timeout: 15_000 }).toBe('1');
    expect(await page.getByTestId('gross').textContent()).toBe('€29.90');
    expect(await page.getByTestId('sales-lines').textContent()).toContain(KETTLE.name);
  });

  it('raised no error in the page and broke no content security rule', () => {
    expect(pageErrors).toEqual([]);
  });
});
