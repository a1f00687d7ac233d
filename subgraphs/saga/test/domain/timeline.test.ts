import { describe, expect, it } from 'vitest';
import {
  type SagaEvent,
  type SagaView,
  statusAfter,
  stepEntryOf,
  viewAt,
} from '../../src/domain/timeline.ts';

const step = (name: string): SagaEvent => ({
  type: 'SagaStepCompleted',
  data: {
    sagaId: 's',
    step: name,
    eventId: 'e',
    awaiting: null,
    deadlineAt: null,
    detail: name.toLowerCase(),
  },
});

describe('saga timeline', () => {
  it('turns to COMPENSATING on a failure of the order saga, and never leaves a final status', () => {
    expect(statusAfter('RUNNING', 'ORDER', step('StockReserved'))).toBe('RUNNING');
    expect(statusAfter('RUNNING', 'ORDER', step('PaymentDeclined'))).toBe('COMPENSATING');
    expect(statusAfter('TIMED_OUT', 'ORDER', step('PaymentCaptured'))).toBe('TIMED_OUT');
    expect(
      statusAfter('RUNNING', 'ORDER', {
        type: 'SagaCompleted',
        data: { sagaId: 's', kind: 'ORDER', orderId: 'o', status: 'CANCELLED' },
      }),
    ).toBe('CANCELLED');
  });

  it('marks failures, compensations and late events in the steps', () => {
    expect(stepEntryOf('RUNNING', 'ORDER', step('PaymentDeclined')).status).toBe('FAILED');
    expect(stepEntryOf('COMPENSATING', 'ORDER', step('StockReleased')).status).toBe('COMPENSATED');
    expect(stepEntryOf('TIMED_OUT', 'ORDER', step('PaymentCaptured'))).toEqual({
      name: 'PaymentCaptured',
      status: 'LATE',
      detail: 'paymentcaptured',
    });
    expect(stepEntryOf('RUNNING', 'RETURN', step('PaymentRefunded')).status).toBe('DONE');
  });

  it('replays a saga as it was after any of its steps', () => {
    const view: SagaView = {
      id: 's',
      kind: 'ORDER',
      orderId: 'o',
      status: 'COMPLETED',
      version: 3,
      startedAt: 't1',
      endedAt: 't3',
      steps: [
        { name: 'OrderPlaced', status: 'DONE', at: 't1', detail: null, sagaStatus: 'RUNNING' },
        { name: 'SaleRecorded', status: 'DONE', at: 't2', detail: null, sagaStatus: 'RUNNING' },
        { name: 'SagaCompleted', status: 'COMPLETED', at: 't3', detail: null, sagaStatus: 'COMPLETED' },
      ],
    };
    expect(viewAt(view, 2)).toMatchObject({
      version: 2,
      status: 'RUNNING',
      endedAt: null,
      steps: view.steps.slice(0, 2),
    });
    expect(viewAt(view, 3)).toBe(view);
  });
});
