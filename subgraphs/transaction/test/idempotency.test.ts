/**
 * Whatever RabbitMQ redelivers, an order has one sale and a return one refund: the same message
 * twice (the inbox once the first is recorded, the ledger's state while both run at once) and a
 * second, distinct OrderConfirmed or RecordRefund for the same order and return (the ledger's
 * state).
 */
import { newEventId } from '@magasin/events';
import { newCommand } from '@magasin/messaging';
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ledgerStreamId } from '../src/domain/ledger.ts';
import {
  ADMIN,
  SALES_REPORT,
  type SalesReportAnswer,
  startTransactionFixture,
  type TransactionFixture,
} from './fixture.ts';

let fixture: TransactionFixture;

beforeAll(async () => {
  fixture = await startTransactionFixture('tx_idempotency');
});

afterAll(async () => {
  await fixture?.stop();
});

/** Resolves once the service's consumer has handled (and recorded in its inbox) `messageId`. */
const handled = (messageId: string) =>
  eventually(
    async () => {
      const rows = await fixture.service.deps.prisma.$queryRaw<{ message_id: string }[]>`
        SELECT message_id FROM inbox WHERE message_id = ${messageId}`;
      return rows.length > 0 ? true : undefined;
    },
    { what: `message ${messageId} handled` },
  );

/** Resolves once the consumer has settled `count` messages of `type` with one of `outcomes`. */
const consumed = (type: string, count: number, outcomes: readonly string[]) =>
  eventually(
    async () => {
      const metric = await fixture.service.deps.registry
        .getSingleMetric('magasin_messages_consumed_total')
        ?.get();
      const seen = (metric?.values ?? [])
        .filter((value) => value.labels.type === type && outcomes.includes(String(value.labels.outcome)))
        .reduce((sum, value) => sum + value.value, 0);
      return seen >= count ? true : undefined;
    },
    { what: `${count} ${type} settled (${outcomes.join(' or ')})` },
  );

const ledgerTypes = async (orderId: string) =>
  (await fixture.backbone.eventStore.readStream(ledgerStreamId(orderId))).events.map((event) => event.type);

const salesReport = async () => {
  await fixture.caughtUp();
  const answer = await fixture.graphql(ADMIN)<SalesReportAnswer>(SALES_REPORT);
  return answer.data?.salesReport;
};

describe('an order confirmed', () => {
  it('delivered twice records one sale', async () => {
    const { orderId, confirmed } = await fixture.confirmOrder('carol', [
      { productId: 'p-9', quantity: 4, unitPriceCents: 250 },
    ]);
    await fixture.ledgerEvents(orderId, 'SaleRecorded');

    // The same message again (a redelivery), then a distinct OrderConfirmed of the same order
    // (as if the first had been handled but not acknowledged, and its inbox row was lost).
    const copy = { ...confirmed, eventId: newEventId() };
    await fixture.bus.publishEvents([confirmed, copy]);
    await handled(copy.eventId);
    // The redelivery comes after the first was recorded: the inbox drops it.
    await consumed('OrderConfirmed', 1, ['duplicate']);

    expect(await ledgerTypes(orderId)).toEqual(['SaleRecorded']);
    expect(await salesReport()).toMatchObject({
      salesCount: 1,
      grossCents: 1_000,
      lines: [{ product: { id: 'p-9' }, quantity: 4, revenueCents: 1_000 }],
    });
  });
});

describe('a refund', () => {
  it('sent twice for the same return records one refund', async () => {
    const { orderId } = await fixture.confirmOrder('dave', [
      { productId: 'p-8', quantity: 1, unitPriceCents: 700 },
    ]);
    await fixture.ledgerEvents(orderId, 'SaleRecorded');
    const returnId = newEventId();
    const command = newCommand(
      'RecordRefund',
      { orderId, returnId, amountCents: 700 },
      { actor: 'service:saga', correlationId: orderId },
    );
    const again = { ...command, commandId: newEventId() };
    await fixture.bus.sendCommands([command, command, again]);
    await handled(command.commandId);
    await handled(again.commandId);
    // Both copies may run at once, before either is recorded: the ledger's state, not the inbox,
    // then keeps the second from refunding again.
    await consumed('RecordRefund', 3, ['ok', 'duplicate']);

    expect(await ledgerTypes(orderId)).toEqual(['SaleRecorded', 'RefundRecorded']);
    const report = await salesReport();
    expect(report).toMatchObject({ refundsCount: 1, refundedCents: 700 });
    expect(report?.lines.find((line) => line.product.id === 'p-8')).toMatchObject({
      quantity: 0,
      soldQuantity: 1,
      returnedQuantity: 1,
    });
  });
});
