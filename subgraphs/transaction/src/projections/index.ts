/**
 * The transaction service's read model, where `npm run projections:rebuild -- transaction`
 * finds it (`projection`).
 */
export {
  createLedgerPrisma,
  type LedgerEntryKind,
  type LedgerPrisma,
  type LedgerTx,
  projection,
} from './ledger.ts';
export { type ReportRange, type SalesReport, type SalesReportLine, salesReport } from './sales-report.ts';
