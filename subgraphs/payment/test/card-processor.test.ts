import { describe, expect, it } from 'vitest';
import {
  DECLINE_REASONS,
  maskCardToken,
  ProcessorTimeoutError,
  simulatedCardProcessor,
  withProcessorTimeout,
} from '../src/card-processor.ts';

const processor = simulatedCardProcessor();
const charge = (token: string, idempotencyKey = 'order-1') =>
  processor.charge({ token, amountCents: 4200, idempotencyKey });

describe('simulated card processor', () => {
  it('captures tok_visa', async () => {
    expect(await charge('tok_visa')).toMatchObject({ status: 'captured' });
  });

  it('declines tok_declined with a reason', async () => {
    expect(await charge('tok_declined')).toMatchObject({
      status: 'declined',
      reason: DECLINE_REASONS.insufficientFunds,
    });
  });

  it('declines any other token as invalid, without echoing it', async () => {
    const result = await charge('tok_mastercard_secret');
    expect(result).toMatchObject({ status: 'declined', reason: DECLINE_REASONS.invalidToken });
    expect(JSON.stringify(result)).not.toContain('tok_mastercard_secret');
  });

  it('answers the same charge for the same idempotency key', async () => {
    const [first, second, other] = await Promise.all([
      charge('tok_visa', 'order-1'),
      charge('tok_visa', 'order-1'),
      charge('tok_visa', 'order-2'),
    ]);
    expect(second).toEqual(first);
    expect(other?.chargeId).not.toBe(first?.chargeId);
  });

  it('never answers tok_timeout: the caller bounds it', async () => {
    await expect(withProcessorTimeout('charge', 50, charge('tok_timeout'))).rejects.toBeInstanceOf(
      ProcessorTimeoutError,
    );
  });

  it('answers after the configured latency', async () => {
    const slow = simulatedCardProcessor({ latencyMs: 20 });
    await expect(
      slow.charge({ token: 'tok_visa', amountCents: 1, idempotencyKey: 'k' }),
    ).resolves.toMatchObject({ status: 'captured' });
  });

  it('refunds once per idempotency key', async () => {
    const first = await processor.refund({ chargeId: 'c', amountCents: 1, idempotencyKey: 'refund/c' });
    const again = await processor.refund({ chargeId: 'c', amountCents: 1, idempotencyKey: 'refund/c' });
    expect(again).toEqual(first);
  });

  it('masks card tokens for logs', () => {
    expect(maskCardToken('tok_visa')).toBe('tok_****');
  });
});
