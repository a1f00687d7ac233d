/** Reads of the saga read model as the API shows sagas (queries, subscriptions, saga updates). */
import type { EventStoreClient, RecordedEvent } from '@magasin/event-store/client';
import { parseEnvelope } from '@magasin/events';
import { sagaStreamId } from './domain/saga.ts';
import {
  type SagaEvent,
  type SagaKind,
  type SagaStatus,
  type SagaView,
  statusAfter,
  stepEntryOf,
} from './domain/timeline.ts';
import type { SagaPrisma } from './projections/index.ts';

/**
 * The sagas of `ids` that exist, with their timelines, by id.
 *
 * Prisma reads the sagas and their steps in two statements, each with its own snapshot: the
 * projection can commit a page between them, so the `sagas` row may be older than the steps
 * read after it (a RUNNING saga whose last step is a StockReservationRejected). Only the saga's
 * fixed columns are taken from its row; its status, version and end are those of its last step
 * read (each step keeps the saga's status once it was applied), so a view always agrees with
 * its own timeline (as `viewAt` in domain/timeline.ts cuts one).
 */
export const readSagaViews = async (
  prisma: SagaPrisma,
  ids: readonly string[],
): Promise<Map<string, SagaView>> => {
  if (ids.length === 0) return new Map();
  const rows = await prisma.saga.findMany({
    where: { id: { in: [...ids] } },
    include: { steps: { orderBy: { seq: 'asc' } } },
  });
  const views = new Map<string, SagaView>();
  for (const row of rows) {
    const steps = row.steps.map((step) => ({
      name: step.name,
      status: step.status,
      at: step.at.toISOString(),
      detail: step.detail,
      sagaStatus: step.sagaStatus as SagaStatus,
    }));
    const last = row.steps.at(-1);
    // The first step is written with the row: a row without steps is not a saga yet.
    if (!last) continue;
    views.set(row.id, {
      id: row.id,
      kind: row.kind as SagaKind,
      orderId: row.orderId,
      status: last.sagaStatus as SagaStatus,
      version: last.seq,
      startedAt: row.startedAt.toISOString(),
      endedAt: steps.find((step) => step.name === 'SagaCompleted')?.at ?? null,
      steps,
    });
  }
  return views;
};

/** One saga, or null. */
export const readSagaView = async (prisma: SagaPrisma, id: string): Promise<SagaView | null> =>
  (await readSagaViews(prisma, [id])).get(id) ?? null;

/** Ids of the return sagas of each order, oldest first. */
export const readReturnSagaIds = async (
  prisma: SagaPrisma,
  orderIds: readonly string[],
): Promise<Map<string, string[]>> => {
  const rows = await prisma.saga.findMany({
    where: { orderId: { in: [...orderIds] }, kind: 'RETURN' },
    select: { id: true, orderId: true },
    orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
  });
  const byOrder = new Map<string, string[]>();
  for (const row of rows) byOrder.set(row.orderId, [...(byOrder.get(row.orderId) ?? []), row.id]);
  return byOrder;
};

/**
 * The saga `view` once `raw` (the next event of its stream) is recorded, folded with the
 * projection's rules; null until its SagaStarted. Pure: what the stream reads and the
 * orchestrator's own updates (saga-updates.ts) share.
 */
export const foldSagaView = (sagaId: string, view: SagaView | null, raw: RecordedEvent): SagaView | null => {
  const parsed = parseEnvelope(raw);
  if (!parsed.ok) throw new Error(`${raw.streamId} v${raw.version}: ${parsed.reason}`);
  const event = { type: parsed.event.type, data: parsed.event.data } as SagaEvent;
  if (event.type === 'SagaStarted' && view === null) {
    const status = statusAfter(null, event.data.kind, event);
    return {
      id: sagaId,
      kind: event.data.kind,
      orderId: event.data.orderId,
      status,
      version: raw.version,
      startedAt: new Date(event.data.startedAt ?? raw.occurredAt).toISOString(),
      endedAt: null,
      steps: [
        {
          ...stepEntryOf(null, event.data.kind, event),
          at: new Date(raw.occurredAt).toISOString(),
          sagaStatus: status,
        },
      ],
    };
  }
  if (view === null) return null;
  const status = statusAfter(view.status, view.kind, event);
  return {
    ...view,
    status,
    version: raw.version,
    endedAt: event.type === 'SagaCompleted' ? new Date(raw.occurredAt).toISOString() : view.endedAt,
    steps: [
      ...view.steps,
      {
        ...stepEntryOf(view.status, view.kind, event),
        at: new Date(raw.occurredAt).toISOString(),
        sagaStatus: status,
      },
    ],
  };
};

/**
 * A saga as its own stream says, folded with the projection's rules: what a mutation answers
 * (the read model may lag behind the events it just appended). Null for an unknown saga.
 */
export const sagaViewFromStream = async (
  eventStore: EventStoreClient,
  sagaId: string,
): Promise<SagaView | null> => {
  const { events } = await eventStore.readStream(sagaStreamId(sagaId));
  return events.reduce<SagaView | null>((view, raw) => foldSagaView(sagaId, view, raw), null);
};
