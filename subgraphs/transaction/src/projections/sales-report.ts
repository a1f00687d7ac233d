/**
 * The sales report, computed by PostgreSQL from the ledger read model: totals grouped by entry
 * kind and product lines grouped by product and kind, both over entries whose time is in the
 * range, read in one repeatable-read snapshot so totals and lines agree.
 */
import { DomainError } from '@magasin/subgraph-kit';
import type { LedgerEntryKind, LedgerPrisma } from './ledger.ts';

/** Net sales of one product over the range: what was sold minus what was refunded. */
export interface SalesReportLine {
  productId: string;
  /** soldQuantity - returnedQuantity. */
  quantity: number;
  /** Revenue of sold lines minus revenue of refunded lines, in cents. */
  revenueCents: number;
  soldQuantity: number;
  returnedQuantity: number;
}

/** Totals of the ledger over a time range. */
export interface SalesReport {
  from: Date | null;
  to: Date | null;
  salesCount: number;
  refundsCount: number;
  grossCents: number;
  refundedCents: number;
  netCents: number;
  /** By product, highest net revenue first. */
  lines: SalesReportLine[];
}

/** A report range; both ends inclusive, each optional (unbounded). */
export interface ReportRange {
  from?: Date | null;
  to?: Date | null;
}

/** The report of entries whose time is in `range`; BAD_USER_INPUT when `from` is after `to`. */
export const salesReport = async (prisma: LedgerPrisma, range: ReportRange): Promise<SalesReport> => {
  const from = range.from ?? null;
  const to = range.to ?? null;
  if (from && to && from > to) {
    throw new DomainError(
      'BAD_USER_INPUT',
      `the report range starts (${from.toISOString()}) after it ends (${to.toISOString()})`,
      { from: from.toISOString(), to: to.toISOString() },
    );
  }
  const at = { ...(from ? { gte: from } : {}), ...(to ? { lte: to } : {}) };
  const { totals, lines } = await prisma.$transaction(
    async (tx) => ({
      totals: await tx.ledgerEntry.groupBy({
        by: ['kind'],
        where: { at },
        _count: { _all: true },
        _sum: { amountCents: true },
      }),
      lines: await tx.ledgerEntryLine.groupBy({
        by: ['productId', 'kind'],
        where: { at },
        _sum: { quantity: true, revenueCents: true },
      }),
    }),
    { isolationLevel: 'RepeatableRead' },
  );

  const total = (kind: LedgerEntryKind) => totals.find((row) => row.kind === kind);
  const grossCents = total('SALE')?._sum.amountCents ?? 0;
  const refundedCents = total('REFUND')?._sum.amountCents ?? 0;

  const byProduct = new Map<string, SalesReportLine>();
  for (const row of lines) {
    const line = byProduct.get(row.productId) ?? {
      productId: row.productId,
      quantity: 0,
      revenueCents: 0,
      soldQuantity: 0,
      returnedQuantity: 0,
    };
    const quantity = row._sum.quantity ?? 0;
    const revenueCents = row._sum.revenueCents ?? 0;
    const sign = row.kind === 'REFUND' ? -1 : 1;
    if (sign > 0) line.soldQuantity += quantity;
    else line.returnedQuantity += quantity;
    line.quantity += sign * quantity;
    line.revenueCents += sign * revenueCents;
    byProduct.set(row.productId, line);
  }

  return {
    from,
    to,
    salesCount: total('SALE')?._count._all ?? 0,
    refundsCount: total('REFUND')?._count._all ?? 0,
    grossCents,
    refundedCents,
    netCents: grossCents - refundedCents,
    lines: [...byProduct.values()].sort(
      (a, b) => b.revenueCents - a.revenueCents || a.productId.localeCompare(b.productId),
    ),
  };
};
