/**
 * The deadline timer. Deadlines live in `saga_deadlines` (written by the projection from the
 * saga events, so they survive any restart); the timer claims due rows with
 * `FOR UPDATE SKIP LOCKED` (replicas never work on the same row at once) and asks the saga
 * decider to expire each step. The decider appends SagaTimedOut (or SagaStepRetried) with the
 * saga stream's expected version: a deadline fires once, whatever the replicas, restarts or
 * re-claims (a row stays until the projection applies the event that ends or moves it; until
 * then a re-claim decides nothing, since the saga is no longer waiting on that deadline).
 */
import type { Logger } from 'pino';
import type { Orchestrator } from './orchestrator.ts';
import type { SagaPrisma } from './projections/index.ts';

/** A due deadline as claimed. */
interface DueDeadline {
  sagaId: string;
  orderId: string;
  step: string;
  dueAt: Date;
}

/** A running timer. */
export interface DeadlineTimer {
  /** Stops after the batch being fired; resolves when stopped. */
  stop(): Promise<void>;
}

/** Options of {@link startDeadlineTimer}. */
export interface DeadlineTimerOptions {
  prisma: SagaPrisma;
  orchestrator: Orchestrator;
  logger: Logger;
  /** Pause between two looks when nothing was due (SAGA_DEADLINE_POLL_MS). */
  pollMs: number;
  /** Rows claimed per transaction (SAGA_DEADLINE_BATCH). */
  batch: number;
}

/** Starts the timer; see the module comment. */
export const startDeadlineTimer = (options: DeadlineTimerOptions): DeadlineTimer => {
  const { prisma, orchestrator, logger } = options;
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  // Deadlines this replica fired, until the projection moves their rows (or a minute passes):
  // not claimed again meanwhile, which would only re-read their streams to decide nothing.
  const fired = new Map<string, { dueAt: Date; firedAt: number }>();
  const forgetOld = () => {
    const limit = Date.now() - 60_000;
    for (const [sagaId, entry] of fired) if (entry.firedAt < limit) fired.delete(sagaId);
  };

  const fire = async (deadline: DueDeadline): Promise<void> => {
    try {
      const result = await orchestrator.handle(deadline.sagaId, deadline.orderId, {
        type: 'Expire',
        step: deadline.step,
        deadlineAt: deadline.dueAt.toISOString(),
        // PostgreSQL's clock said it is due: a replica whose clock lags must not disagree.
        now: new Date(Math.max(Date.now(), deadline.dueAt.getTime())).toISOString(),
      });
      if (result.events.length > 0)
        fired.set(deadline.sagaId, { dueAt: deadline.dueAt, firedAt: Date.now() });
    } catch (error) {
      // Left in the table: the next look claims it again.
      logger.error(
        { err: error, sagaId: deadline.sagaId, step: deadline.step },
        'could not fire a saga deadline',
      );
    }
  };

  /** Claims and fires one batch; returns how many rows were due. */
  const tick = () => {
    forgetOld();
    const firedIds = [...fired.keys()];
    const firedDues = firedIds.map((sagaId) => fired.get(sagaId)?.dueAt ?? new Date(0));
    return prisma.$transaction(
      async (tx) => {
        const due = await tx.$queryRaw<DueDeadline[]>`
          SELECT saga_id AS "sagaId", order_id AS "orderId", step, due_at AS "dueAt"
            FROM saga_deadlines
           WHERE due_at <= now()
             AND (saga_id, due_at) NOT IN (
                   SELECT * FROM unnest(${firedIds}::text[], ${firedDues}::timestamptz[]))
           ORDER BY due_at
           LIMIT ${options.batch}
             FOR UPDATE SKIP LOCKED`;
        await Promise.all(due.map(fire));
        return due.length;
      },
      { timeout: 60_000, maxWait: 10_000 },
    );
  };

  const run = async () => {
    let failures = 0;
    while (!stopping) {
      try {
        const due = await tick();
        failures = 0;
        // A full batch: more may be due at once.
        if (due < options.batch) await pause(options.pollMs);
      } catch (error) {
        if (stopping) return;
        failures++;
        logger.error({ err: error }, 'deadline timer failed; retrying');
        await pause(Math.min(5_000, options.pollMs * 2 ** Math.min(failures, 5)));
      }
    }
  };
  const done = run();

  return {
    stop: async () => {
      stopping = true;
      wake?.();
      await done;
    },
  };
};
