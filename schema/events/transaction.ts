/** Contracts of the transaction context: the sales ledger. */
import { z } from 'zod';
import { cents, id } from './envelope.ts';

export const SaleRecorded = z.object({ saleId: id, orderId: id, customerId: id, amountCents: cents });

export const RefundRecorded = z.object({ refundId: id, orderId: id, returnId: id, amountCents: cents });
