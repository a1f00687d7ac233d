import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type RunningService, ShutdownTimeoutError } from '../src/index.ts';
import { startTestService } from './service-fixture.ts';

/** A GET on its own connection (no pooling), so each request is exactly one TCP connection. */
const get = (url: string, agent: Agent | false = false) =>
  new Promise<{ status: number; body: string; connection: string | undefined }>((resolve, reject) => {
    request(url, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection }),
      );
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });

/** Resolves with the error code of a new TCP connection attempt, or 'connected'. */
const connectOutcome = (service: RunningService) =>
  new Promise<string>((resolve) => {
    const socket = connect(Number(new URL(service.url).port), '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

describe('graceful shutdown', () => {
  it('drains an in-flight request, refuses new connections, then runs onShutdown and resolves', async () => {
    const events: string[] = [];
    const entered = gate();
    const release = gate();
    const service = await startTestService({
      routes: (app) => {
        app.get('/slow', async (_req, res) => {
          entered.open();
          await release.opened;
          res.json({ done: true });
          events.push('responded');
        });
      },
      onShutdown: async () => {
        events.push('onShutdown');
      },
    });

    const slow = get(`${service.url}/slow`);
    await entered.opened;
    const stopped = service.stop().then(() => events.push('stopped'));

    expect(await connectOutcome(service)).toBe('ECONNREFUSED');
    expect(events).toEqual([]);

    release.open();
    expect(await slow).toMatchObject({ status: 200, body: '{"done":true}' });
    await stopped;
    expect(events).toEqual(['responded', 'onShutdown', 'stopped']);
    expect(service.server.listening).toBe(false);
  });

  it('answers /readyz 503 once shutdown started', async () => {
    const checking = gate();
    const release = gate();
    const service = await startTestService({
      readiness: [
        {
          name: 'slow-dependency',
          check: async () => {
            checking.open();
            await release.opened;
          },
        },
      ],
    });
    const readyz = get(`${service.url}/readyz`);
    await checking.opened;
    const stopped = service.stop();
    release.open();
    const answer = await readyz;
    expect(answer.status).toBe(503);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 'shutting_down' });
    expect(answer.connection).toBe('close');
    await stopped;
  });

  it('closes idle keep-alive connections instead of waiting for them', async () => {
    const service = await startTestService();
    const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
    try {
      expect((await get(`${service.url}/healthz`, agent)).status).toBe(200);
      const idle = Object.values(agent.freeSockets).flat();
      expect(idle).toHaveLength(1);
      const closed = new Promise((resolve) => idle[0]?.once('close', resolve));

      const started = Date.now();
      await service.stop();
      await closed;
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      agent.destroy();
    }
  });

  it('leaves upgraded connections (WebSockets) open for onShutdown to close', async () => {
    let upgradedSocket: Duplex | undefined;
    const service = await startTestService({
      onShutdown: async () => {
        upgradedSocket?.end('going away');
      },
    });
    service.server.on('upgrade', (_req, socket) => {
      upgradedSocket = socket;
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n');
    });
    const client = await new Promise<Socket>((resolve, reject) => {
      request(service.url, { agent: false, headers: { connection: 'Upgrade', upgrade: 'test' } })
        .on('upgrade', (_response, socket) => resolve(socket))
        .on('error', reject)
        .end();
    });
    let received = '';
    client.setEncoding('utf8');
    client.on('data', (chunk: string) => {
      received += chunk;
    });
    const ended = new Promise((resolve) => client.once('end', resolve));
    await service.stop();
    await ended;
    expect(received).toBe('going away');
  });

  it('is idempotent', async () => {
    let shutdowns = 0;
    const service = await startTestService({
      onShutdown: async () => {
        shutdowns += 1;
      },
    });
    const first = service.stop();
    expect(service.stop()).toBe(first);
    await first;
    await service.stop();
    expect(shutdowns).toBe(1);
  });

  it('gives up after shutdownTimeoutMs, destroying the connections still open', async () => {
    const entered = gate();
    const service = await startTestService({
      shutdownTimeoutMs: 200,
      routes: (app) => {
        app.get('/never', () => entered.open());
      },
    });
    const never = get(`${service.url}/never`);
    await entered.opened;
    await expect(service.stop()).rejects.toBeInstanceOf(ShutdownTimeoutError);
    await expect(never).rejects.toThrow(/socket hang up|ECONNRESET/);
    expect(
      service.logs.some((line) => line.level === 'error' && String(line.msg).includes('did not shut down')),
    ).toBe(true);
  });
});

describe('start-up', () => {
  it('fails to start with the address when the port is taken', async () => {
    const first = await startTestService();
    try {
      const port = Number(new URL(first.url).port);
      await expect(startTestService({ name: 'second', port })).rejects.toThrow(
        `second cannot listen on 127.0.0.1:${port}: listen EADDRINUSE`,
      );
    } finally {
      await first.stop();
    }
  });

  it('reports the real URL of an ephemeral port', async () => {
    const service = await startTestService();
    try {
      expect(service.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Number(new URL(service.url).port)).toBeGreaterThan(0);
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});
