/**
 * The card processor behind an interface, and the simulated one Magasin runs against.
 *
 * Simulated tokens: `tok_visa` is captured; `tok_declined` is declined (insufficient funds);
 * `tok_timeout` never answers (the promise never settles: callers bound it with
 * {@link withProcessorTimeout}); any other token is declined as invalid.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { v5 as uuidv5 } from 'uuid';

/** A charge of a card. */
export interface ChargeRequest {
  /** The card token from the client; never logged nor stored (see {@link maskCardToken}). */
  token: string;
  amountCents: number;
  /** The same key charges at most once: a repeated request answers the first result. */
  idempotencyKey: string;
}

/** What a charge did. `chargeId` identifies the attempt (also for a decline); same key, same id. */
export type ChargeResult =
  | { status: 'captured'; chargeId: string }
  | { status: 'declined'; chargeId: string; reason: string };

/** A refund of a captured charge. */
export interface RefundRequest {
  chargeId: string;
  amountCents: number;
  /** The same key refunds at most once. */
  idempotencyKey: string;
}

/** What a refund did. */
export interface RefundResult {
  status: 'refunded';
  refundId: string;
}

/** A card processor. Both calls are idempotent by `idempotencyKey`; either may never answer. */
export interface CardProcessor {
  charge(request: ChargeRequest): Promise<ChargeResult>;
  refund(request: RefundRequest): Promise<RefundResult>;
}

/** Tokens the simulated processor knows. */
export const SIMULATED_TOKENS = {
  captured: 'tok_visa',
  declined: 'tok_declined',
  timeout: 'tok_timeout',
} as const;

/** Decline reasons of the simulated processor (they never echo the token). */
export const DECLINE_REASONS = {
  insufficientFunds: 'card declined: insufficient funds',
  invalidToken: 'card declined: invalid card token',
} as const;

/** Options of {@link simulatedCardProcessor}. */
export interface SimulatedProcessorOptions {
  /** Delay before every answer, for realism; default 0. */
  latencyMs?: number;
}

// Ids derive from the idempotency key, so the simulation is idempotent across restarts and
// replicas without keeping state: the same key always names the same charge or refund.
const CHARGE_NAMESPACE = 'a3c9f1d2-5b7e-4c1a-9f0e-2d6b8e4a7c35';
const REFUND_NAMESPACE = '6f2e8d4b-1c3a-4e5f-8b7d-9a0c2e4f6b81';

/** The simulated processor of the design; see the module comment for its tokens. */
export const simulatedCardProcessor = (options: SimulatedProcessorOptions = {}): CardProcessor => {
  const latency = () => (options.latencyMs ? sleep(options.latencyMs) : Promise.resolve());
  return {
    async charge({ token, idempotencyKey }) {
      if (token === SIMULATED_TOKENS.timeout) return new Promise<never>(() => {});
      await latency();
      const chargeId = uuidv5(idempotencyKey, CHARGE_NAMESPACE);
      if (token === SIMULATED_TOKENS.captured) return { status: 'captured', chargeId };
      if (token === SIMULATED_TOKENS.declined)
        return { status: 'declined', chargeId, reason: DECLINE_REASONS.insufficientFunds };
      return { status: 'declined', chargeId, reason: DECLINE_REASONS.invalidToken };
    },
    async refund({ idempotencyKey }) {
      await latency();
      return { status: 'refunded', refundId: uuidv5(idempotencyKey, REFUND_NAMESPACE) };
    },
  };
};

/** The processor did not answer in time: nothing is known about the charge or refund. */
export class ProcessorTimeoutError extends Error {
  override readonly name = 'ProcessorTimeoutError';
  constructor(
    readonly operation: 'charge' | 'refund',
    readonly timeoutMs: number,
  ) {
    super(`the card processor did not answer the ${operation} within ${timeoutMs} ms`);
  }
}

/** `call`, or a ProcessorTimeoutError after `timeoutMs` if it has not settled by then. */
export const withProcessorTimeout = async <T>(
  operation: 'charge' | 'refund',
  timeoutMs: number,
  call: Promise<T>,
): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProcessorTimeoutError(operation, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([call, timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** A card token as it may appear in logs: its first 4 characters, the rest masked. */
export const maskCardToken = (token: string): string =>
  `${token.slice(0, 4)}${'*'.repeat(Math.max(0, token.length - 4))}`;
