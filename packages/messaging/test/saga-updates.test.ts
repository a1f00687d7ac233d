import { createTestVhost, eventually, type TestVhost } from '@magasin/test-kit';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMessaging, type Messaging } from '../src/index.ts';
import { quietLogger } from './stock-projection.ts';

describe('saga updates fanout', () => {
  let vhost: TestVhost;
  const opened: Messaging[] = [];
  const connect = async (service: string) => {
    const messaging = await connectMessaging({
      url: vhost.url,
      service,
      logger: quietLogger(),
      registry: new Registry(),
    });
    opened.push(messaging);
    return messaging;
  };
  beforeAll(async () => {
    vhost = await createTestVhost('fanout');
  });
  afterAll(async () => {
    await Promise.allSettled(opened.map((messaging) => messaging.close()));
    await vhost?.drop();
  });

  it('delivers every update to every gateway replica', async () => {
    const [saga, gatewayA, gatewayB] = await Promise.all([
      connect('saga'),
      connect('gateway'),
      connect('gateway'),
    ]);
    const seenA: unknown[] = [];
    const seenB: unknown[] = [];
    await gatewayA.subscribeSagaUpdates((update) => seenA.push(update));
    const subscriptionB = await gatewayB.subscribeSagaUpdates((update) => seenB.push(update));
    await saga.publishSagaUpdate({ sagaId: 'o-1', status: 'RUNNING' });
    await saga.publishSagaUpdate({ sagaId: 'o-1', status: 'COMPLETED' });
    await eventually(() => (seenA.length === 2 && seenB.length === 2 ? true : undefined), {
      what: 'both replicas',
    });
    expect(seenA).toEqual([
      { sagaId: 'o-1', status: 'RUNNING' },
      { sagaId: 'o-1', status: 'COMPLETED' },
    ]);
    expect(seenB).toEqual(seenA);
    await subscriptionB.close();
    await saga.publishSagaUpdate({ sagaId: 'o-2', status: 'RUNNING' });
    await eventually(() => (seenA.length === 3 ? true : undefined), { what: 'third update' });
    expect(seenB).toHaveLength(2);
  });
});
