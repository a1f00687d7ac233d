import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Starts the fixture service in its own process and resolves once it printed its URL. */
const serve = async (environment: Record<string, string> = {}) => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('./fixtures/serve.ts', import.meta.url))],
    {
      env: { PATH: process.env.PATH, ...environment },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  while (!stdout.includes('\n')) {
    await Promise.race([once(child.stdout, 'data'), exited.then(() => Promise.reject(new Error(stderr)))]);
  }
  return { child, url: stdout.trim(), exited, output: () => ({ stdout, stderr }) };
};

describe('signals', () => {
  it('SIGTERM stops the service gracefully and exits 0', async () => {
    const service = await serve();
    expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
    service.child.kill('SIGTERM');
    const [code] = await service.exited;
    expect(code).toBe(0);
    expect(service.output().stdout).toContain('onShutdown ran');
    expect(service.output().stderr).toContain('"msg":"signalled stopped"');
  });

  it('sends the spans still waiting in the exporter before it exits', async () => {
    const exports: string[] = [];
    const collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        exports.push(`${req.method} ${req.url} ${Buffer.concat(chunks).toString('latin1')}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    collector.listen(0, '127.0.0.1');
    await once(collector, 'listening');
    try {
      const { port } = collector.address() as AddressInfo;
      // The batch exporter sends every 5 s: a request just before SIGTERM is still in its batch.
      const service = await serve({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` });
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      service.child.kill('SIGTERM');
      const [code] = await service.exited;
      expect(code).toBe(0);
      expect(exports).toHaveLength(1);
      expect(exports[0]).toMatch(/^POST \/v1\/traces /);
      expect(exports[0]).toContain('signalled');
      expect(exports[0]).toContain('GET /healthz');
    } finally {
      collector.close();
    }
  });

  it('exits 1 within the shutdown bound when shutdown hangs', async () => {
    const service = await serve({ HANG_ON_SHUTDOWN: '1' });
    const started = Date.now();
    service.child.kill('SIGTERM');
    const [code] = await service.exited;
    expect(code).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(service.output().stderr).toContain('did not shut down within 300 ms');
  });
});
