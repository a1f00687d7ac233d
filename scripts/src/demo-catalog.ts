/**
 * The demo catalog `npm start` creates when the inventory has no product yet, through the
 * inventory subgraph's own `createProduct` (signed as an internal caller acting for an admin),
 * so it lands in the event store like any product an admin creates.
 */
import { type Identity, signedFetch } from '@magasin/service-kit';

/** The products of a fresh demo store. */
export const DEMO_CATALOG = [
  { sku: 'KET-001', name: 'Enamel kettle', priceCents: 3490, initialStock: 40 },
  { sku: 'TEA-010', name: 'Sencha tea, 100 g', priceCents: 890, initialStock: 200 },
  { sku: 'MUG-002', name: 'Stoneware mug', priceCents: 1250, initialStock: 120 },
  { sku: 'POT-003', name: 'Cast-iron teapot', priceCents: 5900, initialStock: 15 },
  { sku: 'STR-004', name: 'Tea strainer', priceCents: 450, initialStock: 300 },
  { sku: 'LIM-999', name: 'Limited edition tea set', priceCents: 18900, initialStock: 3 },
] as const;

const SEEDER: Identity = { sub: 'demo-seed', roles: ['admin'] };

/** Creates the demo catalog when `products` is empty; returns how many products it created. */
export const seedDemoCatalog = async (options: {
  inventoryUrl: string;
  internalSecret: string;
}): Promise<number> => {
  const fetchSigned = signedFetch({ secret: options.internalSecret, caller: 'seed', identity: SEEDER });
  const graphql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetchSigned(`${options.inventoryUrl}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    const answer = (await response.json()) as {
      data?: Record<string, unknown>;
      errors?: { message: string }[];
    };
    if (answer.errors?.length)
      throw new Error(`inventory answered: ${answer.errors.map((e) => e.message).join('; ')}`);
    return answer.data ?? {};
  };
  const { products } = (await graphql('{ products { id } }')) as { products: unknown[] };
  if (products.length > 0) return 0;
  for (const input of DEMO_CATALOG) {
    await graphql('mutation ($input: CreateProductInput!) { createProduct(input: $input) { id } }', {
      input,
    });
  }
  return DEMO_CATALOG.length;
};
