/** Contracts of the saga orchestrator: saga lifecycle, deadlines, timeouts and compensation. */
import { z } from 'zod';
import { id, isoDateTime } from './envelope.ts';

export const sagaKind = z.enum(['ORDER', 'RETURN']);

export const SagaStarted = z.object({
  sagaId: id,
  kind: sagaKind,
  orderId: id,
  /** The step the saga waits for and when it times out if it has not progressed. */
  awaiting: z.string().min(1),
  deadlineAt: isoDateTime,
  /** When the orchestrator started the saga (optional: added after v1, absent in older events). */
  startedAt: isoDateTime.optional(),
  /** What the saga's timeline shows for this step (optional). */
  detail: z.string().optional(),
});

export const SagaStepCompleted = z.object({
  sagaId: id,
  step: z.string().min(1),
  /** The event that completed the step. */
  eventId: id,
  awaiting: z.string().min(1).nullable(),
  deadlineAt: isoDateTime.nullable(),
  /** What the saga's timeline shows for this step (optional). */
  detail: z.string().optional(),
});

/** An orchestrated step (return saga) passed its deadline and its command is sent again. */
export const SagaStepRetried = z.object({
  sagaId: id,
  kind: sagaKind,
  orderId: id,
  step: z.string().min(1),
  /** 2 for the first retry. */
  attempt: z.number().int().min(2),
  /** Id of the command sent again for the step. */
  commandId: id,
  deadlineAt: isoDateTime,
});

export const SagaTimedOut = z.object({
  sagaId: id,
  kind: sagaKind,
  orderId: id,
  step: z.string().min(1),
  deadlineAt: isoDateTime,
});

export const SagaCompensationRequested = z.object({
  sagaId: id,
  orderId: id,
  reason: z.string().min(1),
  /** Command ids sent to peers (ReleaseStock, RefundPayment, CancelOrder, ...). */
  commandIds: z.array(id),
  /** What the saga's timeline shows for this step (optional). */
  detail: z.string().optional(),
});

export const SagaCompleted = z.object({
  sagaId: id,
  kind: sagaKind,
  orderId: id,
  status: z.enum(['COMPLETED', 'CANCELLED', 'TIMED_OUT']),
});
