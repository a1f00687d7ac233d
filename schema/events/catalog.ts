/**
 * The catalog of every event: its contract (zod), bounded context (routing key prefix),
 * current schema version and upcasters for older versions. Types are inferred from here.
 */
import type { z } from 'zod';
import type { Context, EventEnvelope } from './envelope.ts';
import * as inventory from './inventory.ts';
import * as payment from './payment.ts';
import * as saga from './saga.ts';
import * as store from './store.ts';
import * as transaction from './transaction.ts';

/**
 * Turns data written at schema version `from` into data of version `from + 1`.
 * `schema` validates the old shape first, so an upcaster never sees garbage.
 */
export interface Upcaster {
  readonly from: number;
  readonly schema: z.ZodType;
  readonly up: (data: never) => unknown;
}

/** What the catalog knows about one event type. */
export interface EventContract<S extends z.ZodType = z.ZodType> {
  readonly context: Context;
  readonly schemaVersion: number;
  readonly schema: S;
  readonly upcasters: readonly Upcaster[];
}

const contract = <S extends z.ZodType>(
  context: Context,
  schema: S,
  options: { schemaVersion?: number; upcasters?: Upcaster[] } = {},
): EventContract<S> => ({
  context,
  schema,
  schemaVersion: options.schemaVersion ?? 1,
  upcasters: options.upcasters ?? [],
});

/** OrderPlaced v1 -> v2: lines' `priceCents` renamed `unitPriceCents`; `currency` added (always EUR in v1). */
const orderPlacedV1toV2: Upcaster = {
  from: 1,
  schema: store.OrderPlacedV1,
  up: (v1: z.infer<typeof store.OrderPlacedV1>): z.infer<typeof store.OrderPlaced> => ({
    ...v1,
    lines: v1.lines.map(({ priceCents, ...line }) => ({ ...line, unitPriceCents: priceCents })),
    currency: 'EUR',
  }),
};

/** Every event of Magasin. Add an event here and its type, routing key and validation follow. */
export const EVENT_CONTRACTS = {
  // store
  OrderPlaced: contract('store', store.OrderPlaced, { schemaVersion: 2, upcasters: [orderPlacedV1toV2] }),
  OrderConfirmed: contract('store', store.OrderConfirmed),
  OrderCancelled: contract('store', store.OrderCancelled),
  ReturnRequested: contract('store', store.ReturnRequested),
  OrderReturned: contract('store', store.OrderReturned),
  // inventory
  ProductCreated: contract('inventory', inventory.ProductCreated),
  ProductRestocked: contract('inventory', inventory.ProductRestocked),
  StockReserved: contract('inventory', inventory.StockReserved),
  StockReservationRejected: contract('inventory', inventory.StockReservationRejected),
  StockCommitted: contract('inventory', inventory.StockCommitted),
  StockReleased: contract('inventory', inventory.StockReleased),
  StockReturned: contract('inventory', inventory.StockReturned),
  // payment
  PaymentCaptured: contract('payment', payment.PaymentCaptured),
  PaymentDeclined: contract('payment', payment.PaymentDeclined),
  PaymentRefunded: contract('payment', payment.PaymentRefunded),
  // transaction
  SaleRecorded: contract('transaction', transaction.SaleRecorded),
  RefundRecorded: contract('transaction', transaction.RefundRecorded),
  // saga
  SagaStarted: contract('saga', saga.SagaStarted),
  SagaStepCompleted: contract('saga', saga.SagaStepCompleted),
  SagaStepRetried: contract('saga', saga.SagaStepRetried),
  SagaTimedOut: contract('saga', saga.SagaTimedOut),
  SagaCompensationRequested: contract('saga', saga.SagaCompensationRequested),
  SagaCompleted: contract('saga', saga.SagaCompleted),
} as const;

type Contracts = typeof EVENT_CONTRACTS;
/** Every event type name. */
export type EventType = keyof Contracts;
/** The `data` of an event type at its current schema version. */
export type EventDataOf<T extends EventType> = z.infer<Contracts[T]['schema']>;
/** A typed envelope of one event type. */
export type EventOf<T extends EventType> = EventEnvelope<T, EventDataOf<T>>;
/** Any Magasin event, discriminated on `type`. */
export type DomainEvent = { [T in EventType]: EventOf<T> }[EventType];
/** Every event type name, as a list. */
export const EVENT_TYPES = Object.keys(EVENT_CONTRACTS) as EventType[];

/** Whether `type` names a known event. */
export const isEventType = (type: string): type is EventType => Object.hasOwn(EVENT_CONTRACTS, type);
