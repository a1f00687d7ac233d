import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, env, loadConfig, serviceDatabaseUrl } from '../src/index.ts';

const schema = z.object({
  EVENT_STORE_PORT: env.port(4006),
  RABBITMQ_URL: env.url('amqp://guest:guest@127.0.0.1:5672'),
  PEER_URL: env.url(),
  BATCH_SIZE: env.positiveInt(100),
  INTERNAL_SECRET: env.secret('magasin-dev-internal-secret'),
  LOG_LEVEL: env.logLevel(),
});

const problemsOf = (run: () => unknown): ConfigError => {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration from the environment', () => {
  it('applies defaults when variables are unset or empty', () => {
    expect(loadConfig(schema, { PEER_URL: 'http://127.0.0.1:4001', EVENT_STORE_PORT: '' })).toEqual({
      EVENT_STORE_PORT: 4006,
      RABBITMQ_URL: 'amqp://guest:guest@127.0.0.1:5672',
      PEER_URL: 'http://127.0.0.1:4001',
      BATCH_SIZE: 100,
      INTERNAL_SECRET: 'magasin-dev-internal-secret',
      LOG_LEVEL: 'info',
    });
  });

  it('coerces and keeps the values given', () => {
    const config = loadConfig(schema, {
      EVENT_STORE_PORT: '5006',
      PEER_URL: 'http://peer:1',
      BATCH_SIZE: '7',
      LOG_LEVEL: 'debug',
    });
    expect(config.EVENT_STORE_PORT).toBe(5006);
    expect(config.BATCH_SIZE).toBe(7);
    expect(config.LOG_LEVEL).toBe('debug');
  });

  it('names every bad or missing variable in one message', () => {
    const error = problemsOf(() =>
      loadConfig(schema, {
        EVENT_STORE_PORT: 'abc',
        RABBITMQ_URL: 'not a url',
        BATCH_SIZE: '0',
        LOG_LEVEL: 'loud',
      }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toBe(
      [
        'Invalid configuration:',
        '  EVENT_STORE_PORT: expected an integer between 1 and 65535, got "abc"',
        '  RABBITMQ_URL: expected a URL, got "not a url"',
        '  PEER_URL: required, not set (expected a URL)',
        '  BATCH_SIZE: expected an integer of at least 1, got "0"',
        '  LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      ].join('\n'),
    );
    expect(error.problems.map((p) => p.variable)).toEqual([
      'EVENT_STORE_PORT',
      'RABBITMQ_URL',
      'PEER_URL',
      'BATCH_SIZE',
      'LOG_LEVEL',
    ]);
  });

  it('rejects ports out of range and non-integers', () => {
    for (const port of ['0', '65536', '80.5', '-1']) {
      expect(
        problemsOf(() => loadConfig(schema, { PEER_URL: 'http://a', EVENT_STORE_PORT: port })).problems,
      ).toEqual([
        { variable: 'EVENT_STORE_PORT', problem: `expected an integer between 1 and 65535, got "${port}"` },
      ]);
    }
  });

  it('reports a plain zod field that is missing as required', () => {
    const error = problemsOf(() => loadConfig(z.object({ REGION: z.string() }), {}));
    expect(error.message).toBe('Invalid configuration:\n  REGION: required, not set');
  });

  describe('in production', () => {
    const production = { NODE_ENV: 'production', PEER_URL: 'http://a' };

    it('requires secrets instead of using the development default', () => {
      expect(problemsOf(() => loadConfig(schema, production)).problems).toEqual([
        { variable: 'INTERNAL_SECRET', problem: 'required when NODE_ENV=production, not set' },
      ]);
    });

    it('refuses the development default and short secrets, without echoing them', () => {
      const dev = problemsOf(() =>
        loadConfig(schema, { ...production, INTERNAL_SECRET: 'magasin-dev-internal-secret' }),
      );
      expect(dev.message).toContain('INTERNAL_SECRET: must not be the development default');
      const short = problemsOf(() => loadConfig(schema, { ...production, INTERNAL_SECRET: 'hunter2' }));
      expect(short.message).toContain('INTERNAL_SECRET: must be at least 16 characters');
      expect(short.message).not.toContain('hunter2');
    });

    it('accepts a strong secret', () => {
      const secret = 'a-production-secret-of-32-chars!';
      expect(loadConfig(schema, { ...production, INTERNAL_SECRET: secret }).INTERNAL_SECRET).toBe(secret);
    });
  });
});

describe('service database URL', () => {
  it('appends the database to the DATABASE_URL base, default the local server', () => {
    expect(serviceDatabaseUrl('magasin_event_store', {})).toBe(
      'postgresql://postgres@127.0.0.1:5432/magasin_event_store',
    );
    expect(
      serviceDatabaseUrl('magasin_store', {
        DATABASE_URL: 'postgresql://u:p@db:6543/postgres?sslmode=require',
      }),
    ).toBe('postgresql://u:p@db:6543/magasin_store?sslmode=require');
  });

  it('prefers <SERVICE>_DATABASE_URL', () => {
    expect(
      serviceDatabaseUrl('magasin_event_store', {
        DATABASE_URL: 'postgresql://ignored',
        EVENT_STORE_DATABASE_URL: 'postgresql://es@host/events',
      }),
    ).toBe('postgresql://es@host/events');
  });

  it('names the variable when it is not a URL', () => {
    expect(() => serviceDatabaseUrl('magasin_audit', { AUDIT_DATABASE_URL: 'nope' })).toThrow(
      'AUDIT_DATABASE_URL: expected a URL, got "nope"',
    );
  });
});

describe('a service main with a bad configuration', () => {
  const runFixture = (environment: Record<string, string>) =>
    spawnSync(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./fixtures/main.ts', import.meta.url))],
      {
        env: { PATH: process.env.PATH, ...environment },
        encoding: 'utf8',
        timeout: 20_000,
      },
    );

  it('prints the one message naming every bad variable and exits 1', () => {
    const result = runFixture({ EVENT_STORE_PORT: 'abc' });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Invalid configuration:\n' +
        '  EVENT_STORE_PORT: expected an integer between 1 and 65535, got "abc"\n' +
        '  RABBITMQ_URL: required, not set (expected a URL)\n',
    );
  });

  it('starts when the configuration is valid', () => {
    const result = runFixture({ RABBITMQ_URL: 'amqp://127.0.0.1' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('started on 4006\n');
    expect(result.status).toBe(0);
  });
});
