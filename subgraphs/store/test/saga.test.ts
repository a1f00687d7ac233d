/**
 * The order's status follows the saga: the test appends payment and inventory events to the
 * event store as those services would, sends the orchestrator's commands on the bus, and watches
 * the order change. Last, the read model these events built is compared with one rebuilt from
 * the log (every event type the projection handles has been seen by then).
 */
import { newCommand } from '@magasin/messaging';
import { diffProjection, rebuildProjection } from '@magasin/subgraph-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderStream } from '../src/domain/order-id.ts';
import { projection } from '../src/service.ts';
import { alice, bob, CANCEL_ORDER, codeOf, MUG, type StoreHarness, startStoreHarness } from './harness.ts';

let h: StoreHarness;
beforeAll(async () => {
  h = await startStoreHarness('store_saga');
});
afterAll(async () => {
  await h?.stop();
});

describe('the order follows the saga', () => {
  it('PaymentCaptured confirms the order once, however often it is delivered; a confirmed order cannot be cancelled', async () => {
    const order = await h.placeOrder(alice);
    const captured = await h.appendAsPeer(`payment-${order.id}`, 'PaymentCaptured', {
      paymentId: 'pay-1',
      orderId: order.id,
      amountCents: order.totalCents,
    });
    await h.orderWithStatus(order.id, 'CONFIRMED');
    const { events } = await h.backbone.eventStore.readStream(orderStream(order.id));
    expect(events.at(-1)).toMatchObject({
      type: 'OrderConfirmed',
      correlationId: order.id,
      causationId: captured.eventId,
      actor: 'service:store',
      data: { orderId: order.id, paymentId: 'pay-1', totalCents: order.totalCents },
    });

    // The same capture again (a peer's retry): once the store has handled it, nothing new was decided.
    const again = await h.appendAsPeer(`payment-${order.id}`, 'PaymentCaptured', {
      paymentId: 'pay-1',
      orderId: order.id,
      amountCents: order.totalCents,
    });
    await h.handled(again.eventId);
    expect(await h.typesIn(order.id)).toEqual(['OrderPlaced', 'OrderConfirmed']);
    expect(codeOf(await h.as(alice)(CANCEL_ORDER, { orderId: order.id }))).toBe('CONFLICT');

    // The return saga's last step, twice: RETURNED once.
    const markReturned = () =>
      newCommand(
        'MarkOrderReturned',
        { orderId: order.id, returnId: 'ret-1' },
        { actor: 'service:saga', correlationId: order.id },
      );
    await h.saga.sendCommands([markReturned()]);
    await h.orderWithStatus(order.id, 'RETURNED');
    const repeated = markReturned();
    await h.saga.sendCommands([repeated]);
    await h.handled(repeated.commandId);
    expect(await h.typesIn(order.id)).toEqual(['OrderPlaced', 'OrderConfirmed', 'OrderReturned']);
  });

  it('StockReservationRejected cancels the order with STOCK_UNAVAILABLE', async () => {
    const order = await h.placeOrder(alice, { lines: [{ productId: MUG, quantity: 9 }] });
    await h.appendAsPeer('inventory', 'StockReservationRejected', {
      orderId: order.id,
      reason: 'insufficient stock',
      shortages: [{ productId: MUG, requested: 9, available: 2 }],
    });
    expect((await h.orderWithStatus(order.id, 'CANCELLED')).cancellationReason).toBe('STOCK_UNAVAILABLE');
    const { events } = await h.backbone.eventStore.readStream(orderStream(order.id));
    expect(events.at(-1)?.data).toEqual({
      orderId: order.id,
      reason: 'STOCK_UNAVAILABLE',
      detail: `${MUG}: 9 requested, 2 available`,
    });
  });

  it('PaymentDeclined cancels the order with PAYMENT_DECLINED', async () => {
    const order = await h.placeOrder(alice, { paymentToken: 'tok_declined' });
    await h.appendAsPeer(`payment-${order.id}`, 'PaymentDeclined', {
      paymentId: 'pay-2',
      orderId: order.id,
      amountCents: order.totalCents,
      reason: 'card declined',
    });
    expect((await h.orderWithStatus(order.id, 'CANCELLED')).cancellationReason).toBe('PAYMENT_DECLINED');
  });

  it("the orchestrator's CancelOrder cancels a pending order with its reason", async () => {
    const order = await h.placeOrder(bob, { paymentToken: 'tok_timeout' });
    await h.saga.sendCommands([
      newCommand(
        'CancelOrder',
        { orderId: order.id, reason: 'SAGA_TIMED_OUT' },
        { actor: 'service:saga', correlationId: order.id },
      ),
    ]);
    expect((await h.orderWithStatus(order.id, 'CANCELLED')).cancellationReason).toBe('SAGA_TIMED_OUT');
  });
});

describe('the read model', () => {
  it('matches the Prisma schema: every model written and read back through the client', async () => {
    const prisma = h.running.deps.prisma;
    const rollback = new Error('rollback');
    const error = await prisma
      .$transaction(async (tx) => {
        const product = { productId: 'schema-p', sku: 'S', name: 'Schema', priceCents: 1 };
        expect(await tx.catalogProduct.create({ data: product })).toEqual(product);
        const order = {
          id: 'schema-o',
          customerId: 'c',
          status: 'RETURNED',
          totalCents: 2,
          currency: 'EUR',
          placedAt: new Date('2026-11-25T10:00:00.123Z'),
          placedPosition: 9_007_199_254_740_993n,
          paymentId: 'p',
          cancelReason: 'CUSTOMER_REQUEST',
          cancelDetail: 'd',
          returnId: 'r',
          updatedAt: new Date('2026-11-25T11:00:00.456Z'),
        };
        const line = {
          orderId: 'schema-o',
          lineNo: 1,
          productId: 'schema-p',
          quantity: 2,
          unitPriceCents: 1,
        };
        const { orderId: _orderId, ...ownLine } = line;
        await tx.order.create({ data: { ...order, lines: { create: [ownLine] } } });
        expect(await tx.order.findUnique({ where: { id: 'schema-o' }, include: { lines: true } })).toEqual({
          ...order,
          lines: [line],
        });
        throw rollback;
      })
      .catch((caught: unknown) => caught);
    expect(error).toBe(rollback);
  });

  it('rebuilt from the log, equals the live one', async () => {
    const rebuilt = await rebuildProjection({
      projection,
      databaseUrl: h.config.databaseUrl,
      eventStore: h.backbone.eventStore,
    });
    expect(rebuilt.events).toBeGreaterThan(0);
    await h.running.deps.projector.waitForPosition(rebuilt.position);
    expect(await diffProjection({ databaseUrl: h.config.databaseUrl, schema: rebuilt.schema })).toEqual([]);

    // And the comparison does see a difference when there is one.
    const [order] = await h.running.deps.prisma.order.findMany({ take: 1 });
    if (!order) throw new Error('no order projected');
    await h.running.deps.prisma.order.update({
      where: { id: order.id },
      data: { totalCents: order.totalCents + 1 },
    });
    const again = await rebuildProjection({
      projection,
      databaseUrl: h.config.databaseUrl,
      eventStore: h.backbone.eventStore,
    });
    const differences = await diffProjection({ databaseUrl: h.config.databaseUrl, schema: again.schema });
    await h.running.deps.prisma.order.update({
      where: { id: order.id },
      data: { totalCents: order.totalCents },
    });
    expect(differences).toHaveLength(2);
    expect(differences.join('\n')).toContain(order.id);
  });
});
