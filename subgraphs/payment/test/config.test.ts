import { ConfigError } from '@magasin/service-kit';
import { describe, expect, it } from 'vitest';
import { loadPaymentConfig } from '../src/config.ts';

describe('payment configuration', () => {
  it('defaults to port 4003, database magasin_payment, a 5 s processor timeout and no latency', () => {
    const config = loadPaymentConfig({});
    expect(config).toMatchObject({
      port: 4003,
      PAYMENT_PROCESSOR_TIMEOUT_MS: 5_000,
      PAYMENT_PROCESSOR_LATENCY_MS: 0,
    });
    expect(new URL(config.databaseUrl).pathname).toBe('/magasin_payment');
  });

  it('reads the port, the processor timeout and latency from the environment', () => {
    expect(
      loadPaymentConfig({
        PAYMENT_PORT: '5003',
        PAYMENT_PROCESSOR_TIMEOUT_MS: '250',
        PAYMENT_PROCESSOR_LATENCY_MS: '20',
      }),
    ).toMatchObject({ port: 5003, PAYMENT_PROCESSOR_TIMEOUT_MS: 250, PAYMENT_PROCESSOR_LATENCY_MS: 20 });
  });

  it('names every bad variable', () => {
    const load = () =>
      loadPaymentConfig({ PAYMENT_PROCESSOR_TIMEOUT_MS: '0', PAYMENT_PROCESSOR_LATENCY_MS: '-5' });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(/PAYMENT_PROCESSOR_TIMEOUT_MS[\s\S]*PAYMENT_PROCESSOR_LATENCY_MS/);
  });
});
