/**
 * The playground's routes: GET /graphql answers the GraphiQL page to browsers (Accept:
 * text/html), and /playground/<file> its bundle. The page's Content-Security-Policy allows
 * nothing but this gateway: the playground works offline, and nothing loads from a CDN.
 */
import type { Express, NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import type { PlaygroundAssets } from './bundle.ts';

/** Where the bundle is served. */
export const PLAYGROUND_ASSETS_PATH = '/playground/';

/** Operations preloaded in the playground's tabs (the public contract's main uses). */
export const EXAMPLE_OPERATIONS: readonly { query: string; variables?: string }[] = [
  {
    query: `# Magasin's GraphQL gateway. Anyone may read the catalog;
# for the rest, put a token in the Headers tab below:
#   npm run token -- --sub alice --role customer
#   {"Authorization": "Bearer <token>"}

query Catalog {
  products {
    id
    sku
    name
    priceCents
    stock { available reserved sold }
  }
}
`,
  },
  {
    query: `# Place an order (customer role): tok_visa is captured, tok_declined is declined,
# tok_timeout never answers (the saga times out and compensates).
mutation PlaceOrder($input: PlaceOrderInput!) {
  placeOrder(input: $input) {
    order { id status totalCents lines { quantity unitPriceCents product { name } } }
  }
}
`,
    variables: JSON.stringify(
      {
        input: {
          lines: [{ productId: '<a product id from Catalog>', quantity: 1 }],
          paymentToken: 'tok_visa',
        },
      },
      null,
      2,
    ),
  },
  {
    query: `# Follow an order's saga live (over WebSocket): current state first, then every change.
subscription FollowOrder($orderId: ID!) {
  orderSaga(orderId: $orderId) {
    status
    steps { name status at detail }
    order { status totalCents lines { quantity product { name } } payment { status } }
  }
}
`,
    variables: JSON.stringify({ orderId: '<an order id from PlaceOrder>' }, null, 2),
  },
  {
    query: `# A customer's own orders; every order for an admin.
query MyOrders {
  orders {
    id
    status
    totalCents
    placedAt
    lines { quantity product { name } }
    payment { status amountCents }
  }
}
`,
  },
  {
    query: `# Admin only.
query SalesReport {
  salesReport { salesCount grossCents refundedCents netCents lines { product { name } quantity revenueCents } }
}
`,
  },
];

const escapeJsonForHtml = (value: unknown): string =>
  JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026');

/** The playground's HTML page. */
export const playgroundPage = (options: {
  endpoint: string;
  examples?: typeof EXAMPLE_OPERATIONS;
}): string => {
  const config = {
    endpoint: options.endpoint,
    assets: PLAYGROUND_ASSETS_PATH,
    examples: options.examples ?? EXAMPLE_OPERATIONS,
    headers: JSON.stringify({ Authorization: '' }, null, 2),
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Magasin GraphQL playground</title>
<link rel="stylesheet" href="${PLAYGROUND_ASSETS_PATH}app.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql"></div>
<script id="playground-config" type="application/json">${escapeJsonForHtml(config)}</script>
<script type="module" src="${PLAYGROUND_ASSETS_PATH}app.js"></script>
</body>
</html>
`;
};

/** The page's policy: this origin only (and its WebSocket), inline styles for Monaco. */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "worker-src 'self' blob:",
  "frame-ancestors 'none'",
].join('; ');

const wantsHtml = (req: Request): boolean => {
  const accept = req.headers.accept ?? '';
  return accept.includes('text/html');
};

/**
 * Mounts the playground on `app` (before the GraphQL middleware). `assets` resolves when the
 * bundle is ready; requests wait for it, and get 503 with the reason if it could not be built.
 */
export const mountPlayground = (
  app: Express,
  options: { assets: Promise<PlaygroundAssets>; endpoint?: string; logger: Logger },
): void => {
  const html = playgroundPage({ endpoint: options.endpoint ?? '/graphql' });
  let failure: string | undefined;
  options.assets.catch((error: unknown) => {
    failure = `the playground could not be bundled: ${(error as Error).message}`;
    options.logger.error({ err: error }, 'playground unavailable');
  });
  app.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
    if (!wantsHtml(req)) {
      next();
      return;
    }
    res
      .status(200)
      .set({
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': CONTENT_SECURITY_POLICY,
        'x-content-type-options': 'nosniff',
        'cache-control': 'no-cache',
      })
      .send(html);
  });
  app.get(`${PLAYGROUND_ASSETS_PATH}:file`, async (req: Request, res: Response) => {
    let assets: PlaygroundAssets;
    try {
      assets = await options.assets;
    } catch {
      res
        .status(503)
        .type('text/plain')
        .send(failure ?? 'the playground is unavailable');
      return;
    }
    const file = assets.get(String(req.params.file));
    if (!file) {
      res.status(404).type('text/plain').send('no such playground file');
      return;
    }
    const gzip = (req.headers['accept-encoding'] ?? '').includes('gzip');
    res.set({
      'content-type': file.contentType,
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
      vary: 'accept-encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    });
    res.send(gzip ? file.gzip : file.body);
  });
};
