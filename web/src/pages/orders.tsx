/** Order history: a customer's own orders, every order for an admin; newest first, refreshed live. */
import { OrdersDocument } from '@magasin/events/operations';
import { ErrorMessage } from '../components/error-message.tsx';
import { useQuery } from '../gateway/hooks.ts';
import { formatCents, formatTime } from '../money.ts';
import { hrefOf } from '../routing.ts';

const ORDERS_POLL_MS = 3_000;

const REASONS: Readonly<Record<string, string>> = {
  PAYMENT_DECLINED: 'card declined',
  STOCK_UNAVAILABLE: 'out of stock',
  SAGA_TIMED_OUT: 'payment timed out',
  CUSTOMER_REQUEST: 'cancelled on request',
};

export const OrdersPage = ({ showCustomer }: { showCustomer: boolean }) => {
  const orders = useQuery(OrdersDocument, { pollMs: ORDERS_POLL_MS });
  return (
    <>
      <h1>{showCustomer ? 'All orders' : 'My orders'}</h1>
      <ErrorMessage error={orders.error} prefix="The orders could not be refreshed." />
      {orders.loading && !orders.data && <p className="hint">Loading orders…</p>}
      {orders.data?.orders.length === 0 && (
        <p className="hint">
          No orders yet. <a href={hrefOf({ page: 'catalog' })}>Browse the catalog</a>.
        </p>
      )}
      {orders.data && orders.data.orders.length > 0 && (
        <table className="lines" data-testid="orders">
          <thead>
            <tr>
              <th>Placed</th>
              {showCustomer && <th>Customer</th>}
              <th>Items</th>
              <th>Total</th>
              <th>Status</th>
              <th>Payment</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {orders.data.orders.map((order) => (
              <tr key={order.id} data-testid="order-row" data-order-id={order.id} data-status={order.status}>
                <td>{formatTime(order.placedAt)}</td>
                {showCustomer && <td>{order.customerId}</td>}
                <td>{order.lines.map((line) => `${line.quantity} × ${line.product.name}`).join(', ')}</td>
                <td>{formatCents(order.totalCents, order.currency)}</td>
                <td>
                  <span className={`status status-${order.status.toLowerCase()}`}>{order.status}</span>
                  {order.cancellationReason && (
                    <small> ({REASONS[order.cancellationReason] ?? order.cancellationReason})</small>
                  )}
                </td>
                <td>{order.payment?.status.toLowerCase() ?? '—'}</td>
                <td>
                  <a href={hrefOf({ page: 'order', orderId: order.id })}>Timeline</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
};
