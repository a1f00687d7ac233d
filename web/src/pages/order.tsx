/**
 * One order and its saga, live over graphql-ws (orderSaga): every step as it happens, the
 * outcome, and once it has ended the stock of its products now (a cancelled order's units are
 * back). Cancel while PENDING; return once CONFIRMED.
 */
import {
  CancelOrderDocument,
  CatalogDocument,
  OrderSagaDocument,
  type OrderSummaryFragment,
  RequestReturnDocument,
} from '@magasin/events/operations';
import type { ReactNode } from 'react';
import { ErrorMessage } from '../components/error-message.tsx';
import { useMutation, useQuery, useSubscription } from '../gateway/hooks.ts';
import { formatCents, formatTime } from '../money.ts';
import { hrefOf, navigate } from '../routing.ts';
import { isTerminal } from '../timeline/saga-timeline.ts';
import { TimelineView } from '../timeline/timeline-view.tsx';
import { CATALOG_POLL_MS } from './catalog.tsx';

export const OrderPage = ({ orderId }: { orderId: string }) => {
  const live = useSubscription(OrderSagaDocument, { orderId });
  const saga = live.data?.orderSaga;
  const order = saga?.order;
  const ended = saga ? isTerminal(saga.status) : false;
  // Once the saga has ended, the stock of the order's products, live (compensations may still land).
  const catalog = useQuery(CatalogDocument, { skip: !ended, pollMs: CATALOG_POLL_MS });
  const cancel = useMutation(CancelOrderDocument);
  const requestReturn = useMutation(RequestReturnDocument);
  const reserved = saga?.steps.some((step) => step.name === 'StockReserved') ?? false;

  return (
    <>
      <div className="page-title">
        <h1>Order</h1>
        <code className="id" data-testid="order-id">
          {orderId}
        </code>
      </div>
      <p>
        <a href={hrefOf({ page: 'orders' })}>← Orders</a>
      </p>
      <ErrorMessage error={live.error} prefix="The live timeline stopped." />
      {!saga && !live.error && (
        <p className="hint" data-testid="saga-starting">
          Waiting for the saga to start…
        </p>
      )}
      <div className="order-layout">
        {saga && <TimelineView saga={saga} order={order} />}
        {order && (
          <OrderSummary
            order={order}
            stockNow={ended ? catalog.data?.products : undefined}
            stockReleased={reserved && order.status === 'CANCELLED'}
            actions={
              <>
                {order.status === 'PENDING' && (
                  <button
                    type="button"
                    disabled={cancel.running}
                    onClick={() => void cancel.run({ orderId }).catch(() => undefined)}
                  >
                    Cancel order
                  </button>
                )}
                {order.status === 'CONFIRMED' && (
                  <button
                    type="button"
                    disabled={requestReturn.running}
                    onClick={() =>
                      void requestReturn
                        .run({ orderId })
                        .then(({ requestReturn: started }) =>
                          navigate({ page: 'return', returnId: started.id }),
                        )
                        .catch(() => undefined)
                    }
                  >
                    Return the items
                  </button>
                )}
                <ErrorMessage error={cancel.error ?? requestReturn.error} />
              </>
            }
          />
        )}
      </div>
    </>
  );
};

const OrderSummary = ({
  order,
  stockNow,
  stockReleased,
  actions,
}: {
  order: OrderSummaryFragment;
  stockReleased: boolean;
  stockNow: readonly { id: string; stock: { available: number } }[] | undefined;
  actions: ReactNode;
}) => (
  <aside className="panel order-summary" data-testid="order-summary" data-order-status={order.status}>
    <h2>
      <span className={`status status-${order.status.toLowerCase()}`} data-testid="order-status">
        {order.status}
      </span>{' '}
      {formatCents(order.totalCents, order.currency)}
    </h2>
    <p className="hint">Placed {formatTime(order.placedAt)}</p>
    <table className="lines compact">
      <thead>
        <tr>
          <th>Item</th>
          <th>Qty</th>
          <th>Price</th>
          {stockNow && <th>In stock now</th>}
        </tr>
      </thead>
      <tbody>
        {order.lines.map((line) => (
          <tr key={line.product.id}>
            <td>{line.product.name}</td>
            <td>{line.quantity}</td>
            <td>{formatCents(line.unitPriceCents, order.currency)}</td>
            {stockNow && (
              <td data-testid={`stock-now-${line.product.sku}`}>
                {stockNow.find((product) => product.id === line.product.id)?.stock.available ?? '—'}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
    <p>
      Payment:{' '}
      <strong data-testid="payment-status">
        {order.payment ? order.payment.status.toLowerCase() : 'not charged'}
      </strong>
      {order.payment ? ` (${formatCents(order.payment.amountCents, order.currency)})` : ''}
    </p>
    {stockReleased && (
      <p className="notice ok" data-testid="stock-back">
        The units reserved for this order are released: back on the shelf for other shoppers.
      </p>
    )}
    <div className="actions">{actions}</div>
  </aside>
);
