/** Admin: the sales ledger's report over a time range (both ends optional), refreshed live. */
import { SalesReportDocument } from '@magasin/events/operations';
import { useState } from 'react';
import { ErrorMessage } from '../components/error-message.tsx';
import { useQuery } from '../gateway/hooks.ts';
import { formatCents } from '../money.ts';

const REPORT_POLL_MS = 5_000;

/** A datetime-local value ("2026-11-25T09:30") as an ISO instant; undefined when empty. */
const isoOf = (local: string): string | undefined => (local ? new Date(local).toISOString() : undefined);

export const SalesReportPage = () => {
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const report = useQuery(SalesReportDocument, {
    variables: { from: isoOf(from) ?? null, to: isoOf(to) ?? null },
    pollMs: REPORT_POLL_MS,
  });
  const data = report.data?.salesReport;
  return (
    <>
      <h1>Sales report</h1>
      <form className="inline-form panel" onSubmit={(event) => event.preventDefault()}>
        <label>
          From <input type="datetime-local" value={from} onChange={(event) => setFrom(event.target.value)} />
        </label>
        <label>
          To <input type="datetime-local" value={to} onChange={(event) => setTo(event.target.value)} />
        </label>
        <span className="hint">Both optional; times in your time zone.</span>
      </form>
      <ErrorMessage error={report.error} prefix="The report could not be read." />
      {data && (
        <>
          <div className="figures" data-testid="sales-totals">
            <Figure label="Sales" value={String(data.salesCount)} testId="sales-count" />
            <Figure label="Gross" value={formatCents(data.grossCents)} testId="gross" />
            <Figure
              label={`Refunds (${data.refundsCount})`}
              value={formatCents(data.refundedCents)}
              testId="refunded"
            />
            <Figure label="Net" value={formatCents(data.netCents)} testId="net" />
          </div>
          <table className="lines" data-testid="sales-lines">
            <thead>
              <tr>
                <th>Product</th>
                <th>Sold</th>
                <th>Returned</th>
                <th>Net quantity</th>
                <th>Net revenue</th>
              </tr>
            </thead>
            <tbody>
              {data.lines.length === 0 && (
                <tr>
                  <td colSpan={5} className="hint">
                    No sales in this range.
                  </td>
                </tr>
              )}
              {data.lines.map((line) => (
                <tr key={line.product.id}>
                  <td>
                    {line.product.name} <code>{line.product.sku}</code>
                  </td>
                  <td>{line.soldQuantity}</td>
                  <td>{line.returnedQuantity}</td>
                  <td>{line.quantity}</td>
                  <td>{formatCents(line.revenueCents)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
};

const Figure = ({ label, value, testId }: { label: string; value: string; testId: string }) => (
  <div className="figure">
    <span className="figure-label">{label}</span>
    <strong data-testid={testId}>{value}</strong>
  </div>
);
