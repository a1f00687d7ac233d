import type { RecordedEvent } from '@magasin/event-store/client';
import type { CommandEnvelope, CommandPayloadOf } from '@magasin/events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ALICE,
  BOB,
  ITEMS,
  rebuildDifferences,
  SAGA_FIELDS,
  type SagaAnswer,
  type SagaFixture,
  startSagaFixture,
  stepNames,
  TOTAL_CENTS,
} from './fixture.ts';

let fixture: SagaFixture;
/** Whether a saga stream has ended (SagaCompleted, whatever the final status). */
const ended = (events: readonly RecordedEvent[]) => events.some((event) => event.type === 'SagaCompleted');
/** Return commands the fake services leave unanswered (a lost message), by command id. */
const ignored = new Set<string>();
/** How many times the RefundPayment of a return of each order is left unanswered before it is answered. */
const refundsToIgnore = new Map<string, number>();

beforeAll(async () => {
  fixture = await startSagaFixture('saga_return', { stepTimeoutMs: 1_000, returnStepAttempts: 3 });
  // Payment, inventory, the ledger and the store, answering the return saga's commands.
  fixture.commands.onCommand((command: CommandEnvelope) => {
    const payload = command.payload as { orderId: string; returnId?: string | null };
    const { orderId, returnId } = payload;
    if (!returnId) return;
    if (command.type === 'RefundPayment' && (refundsToIgnore.get(orderId) ?? 0) > 0) {
      refundsToIgnore.set(orderId, (refundsToIgnore.get(orderId) ?? 0) - 1);
      ignored.add(command.commandId);
      return;
    }
    const answer = async () => {
      switch (command.type) {
        case 'RefundPayment': {
          const { amountCents } = command.payload as CommandPayloadOf<'RefundPayment'>;
          await fixture.emit(orderId, 'PaymentRefunded', {
            paymentId: `pay-${orderId}`,
            orderId,
            amountCents,
            returnId,
          });
          return;
        }
        case 'RestockItems': {
          const { items } = command.payload as CommandPayloadOf<'RestockItems'>;
          await fixture.emit(orderId, 'StockReturned', { orderId, returnId, items });
          return;
        }
        case 'RecordRefund': {
          const { amountCents } = command.payload as CommandPayloadOf<'RecordRefund'>;
          await fixture.emit(orderId, 'RefundRecorded', {
            refundId: `refund-${returnId}`,
            orderId,
            returnId,
            amountCents,
          });
          return;
        }
        case 'MarkOrderReturned':
          await fixture.emit(orderId, 'OrderReturned', { orderId, returnId });
          return;
        default:
          return;
      }
    };
    answer().catch((error: unknown) => console.error('fake service failed to answer', command.type, error));
  });
});
afterAll(async () => {
  await fixture?.stop();
});

/**
 * An order whose saga completed: placed, reserved, captured, confirmed, sold, recorded. Its
 * deadlines are held meanwhile (see withDeadlinesHeld): under load these events can take longer
 * than this file's short step timeout to come through, and the order saga is not under test.
 */
const confirmedOrder = async (customerId = ALICE.sub) => {
  const orderId = await fixture.withDeadlinesHeld(async () => {
    const id = await fixture.placeOrder(customerId);
    await fixture.waitForSagaEvents(id, (events) => events.length > 0, 'order saga started');
    const paymentId = `pay-${id}`;
    await fixture.emit(id, 'StockReserved', { orderId: id, items: ITEMS });
    await fixture.emit(id, 'PaymentCaptured', { paymentId, orderId: id, amountCents: TOTAL_CENTS });
    await fixture.emit(id, 'OrderConfirmed', { orderId: id, paymentId, totalCents: TOTAL_CENTS });
    await fixture.emit(id, 'StockCommitted', { orderId: id, items: ITEMS });
    await fixture.emit(id, 'SaleRecorded', {
      saleId: `sale-${id}`,
      orderId: id,
      customerId,
      amountCents: TOTAL_CENTS,
    });
    await fixture.waitForSagaEvents(id, ended, 'order saga ended');
    return id;
  });
  await fixture.waitForSaga(orderId, (saga) => saga.status === 'COMPLETED', 'order saga COMPLETED');
  return orderId;
};

/** The steps that are not retries (a slow machine may retry any step). */
const doneSteps = (saga: SagaAnswer) =>
  saga.steps.filter((step) => step.status !== 'RETRIED').map((step) => [step.name, step.status]);

/** The first command of each type, in order (a retried step sends its command again). */
const firstOfEachType = (commands: CommandEnvelope[]) =>
  commands.filter((command, index) => commands.findIndex((other) => other.type === command.type) === index);

const REQUEST_RETURN = `mutation ($orderId: ID!) { requestReturn(orderId: $orderId) { ${SAGA_FIELDS} } }`;

const requestReturn = (identity: typeof ALICE, orderId: string) =>
  fixture.graphql(identity)<{ requestReturn: SagaAnswer }>(REQUEST_RETURN, { orderId });

describe('the return saga, orchestrated', () => {
  it('refunds, restocks, records the refund and marks the order returned, step by step', async () => {
    const orderId = await confirmedOrder();
    // No step is late here (that is the next tests'): the deadlines are held until the end.
    const answer = await fixture.withDeadlinesHeld(async () => {
      const requested = await requestReturn(ALICE, orderId);
      const id = requested.data?.requestReturn.id;
      if (id) await fixture.waitForSagaEvents(id, ended, 'return ended');
      return requested;
    });
    expect(answer.errors).toBeUndefined();
    const started = answer.data?.requestReturn;
    expect(started).toMatchObject({
      kind: 'RETURN',
      status: 'RUNNING',
      order: { id: orderId },
      endedAt: null,
    });
    expect(started?.steps.map((step) => [step.name, step.status, step.detail])).toEqual([
      ['ReturnRequested', 'DONE', `return of 3 item(s) of order ${orderId}: refund ${TOTAL_CENTS} cents`],
    ]);
    const returnId = started?.id as string;
    expect(returnId).not.toBe(orderId);

    const saga = await fixture.waitForSaga(
      returnId,
      (found) => found.status === 'COMPLETED',
      'return COMPLETED',
    );
    expect(doneSteps(saga)).toEqual([
      ['ReturnRequested', 'DONE'],
      ['PaymentRefunded', 'DONE'],
      ['StockReturned', 'DONE'],
      ['RefundRecorded', 'DONE'],
      ['OrderReturned', 'DONE'],
      ['SagaCompleted', 'COMPLETED'],
    ]);
    const commands = await fixture.commands.waitFor(orderId, undefined, 4);
    expect(firstOfEachType(commands).map((command) => [command.type, command.payload])).toEqual([
      ['RefundPayment', { orderId, returnId, amountCents: TOTAL_CENTS }],
      ['RestockItems', { orderId, returnId, items: ITEMS }],
      ['RecordRefund', { orderId, returnId, amountCents: TOTAL_CENTS }],
      ['MarkOrderReturned', { orderId, returnId }],
    ]);
    // The order stream: a return was requested, and the order is returned.
    const order = await fixture.backbone.eventStore.readStream(`order-${orderId}`);
    expect(order.events.map((event) => event.type)).toEqual([
      'OrderPlaced',
      'OrderConfirmed',
      'ReturnRequested',
      'OrderReturned',
    ]);
    const returns = await fixture.graphql(ALICE)<{
      _entities: { returnSagas: { id: string; status: string }[] }[];
    }>(
      `query ($r: [_Any!]!) { _entities(representations: $r) { ... on Order { returnSagas { id status } } } }`,
      { r: [{ __typename: 'Order', id: orderId }] },
    );
    expect(returns.data?._entities).toEqual([{ returnSagas: [{ id: returnId, status: 'COMPLETED' }] }]);
    // Returned: no second return.
    expect((await requestReturn(ALICE, orderId)).errors?.[0]?.extensions?.code).toBe('CONFLICT');
  });

  it('sends a step again when its answer does not come by the deadline, then carries on', async () => {
    const orderId = await confirmedOrder();
    refundsToIgnore.set(orderId, 1);
    const answer = await requestReturn(ADMIN, orderId);
    const returnId = answer.data?.requestReturn.id as string;
    // The refund is sent again by its deadline; the steps after it are not under test: from then
    // on the deadlines are held, so a slow answer cannot use up their attempts.
    await fixture.waitForSagaEvents(
      returnId,
      (events) => events.some((event) => event.type === 'SagaStepRetried'),
      'refund sent again',
    );
    await fixture.withDeadlinesHeld(() => fixture.waitForSagaEvents(returnId, ended, 'return ended'));
    const saga = await fixture.waitForSaga(
      returnId,
      (found) => found.status === 'COMPLETED',
      'return COMPLETED',
    );
    expect(saga.steps[1]).toMatchObject({ name: 'PaymentRefunded', status: 'RETRIED' });
    expect(doneSteps(saga)).toEqual([
      ['ReturnRequested', 'DONE'],
      ['PaymentRefunded', 'DONE'],
      ['StockReturned', 'DONE'],
      ['RefundRecorded', 'DONE'],
      ['OrderReturned', 'DONE'],
      ['SagaCompleted', 'COMPLETED'],
    ]);
    const refunds = await fixture.commands.waitFor(orderId, 'RefundPayment', 2);
    // Each attempt is a command of its own (a slow machine may need a third).
    expect(new Set(refunds.map((command) => command.commandId)).size).toBe(refunds.length);
    expect(ignored.has(refunds[0]?.commandId as string)).toBe(true);
  });

  it('times a return out when a step never answers, after its attempts', async () => {
    const orderId = await confirmedOrder();
    refundsToIgnore.set(orderId, 99);
    const returnId = (await requestReturn(ALICE, orderId)).data?.requestReturn.id as string;
    const saga = await fixture.waitForSaga(
      returnId,
      (found) => found.status === 'TIMED_OUT',
      'return TIMED_OUT',
    );
    expect(stepNames(saga)).toEqual([
      'ReturnRequested',
      'PaymentRefunded',
      'PaymentRefunded',
      'SagaTimedOut',
      'SagaCompleted',
    ]);
    const refunds = await fixture.commands.waitFor(orderId, 'RefundPayment', 3);
    // One command per attempt (the bus may deliver one twice: same id).
    expect(new Set(refunds.map((command) => command.commandId)).size).toBe(3);
  });

  it('refuses a return of an unknown order, of someone else’s order, of an order not confirmed, and a second one', async () => {
    const code = async (identity: typeof ALICE, orderId: string) =>
      (await requestReturn(identity, orderId)).errors?.[0]?.extensions?.code;
    expect(await code(ALICE, crypto.randomUUID())).toBe('NOT_FOUND');
    expect(await code(ALICE, 'not-an-id')).toBe('BAD_USER_INPUT');
    const confirmed = await confirmedOrder();
    expect(await code(BOB, confirmed)).toBe('FORBIDDEN');
    expect(await code({ sub: 'audrey', roles: ['auditor'] }, confirmed)).toBe('FORBIDDEN');
    const pending = await fixture.placeOrder();
    expect(await code(ALICE, pending)).toBe('CONFLICT');
    const [first, second] = await Promise.all([
      requestReturn(ALICE, confirmed),
      requestReturn(ALICE, confirmed),
    ]);
    expect([first.errors?.[0]?.extensions?.code, second.errors?.[0]?.extensions?.code].sort()).toEqual([
      'CONFLICT',
      undefined,
    ]);
  });

  it('leaves a read model (returns included) equal to a rebuild, page by page and event by event', async () => {
    expect(await rebuildDifferences(fixture)).toEqual({ pages: [], byEvent: [] });
  });
});
