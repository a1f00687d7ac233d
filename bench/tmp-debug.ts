import { gatewayClient, startStack, untilStoreKnowsProduct } from '@magasin/e2e';

const stack = await startStack('dbg_stack');
const metric = async (service: string, name: string) => {
  const text = await (await fetch(`${stack.urls[service]}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith(name)).join(' | ');
};
try {
  const admin = await gatewayClient(stack.gatewayUrl, { sub: 'ada', roles: ['admin'] });
  const alice = await gatewayClient(stack.gatewayUrl, { sub: 'alice', roles: ['customer'] });
  const created = await admin.query<{ createProduct: { id: string } }>(
    'mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }',
    { input: { sku: `DBG-${Date.now()}`, name: 'P', priceCents: 100, initialStock: 100000 } },
  );
  const productId = created.data?.createProduct.id as string;
  await untilStoreKnowsProduct(alice, productId);
  for (let round = 0; round < 4; round++) {
    await Promise.all(
      Array.from({ length: 32 }, () =>
        alice.query('mutation ($input: PlaceOrderInput!) { placeOrder(input: $input) { order { id } } }', {
          input: { lines: [{ productId, quantity: 1 }], paymentToken: 'tok_visa' },
        }),
      ),
    );
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 1000));
      console.log(
        round, i,
        await metric('event-store', 'magasin_eventstore_head_position'),
        await metric('saga', 'magasin_projection_position'),
        await metric('saga', 'magasin_projection_events_total'),
        await metric('saga', 'magasin_saga_updates_published_total'),
      );
    }
  }
  await new Promise((r) => setTimeout(r, 5000));
  console.log('end', await metric('event-store', 'magasin_eventstore_head_position'), await metric('saga', 'magasin_projection_position'), await metric('saga', 'magasin_projection_events_total'));
  await Promise.all([admin.close(), alice.close()]);
} finally {
  console.log(stack.logs().split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(-20).join('\n').slice(0, 5000));
  await stack.stop();
}
