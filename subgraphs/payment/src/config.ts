/** The payment subgraph's configuration, read and validated once at start-up. */
import { env } from '@magasin/service-kit';
import { loadSubgraphConfig } from '@magasin/subgraph-kit';
import { z } from 'zod';

/** Service name: queue, projection checkpoint, database `magasin_payment`. */
export const SERVICE = 'payment';

/** An integer >= 0 from the environment; `defaultValue` when unset or empty. */
const nonNegativeInt = (defaultValue: number) =>
  z
    .string()
    .optional()
    .transform((raw, ctx) => {
      if (raw === undefined || raw === '') return defaultValue;
      if (/^\s*\d+\s*$/.test(raw) && Number.isSafeInteger(Number(raw))) return Number(raw);
      ctx.addIssue({
        code: 'custom',
        message: `expected an integer of at least 0, got ${JSON.stringify(raw)}`,
      });
      return z.NEVER;
    });

const extra = {
  /** How long a charge or refund may take before the handler gives up and records nothing. */
  PAYMENT_PROCESSOR_TIMEOUT_MS: env.positiveInt(5_000),
  /** Delay of every answer of the simulated processor, for realism. */
  PAYMENT_PROCESSOR_LATENCY_MS: nonNegativeInt(0),
};

/** The payment subgraph's configuration. */
export type PaymentConfig = ReturnType<typeof loadPaymentConfig>;

/** Reads the environment (PAYMENT_PORT, default 4003); throws ConfigError naming every bad variable. */
export const loadPaymentConfig = (environment: NodeJS.ProcessEnv = process.env) =>
  loadSubgraphConfig(SERVICE, { portEnv: 'PAYMENT_PORT', port: 4003, extra }, environment);
