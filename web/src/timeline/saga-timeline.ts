/**
 * How a saga reads on screen: each step with a tone (done, failed, compensation, timeout...) and
 * a sentence, and the outcome of the whole saga in words a shopper understands. Pure functions
 * of the SagaTimeline fragment: no React here.
 */
import type {
  OrderCancellationReason,
  OrderSummaryFragment,
  SagaStatus,
  SagaTimelineFragment,
} from '@magasin/events/operations';

/** The look of a step. */
export type StepTone =
  | 'done'
  | 'failed'
  | 'compensated'
  | 'timed-out'
  | 'requested'
  | 'retried'
  | 'late'
  | 'final-ok'
  | 'final-cancelled'
  | 'final-timed-out'
  | 'unknown';

/** One step as shown. */
export interface StepView {
  readonly key: string;
  readonly name: string;
  readonly title: string;
  readonly status: string;
  readonly tone: StepTone;
  /** Short word shown as a badge: "done", "compensation", "timed out"... */
  readonly badge: string;
  readonly detail: string | null;
  readonly at: string;
  /** ms since the saga started. */
  readonly offsetMs: number;
}

const TITLES: Readonly<Record<string, string>> = {
  OrderPlaced: 'Order placed',
  ReturnRequested: 'Return requested',
  StockReserved: 'Stock reserved',
  StockReservationRejected: 'Stock unavailable',
  PaymentCaptured: 'Payment captured',
  PaymentDeclined: 'Payment declined',
  PaymentRefunded: 'Payment refunded',
  OrderConfirmed: 'Order confirmed',
  StockCommitted: 'Stock committed',
  SaleRecorded: 'Sale recorded',
  StockReleased: 'Stock released',
  StockRestocked: 'Items back in stock',
  RefundRecorded: 'Refund recorded',
  OrderCancelled: 'Order cancelled',
  OrderReturned: 'Order returned',
  SagaTimedOut: 'Saga timed out',
  SagaCompensationRequested: 'Compensation requested',
  SagaCompleted: 'Saga ended',
};

/** "StockReservationRejected" -> "Stock reservation rejected" for names without a title. */
const words = (name: string): string => {
  const spaced = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
};

const FINAL_TONES: Readonly<Record<string, StepTone>> = {
  COMPLETED: 'final-ok',
  CANCELLED: 'final-cancelled',
  TIMED_OUT: 'final-timed-out',
};

/** Tone and badge of a step status (see SagaStep in the schema). */
const toneOf = (name: string, status: string): { tone: StepTone; badge: string } => {
  if (name === 'SagaCompleted') {
    return { tone: FINAL_TONES[status] ?? 'unknown', badge: status.toLowerCase().replace('_', ' ') };
  }
  switch (status) {
    case 'DONE':
      return { tone: 'done', badge: 'done' };
    case 'FAILED':
      return { tone: 'failed', badge: 'failed' };
    case 'COMPENSATED':
      return { tone: 'compensated', badge: 'compensation' };
    case 'TIMED_OUT':
      return { tone: 'timed-out', badge: 'timed out' };
    case 'REQUESTED':
      return { tone: 'requested', badge: 'compensating' };
    case 'RETRIED':
      return { tone: 'retried', badge: 'retried' };
    case 'LATE':
      return { tone: 'late', badge: 'late' };
    default:
      return { tone: 'unknown', badge: status.toLowerCase() };
  }
};

/** The steps of `saga` as shown, in order. */
export const stepViews = (saga: Pick<SagaTimelineFragment, 'steps' | 'startedAt'>): StepView[] => {
  const start = Date.parse(saga.startedAt);
  return saga.steps.map((step, index) => ({
    key: `${index}-${step.name}`,
    name: step.name,
    title: TITLES[step.name] ?? words(step.name),
    status: step.status,
    ...toneOf(step.name, step.status),
    detail: step.detail,
    at: step.at,
    offsetMs: Math.max(0, Date.parse(step.at) - start),
  }));
};

/** Whether a saga in `status` will change no more. */
export const isTerminal = (status: SagaStatus): boolean =>
  status === 'COMPLETED' || status === 'CANCELLED' || status === 'TIMED_OUT';

/** The outcome of a saga in one sentence, and how it should look. */
export interface Outcome {
  readonly tone: 'running' | 'compensating' | 'success' | 'failure';
  readonly headline: string;
  readonly explanation: string;
}

const CANCELLATIONS: Readonly<Record<OrderCancellationReason, { headline: string; explanation: string }>> = {
  PAYMENT_DECLINED: {
    headline: 'Card declined: order cancelled',
    explanation:
      'The card was declined. The order was cancelled and the reserved stock put back on the shelf.',
  },
  STOCK_UNAVAILABLE: {
    headline: 'Out of stock: order cancelled',
    explanation: 'Not enough units were available for this order. Nothing was charged.',
  },
  SAGA_TIMED_OUT: {
    headline: 'Payment timed out: order cancelled',
    explanation:
      'The card processor did not answer in time. The order was cancelled, the stock released, and any late capture is refunded.',
  },
  CUSTOMER_REQUEST: {
    headline: 'Order cancelled',
    explanation: 'The order was cancelled on request before it was confirmed.',
  },
};

/** The outcome of an order saga, knowing its order when the gateway sent it. */
export const outcomeOf = (
  saga: Pick<SagaTimelineFragment, 'status' | 'kind' | 'steps'>,
  order?: Pick<OrderSummaryFragment, 'status' | 'cancellationReason'> | null,
): Outcome => {
  const returning = saga.kind === 'RETURN';
  switch (saga.status) {
    case 'RUNNING':
      return {
        tone: 'running',
        headline: returning ? 'Return in progress' : 'Order in progress',
        explanation: 'Each step appears here as it happens.',
      };
    case 'COMPENSATING':
      return {
        tone: 'compensating',
        headline: 'Undoing earlier steps',
        explanation: 'A step failed: the services are compensating what was already done.',
      };
    case 'COMPLETED':
      return returning
        ? {
            tone: 'success',
            headline: 'Return completed',
            explanation: 'The payment was refunded and the items are back in stock.',
          }
        : {
            tone: 'success',
            headline: 'Order confirmed',
            explanation: 'Payment captured, stock committed and the sale recorded.',
          };
    case 'TIMED_OUT':
      return { tone: 'failure', ...CANCELLATIONS.SAGA_TIMED_OUT };
    case 'CANCELLED': {
      const reason =
        order?.cancellationReason ??
        (saga.steps.some((step) => step.name === 'PaymentDeclined')
          ? 'PAYMENT_DECLINED'
          : saga.steps.some((step) => step.name === 'StockReservationRejected')
            ? 'STOCK_UNAVAILABLE'
            : 'CUSTOMER_REQUEST');
      return { tone: 'failure', ...CANCELLATIONS[reason] };
    }
    default: {
      const unknown: never = saga.status;
      return { tone: 'running', headline: String(unknown), explanation: '' };
    }
  }
};

/** "+1.25 s" since the saga started. */
export const formatOffset = (offsetMs: number): string =>
  offsetMs < 1_000 ? `+${offsetMs} ms` : `+${(offsetMs / 1_000).toFixed(2)} s`;
