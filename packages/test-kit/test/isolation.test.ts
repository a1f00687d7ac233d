import amqp from 'amqplib';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase, createTestVhost, eventually } from '../src/index.ts';

describe('test isolation', () => {
  it('gives each caller its own empty database and removes it on drop', async () => {
    const first = await createTestDatabase('isolation');
    const second = await createTestDatabase('isolation');
    expect(first.name).not.toBe(second.name);
    const client = new pg.Client({ connectionString: first.url });
    await client.connect();
    await client.query('CREATE TABLE marker (id int)');
    await client.end();

    const other = new pg.Client({ connectionString: second.url });
    await other.connect();
    const { rows } = await other.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'marker'");
    await other.end();
    expect(rows[0].n).toBe(0);

    await first.drop();
    await second.drop();
    const probe = new pg.Client({ connectionString: first.url });
    await expect(probe.connect()).rejects.toThrow(/does not exist/);
  });

  it('gives each caller its own vhost where queues do not leak between runs', async () => {
    const vhost = await createTestVhost('isolation');
    const connection = await amqp.connect(vhost.url);
    const channel = await connection.createChannel();
    await channel.assertQueue('work', { durable: true });
    await channel.sendToQueue('work', Buffer.from('hello'));
    const message = await eventually(async () => (await channel.get('work', { noAck: true })) || undefined, {
      what: 'the message in the test vhost',
    });
    expect(message.content.toString()).toBe('hello');
    await connection.close();

    await vhost.drop();
    await expect(amqp.connect(vhost.url)).rejects.toThrow();
  });
});
