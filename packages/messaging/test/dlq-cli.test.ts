import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { EXCHANGES, routingKeyFor } from '@magasin/events';
import { eventually } from '@magasin/test-kit';
import amqp from 'amqplib';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DropRecord, listParked, type Messaging, pgInbox } from '../src/index.ts';
import { type StockService, startStockService, stockReserved } from './stock-projection.ts';

const run = promisify(execFile);
const cli = (url: string, ...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/dlq-cli.ts', ...args, '--url', url], {
    cwd: new URL('..', import.meta.url).pathname,
  });

describe('npm run dlq', () => {
  let service: StockService;
  let messaging: Messaging;

  beforeAll(async () => {
    service = await startStockService('dlqcli');
    messaging = await service.connect();
    await messaging.consume<pg.PoolClient>({
      inbox: pgInbox(service.pool),
      retry: { maxAttempts: 1 },
      events: {
        StockReserved: async () => {
          throw new Error('projection table missing');
        },
      },
    });
  });
  afterAll(() => service?.teardown());

  it('lists parked messages and drops one with a record of who dropped it', async () => {
    const [first, second] = [stockReserved('p-1', 1), stockReserved('p-2', 2)];
    if (!first || !second) throw new Error('unreachable');
    await messaging.publishEvents([first, second]);
    await eventually(
      async () => ((await listParked(service.vhost.url, 'inventory')).length === 2 ? true : undefined),
      {
        what: 'two parked',
      },
    );

    const list = await cli(service.vhost.url, 'list', 'inventory');
    expect(list.stdout).toContain('2 parked in inventory.dlq');
    expect(list.stdout).toMatch(
      new RegExp(
        `${first.eventId}\\s+StockReserved\\s+inventory\\.StockReserved\\s+1\\s+\\S+\\s+Error: projection table missing`,
      ),
    );

    const drop = await cli(
      service.vhost.url,
      'drop',
      'inventory',
      '--id',
      first.eventId,
      '--by',
      'operator-ann',
    );
    expect(drop.stdout).toContain('1 dropped from inventory.dlq by operator-ann');
    expect((await listParked(service.vhost.url, 'inventory')).map((message) => message.messageId)).toEqual([
      second.eventId,
    ]);

    const connection = await amqp.connect(service.vhost.url);
    const channel = await connection.createChannel();
    const recorded = await channel.get('inventory.dlq.dropped', { noAck: true });
    await connection.close();
    const record = JSON.parse(recorded ? recorded.content.toString() : 'null') as DropRecord;
    expect(record).toMatchObject({
      droppedBy: 'operator-ann',
      queue: 'inventory',
      message: {
        messageId: first.eventId,
        routingKey: routingKeyFor('StockReserved'),
        exchange: EXCHANGES.events,
      },
    });
    expect(JSON.parse(record.message.body)).toEqual(first);
  });

  it('refuses replay and drop without a selection, and an unknown service', async () => {
    await Promise.all([
      expect(cli(service.vhost.url, 'replay', 'inventory')).rejects.toMatchObject({
        code: 2,
        stderr: expect.stringContaining('replay needs --id <messageId> or --all'),
      }),
      expect(cli(service.vhost.url, 'list', 'nosuch')).rejects.toMatchObject({
        code: 1,
        stderr: expect.stringContaining('queue nosuch.dlq does not exist'),
      }),
    ]);
  });
});
