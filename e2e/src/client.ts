/**
 * A client of the gateway as a web client or a script would use it: HTTP POST with a bearer
 * token, and subscriptions over graphql-ws (Node 20 has no global WebSocket: `ws`).
 */
import { createDevToken } from '@magasin/scripts';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

/** A GraphQL answer. */
export interface Answer<D = Record<string, unknown>> {
  data?: D | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** A gateway client acting for one dev user. */
export interface GatewayClient {
  readonly token: string | undefined;
  query<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<Answer<D>>;
  /** Every payload of a subscription until it completes (or fails, or `timeoutMs` passes). */
  subscribe<D = Record<string, unknown>>(
    query: string,
    variables: Record<string, unknown>,
    options?: { timeoutMs?: number; onNext?: (answer: Answer<D>) => void },
  ): Promise<Answer<D>[]>;
  close(): Promise<void>;
}

/** A client of `gatewayUrl` (`.../graphql`) for `sub` with `roles` (anonymous when `sub` is undefined). */
export const gatewayClient = async (
  gatewayUrl: string,
  user?: { sub: string; roles: string[] },
): Promise<GatewayClient> => {
  const token = user ? await createDevToken({ sub: user.sub, roles: user.roles, ttl: '1h' }) : undefined;
  const authorization: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const ws = createClient({
    url: gatewayUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: authorization,
    lazy: true,
    retryAttempts: 0,
  });
  return {
    token,
    query: async (query, variables = {}) => {
      const response = await fetch(gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authorization },
        body: JSON.stringify({ query, variables }),
      });
      return (await response.json()) as Answer<never>;
    },
    subscribe: (query, variables, options = {}) =>
      new Promise((resolve, reject) => {
        const received: Answer<never>[] = [];
        const timer = setTimeout(() => {
          dispose();
          reject(
            new Error(
              `subscription did not complete within ${options.timeoutMs ?? 30_000} ms; got ${JSON.stringify(received)}`,
            ),
          );
        }, options.timeoutMs ?? 30_000);
        const dispose = ws.subscribe<never>(
          { query, variables },
          {
            next: (answer) => {
              received.push(answer as Answer<never>);
              options.onNext?.(answer as Answer<never>);
            },
            error: (error) => {
              clearTimeout(timer);
              reject(error instanceof Error ? error : new Error(JSON.stringify(error)));
            },
            complete: () => {
              clearTimeout(timer);
              resolve(received);
            },
          },
        );
      }),
    close: () => ws.dispose() as Promise<void>,
  };
};

/**
 * Waits until the store knows `productId` (it prices orders from its own catalog, which follows
 * the log), placing nothing: an order of `MAX_GRAPHQL_INT` items is refused as too large once the
 * product is known (BAD_USER_INPUT), and as unknown (NOT_FOUND) before.
 */
export const untilStoreKnowsProduct = async (
  customer: GatewayClient,
  productId: string,
  { timeoutMs = 30_000, intervalMs = 100 } = {},
): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const probe = await customer.query(
      'mutation ($id: ID!) { placeOrder(input: { lines: [{ productId: $id, quantity: 2147483647 }], paymentToken: "tok_visa" }) { order { id } } }',
      { id: productId },
    );
    const code = probe.errors?.[0]?.extensions?.code;
    if (code === 'BAD_USER_INPUT') return;
    if (code !== 'NOT_FOUND') throw new Error(`probing the store for ${productId}: ${JSON.stringify(probe)}`);
    if (Date.now() > deadline)
      throw new Error(`the store did not learn product ${productId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
};
