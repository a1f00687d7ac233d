/**
 * The sales ledger of one order (stream `ledger-<orderId>`): at most one sale, recorded when the
 * order is confirmed, and at most one refund, recorded when the order is returned. Returns are
 * whole-order in this design, so a refund gives back the order's lines and one return is all an
 * order can have. Redelivered commands decide nothing new.
 */
import type { EventDataOf } from '@magasin/events';
import { type Decider, DomainError, type PendingEvent } from '@magasin/subgraph-kit';

/** The stream of an order's ledger. */
export const ledgerStreamId = (orderId: string): string => `ledger-${orderId}`;

/** What the ledger can be asked to do. */
export type LedgerCommand =
  | { readonly type: 'RecordSale'; readonly data: EventDataOf<'SaleRecorded'> }
  | { readonly type: 'RecordRefund'; readonly data: EventDataOf<'RefundRecorded'> };

/** The events of the ledger. */
export type LedgerEventType = 'SaleRecorded' | 'RefundRecorded';
/** An event the ledger decided. */
export type LedgerEvent = PendingEvent<LedgerEventType>;

interface Sale {
  readonly orderId: string;
  readonly saleId: string;
  readonly customerId: string;
  readonly amountCents: number;
}

/** An order's ledger: nothing sold yet, sold, or sold and refunded. */
export type Ledger =
  | { readonly status: 'unknown' }
  | ({ readonly status: 'sold' } & Sale)
  | ({
      readonly status: 'refunded';
      readonly returnId: string;
      readonly refundId: string;
      readonly refundedCents: number;
    } & Sale);

export const initialState = (): Ledger => ({ status: 'unknown' });

const recordRefund = (command: EventDataOf<'RefundRecorded'>, ledger: Ledger): LedgerEvent[] => {
  switch (ledger.status) {
    case 'unknown':
      throw new DomainError(
        'NOT_FOUND',
        `no sale is recorded for order ${command.orderId}: nothing to refund`,
        {
          orderId: command.orderId,
        },
      );
    case 'refunded':
      if (ledger.returnId === command.returnId) return [];
      throw new DomainError(
        'CONFLICT',
        `order ${command.orderId} was already refunded by return ${ledger.returnId}: returns cover the whole order`,
        { orderId: command.orderId, returnId: ledger.returnId },
      );
    case 'sold':
      if (command.amountCents > ledger.amountCents) {
        throw new DomainError(
          'BAD_USER_INPUT',
          `a refund of ${command.amountCents} cents exceeds the sale of ${ledger.amountCents} cents for order ${command.orderId}`,
          { orderId: command.orderId, amountCents: command.amountCents, saleCents: ledger.amountCents },
        );
      }
      return [{ type: 'RefundRecorded', data: command }];
    default:
      return ledger satisfies never;
  }
};

export const decide = (command: LedgerCommand, ledger: Ledger): LedgerEvent[] => {
  switch (command.type) {
    // An order is sold once: a redelivered OrderConfirmed finds the sale and decides nothing.
    case 'RecordSale':
      return ledger.status === 'unknown' ? [{ type: 'SaleRecorded', data: command.data }] : [];
    case 'RecordRefund':
      return recordRefund(command.data, ledger);
    default:
      return command satisfies never;
  }
};

export const evolve = (ledger: Ledger, event: LedgerEvent): Ledger => {
  switch (event.type) {
    case 'SaleRecorded': {
      const { orderId, saleId, customerId, amountCents } = event.data;
      return { status: 'sold', orderId, saleId, customerId, amountCents };
    }
    case 'RefundRecorded':
      if (ledger.status !== 'sold') return ledger;
      return {
        ...ledger,
        status: 'refunded',
        returnId: event.data.returnId,
        refundId: event.data.refundId,
        refundedCents: event.data.amountCents,
      };
    default:
      return event satisfies never;
  }
};

/** The ledger decider. */
export const ledgerDecider: Decider<LedgerCommand, Ledger, LedgerEventType> = {
  decide,
  evolve,
  initialState,
};
