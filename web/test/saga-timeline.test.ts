import type { SagaTimelineFragment } from '@magasin/events/operations';
import { describe, expect, it } from 'vitest';
import { formatOffset, isTerminal, outcomeOf, stepViews } from '../src/timeline/saga-timeline.ts';

const saga = (
  status: SagaTimelineFragment['status'],
  steps: [name: string, status: string, detail?: string][],
  kind: SagaTimelineFragment['kind'] = 'ORDER',
): SagaTimelineFragment => ({
  id: 'o1',
  kind,
  status,
  startedAt: '2026-11-25T10:00:00.000Z',
  endedAt: isTerminal(status) ? '2026-11-25T10:00:01.500Z' : null,
  steps: steps.map(([name, stepStatus, detail], index) => ({
    name,
    status: stepStatus,
    at: new Date(Date.parse('2026-11-25T10:00:00.000Z') + index * 250).toISOString(),
    detail: detail ?? null,
  })),
});

describe('a saga timeline on screen', () => {
  it('shows a completed order saga as done steps and a confirmed order', () => {
    const completed = saga('COMPLETED', [
      ['OrderPlaced', 'DONE'],
      ['StockReserved', 'DONE'],
      ['PaymentCaptured', 'DONE'],
      ['SagaCompleted', 'COMPLETED'],
    ]);
    expect(
      stepViews(completed).map(({ title, tone, badge, offsetMs }) => ({ title, tone, badge, offsetMs })),
    ).toEqual([
      { title: 'Order placed', tone: 'done', badge: 'done', offsetMs: 0 },
      { title: 'Stock reserved', tone: 'done', badge: 'done', offsetMs: 250 },
      { title: 'Payment captured', tone: 'done', badge: 'done', offsetMs: 500 },
      { title: 'Saga ended', tone: 'final-ok', badge: 'completed', offsetMs: 750 },
    ]);
    expect(outcomeOf(completed)).toMatchObject({ tone: 'success', headline: 'Order confirmed' });
  });

  it('marks a declined payment as the failure and what undoes it as compensations', () => {
    const declined = saga('CANCELLED', [
      ['OrderPlaced', 'DONE'],
      ['StockReserved', 'DONE'],
      ['PaymentDeclined', 'FAILED', 'declined: insufficient funds'],
      ['StockReleased', 'COMPENSATED'],
      ['OrderCancelled', 'COMPENSATED'],
      ['SagaCompleted', 'CANCELLED'],
    ]);
    expect(stepViews(declined).map((step) => [step.name, step.tone, step.badge])).toEqual([
      ['OrderPlaced', 'done', 'done'],
      ['StockReserved', 'done', 'done'],
      ['PaymentDeclined', 'failed', 'failed'],
      ['StockReleased', 'compensated', 'compensation'],
      ['OrderCancelled', 'compensated', 'compensation'],
      ['SagaCompleted', 'final-cancelled', 'cancelled'],
    ]);
    expect(
      outcomeOf(declined, { status: 'CANCELLED', cancellationReason: 'PAYMENT_DECLINED' }),
    ).toMatchObject({
      tone: 'failure',
      headline: 'Card declined: order cancelled',
    });
  });

  it('tells the reason of a cancellation from the steps when the order is not known', () => {
    const rejected = saga('CANCELLED', [
      ['OrderPlaced', 'DONE'],
      ['StockReservationRejected', 'FAILED'],
      ['OrderCancelled', 'COMPENSATED'],
      ['SagaCompleted', 'CANCELLED'],
    ]);
    expect(outcomeOf(rejected).headline).toBe('Out of stock: order cancelled');
    expect(stepViews(rejected)[1]?.title).toBe('Stock unavailable');
  });

  it('shows a timeout, the compensation requested and a late step distinctly', () => {
    const timedOut = saga('TIMED_OUT', [
      ['OrderPlaced', 'DONE'],
      ['StockReserved', 'DONE'],
      ['SagaTimedOut', 'TIMED_OUT', 'no PaymentCaptured by 10:00:10'],
      ['SagaCompensationRequested', 'REQUESTED'],
      ['SagaCompleted', 'TIMED_OUT'],
      ['PaymentCaptured', 'LATE'],
    ]);
    expect(stepViews(timedOut).map((step) => step.tone)).toEqual([
      'done',
      'done',
      'timed-out',
      'requested',
      'final-timed-out',
      'late',
    ]);
    expect(outcomeOf(timedOut)).toMatchObject({
      tone: 'failure',
      headline: 'Payment timed out: order cancelled',
    });
  });

  it('says a saga is still running or compensating, and a return once completed', () => {
    expect(outcomeOf(saga('RUNNING', [['OrderPlaced', 'DONE']])).tone).toBe('running');
    expect(outcomeOf(saga('COMPENSATING', [['PaymentDeclined', 'FAILED']])).tone).toBe('compensating');
    expect(outcomeOf(saga('COMPLETED', [['ReturnRequested', 'DONE']], 'RETURN')).headline).toBe(
      'Return completed',
    );
    expect(isTerminal('RUNNING')).toBe(false);
    expect(isTerminal('COMPENSATING')).toBe(false);
  });

  it('names steps it does not know from their event name', () => {
    expect(stepViews(saga('RUNNING', [['InvoiceIssued', 'RETRIED']]))[0]).toMatchObject({
      title: 'Invoice issued',
      tone: 'retried',
    });
  });

  it('writes offsets in ms below a second and in seconds above', () => {
    expect(formatOffset(87)).toBe('+87 ms');
    expect(formatOffset(1_420)).toBe('+1.42 s');
  });
});
