/**
 * The saga read model, following the event store's log: every saga with its status and one
 * timeline step per event of its stream, the deadline of the step each running saga waits for,
 * and who placed each order (for read access). Everything comes from the event alone (times are
 * `occurredAt`), so a rebuild from the log gives exactly the live rows; the deadline timer only
 * reads `saga_deadlines` (it appends to the saga stream, and the projection then moves the row).
 */
import { fileURLToPath } from 'node:url';
import type { DomainEvent, EventOf } from '@magasin/events';
import type { ProjectionDefinition } from '@magasin/subgraph-kit';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  type SagaEvent,
  type SagaEventType,
  type SagaStatus,
  statusAfter,
  stepEntryOf,
} from '../domain/timeline.ts';
import { type Prisma, PrismaClient } from '../generated/prisma/client.ts';

/** The Prisma client of the saga database. */
export type SagaPrisma = PrismaClient;
/** A transaction of it. */
export type SagaTx = Prisma.TransactionClient;

/** The service's `prisma/migrations`. */
export const MIGRATIONS_DIRECTORY = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/**
 * A Prisma client on `databaseUrl`, on `options.schema` when given (a rebuild's fresh schema), else
 * on the `search_path` of the URL's `options`, else `public`.
 */
export const createPrisma = (databaseUrl: string, options?: { schema?: string }): PrismaClient => {
  const searchPath = /search_path=([^\s&]+)/.exec(
    new URL(databaseUrl).searchParams.get('options') ?? '',
  )?.[1];
  const schema = options?.schema ?? searchPath;
  return new PrismaClient({
    adapter: new PrismaPg({ connectionString: databaseUrl }, schema ? { schema } : undefined),
  });
};

const at = (iso: string) => new Date(iso);

/** The saga id of a saga event. */
const sagaIdOf = (event: EventOf<SagaEventType>): string => event.data.sagaId;

/** A saga row (`sagas`) as the events so far leave it. */
interface SagaRow {
  id: string;
  kind: string;
  orderId: string;
  status: string;
  version: number;
  startedAt: Date;
  endedAt: Date | null;
  updatedAt: Date;
}

/** A deadline row (`saga_deadlines`) without its saga id. */
interface DeadlineRow {
  kind: string;
  orderId: string;
  step: string;
  dueAt: Date;
  attempt: number;
  version: number;
}

/** What one saga event does to the read model: its saga after it, its step, its deadline. */
interface SagaChange {
  saga: SagaRow;
  step: Prisma.SagaStepCreateManyInput;
  deadline: DeadlineRow | 'clear' | 'keep';
}

/**
 * The change of one saga event to `saga` (its row before the event; undefined before
 * SagaStarted). Pure: the handlers write one event's change, `applyEvents` folds a page's.
 */
const changeOf = (saga: SagaRow | undefined, event: EventOf<SagaEventType>): SagaChange => {
  const pending = { type: event.type, data: event.data } as SagaEvent;
  const sagaId = sagaIdOf(event);
  const step = (entry: ReturnType<typeof stepEntryOf>, sagaStatus: SagaStatus) => ({
    sagaId,
    seq: event.version,
    name: entry.name,
    status: entry.status,
    at: at(event.occurredAt),
    detail: entry.detail,
    sagaStatus,
  });
  if (pending.type === 'SagaStarted') {
    if (saga) throw new Error(`SagaStarted ${event.eventId}: saga ${sagaId} exists already`);
    const { kind, orderId, startedAt } = pending.data;
    const status = statusAfter(null, kind, pending);
    return {
      saga: {
        id: sagaId,
        kind,
        orderId,
        status,
        version: event.version,
        startedAt: at(startedAt ?? event.occurredAt),
        endedAt: null,
        updatedAt: at(event.occurredAt),
      },
      step: step(stepEntryOf(null, kind, pending), status),
      deadline: {
        kind,
        orderId,
        step: pending.data.awaiting,
        dueAt: at(pending.data.deadlineAt),
        attempt: 1,
        version: event.version,
      },
    };
  }
  if (!saga)
    throw new Error(`${event.type} ${event.eventId} of saga ${sagaId}, which has no SagaStarted before it`);
  const kind = saga.kind as 'ORDER' | 'RETURN';
  const previous = saga.status as SagaStatus;
  const status = statusAfter(previous, kind, pending);
  const after: SagaRow = {
    ...saga,
    status,
    version: event.version,
    updatedAt: at(event.occurredAt),
    endedAt: pending.type === 'SagaCompleted' ? at(event.occurredAt) : saga.endedAt,
  };
  const deadline = (awaiting: string, dueAt: string, attempt: number): DeadlineRow => ({
    kind,
    orderId: saga.orderId,
    step: awaiting,
    dueAt: at(dueAt),
    attempt,
    version: event.version,
  });
  const change = (next: SagaChange['deadline']): SagaChange => ({
    saga: after,
    step: step(stepEntryOf(previous, kind, pending), status),
    deadline: next,
  });
  switch (pending.type) {
    case 'SagaStepCompleted': {
      const { awaiting, deadlineAt } = pending.data;
      return change(awaiting !== null && deadlineAt !== null ? deadline(awaiting, deadlineAt, 1) : 'clear');
    }
    case 'SagaStepRetried':
      return change(deadline(pending.data.step, pending.data.deadlineAt, pending.data.attempt));
    case 'SagaTimedOut':
    case 'SagaCompleted':
      return change('clear');
    case 'SagaCompensationRequested':
      return change('keep');
    default: {
      const unknown: never = pending;
      throw new Error(`unknown saga event ${JSON.stringify(unknown)}`);
    }
  }
};

/** Writes a saga's deadline as a change leaves it. */
const writeDeadline = async (tx: SagaTx, sagaId: string, deadline: SagaChange['deadline']) => {
  if (deadline === 'keep') return;
  if (deadline === 'clear') await tx.sagaDeadline.deleteMany({ where: { sagaId } });
  else await tx.sagaDeadline.upsert({ where: { sagaId }, create: { sagaId, ...deadline }, update: deadline });
};

/** Records one saga event: its step, the saga's new status, and the deadline it sets or clears. */
const applySagaEvent = async (event: EventOf<SagaEventType>, tx: SagaTx): Promise<void> => {
  const before =
    event.type === 'SagaStarted'
      ? undefined
      : ((await tx.saga.findUnique({ where: { id: sagaIdOf(event) } })) ?? undefined);
  const { saga, step, deadline } = changeOf(before, event);
  if (before) {
    const { status, version, updatedAt, endedAt } = saga;
    await tx.saga.update({ where: { id: saga.id }, data: { status, version, updatedAt, endedAt } });
  } else await tx.saga.create({ data: saga });
  await tx.sagaStep.create({ data: step });
  await writeDeadline(tx, saga.id, deadline);
};

/** Records who placed an order. */
const recordOrder = async (event: EventOf<'OrderPlaced'>, tx: SagaTx): Promise<void> => {
  const row = { customerId: event.data.customerId };
  await tx.sagaOrder.upsert({
    where: { orderId: event.data.orderId },
    create: { orderId: event.data.orderId, ...row },
    update: row,
  });
};

/**
 * A page of events at once, with the same effect as the handlers one by one: the sagas of the
 * page read in one statement, then one statement each for the new sagas, the changed sagas, the
 * steps, the cleared deadlines, the set deadlines and the orders' customers, whatever the number
 * of sagas in the page (at full load a page holds tens of sagas: a statement per saga made the
 * read model fall seconds behind the log).
 */
const applyEvents = async (events: readonly DomainEvent[], tx: SagaTx): Promise<void> => {
  const sagaEvents: EventOf<SagaEventType>[] = [];
  const customers = new Map<string, string>();
  for (const event of events) {
    if (event.type === 'OrderPlaced') customers.set(event.data.orderId, event.data.customerId);
    else sagaEvents.push(event as EventOf<SagaEventType>);
  }
  if (customers.size > 0) {
    await tx.$executeRaw`
      INSERT INTO saga_orders (order_id, customer_id)
      SELECT * FROM unnest(${[...customers.keys()]}::text[], ${[...customers.values()]}::text[])
      ON CONFLICT (order_id) DO UPDATE SET customer_id = EXCLUDED.customer_id`;
  }
  if (sagaEvents.length === 0) return;
  const stored = await tx.saga.findMany({ where: { id: { in: [...new Set(sagaEvents.map(sagaIdOf))] } } });
  const sagas = new Map<string, SagaRow>(stored.map((row) => [row.id, row]));
  const existing = new Set(sagas.keys());
  const deadlines = new Map<string, DeadlineRow | 'clear'>();
  const steps: Prisma.SagaStepCreateManyInput[] = [];
  for (const event of sagaEvents) {
    const { saga, step, deadline } = changeOf(sagas.get(sagaIdOf(event)), event);
    sagas.set(saga.id, saga);
    steps.push(step);
    if (deadline !== 'keep') deadlines.set(saga.id, deadline);
  }
  const fresh = [...sagas.values()].filter((saga) => !existing.has(saga.id));
  if (fresh.length > 0) await tx.saga.createMany({ data: fresh });
  const changed = [...existing].map((id) => sagas.get(id) as SagaRow);
  if (changed.length > 0) {
    await tx.$executeRaw`
      UPDATE sagas SET status = u.status, version = u.version,
             updated_at = u.updated_at::timestamptz, ended_at = u.ended_at::timestamptz
        FROM unnest(${changed.map((saga) => saga.id)}::text[], ${changed.map((saga) => saga.status)}::text[],
                    ${changed.map((saga) => saga.version)}::int[],
                    ${changed.map((saga) => saga.updatedAt.toISOString())}::text[],
                    ${changed.map((saga) => saga.endedAt?.toISOString() ?? null)}::text[])
             AS u(id, status, version, updated_at, ended_at)
       WHERE sagas.id = u.id`;
  }
  await tx.sagaStep.createMany({ data: steps });
  const cleared = [...deadlines].filter(([, deadline]) => deadline === 'clear').map(([sagaId]) => sagaId);
  if (cleared.length > 0) await tx.sagaDeadline.deleteMany({ where: { sagaId: { in: cleared } } });
  const set = [...deadlines].flatMap(([sagaId, deadline]) =>
    deadline === 'clear' ? [] : [{ sagaId, ...deadline }],
  );
  if (set.length > 0) {
    await tx.$executeRaw`
      INSERT INTO saga_deadlines (saga_id, kind, order_id, step, due_at, version, attempt)
      SELECT d.saga_id, d.kind, d.order_id, d.step, d.due_at::timestamptz, d.version, d.attempt
        FROM unnest(${set.map((row) => row.sagaId)}::text[], ${set.map((row) => row.kind)}::text[],
                    ${set.map((row) => row.orderId)}::text[], ${set.map((row) => row.step)}::text[],
                    ${set.map((row) => row.dueAt.toISOString())}::text[], ${set.map((row) => row.version)}::int[],
                    ${set.map((row) => row.attempt)}::int[])
             AS d(saga_id, kind, order_id, step, due_at, version, attempt)
      ON CONFLICT (saga_id) DO UPDATE SET kind = EXCLUDED.kind, order_id = EXCLUDED.order_id,
             step = EXCLUDED.step, due_at = EXCLUDED.due_at, version = EXCLUDED.version,
             attempt = EXCLUDED.attempt`;
  }
};

/** The saga projection of the service (`npm run projections:rebuild -- saga` rebuilds it). */
export const projection: ProjectionDefinition<PrismaClient, Prisma.TransactionClient> = {
  name: 'saga',
  migrationsDirectory: MIGRATIONS_DIRECTORY,
  createPrisma,
  handlers: {
    OrderPlaced: recordOrder,
    SagaStarted: applySagaEvent,
    SagaStepCompleted: applySagaEvent,
    SagaStepRetried: applySagaEvent,
    SagaTimedOut: applySagaEvent,
    SagaCompensationRequested: applySagaEvent,
    SagaCompleted: applySagaEvent,
  },
  applyEvents,
};
