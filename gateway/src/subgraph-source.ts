/**
 * How the gateway talks to a subgraph over HTTP: every request signed as caller `gateway` for
 * the verified end user (the service kit's `x-magasin-*` headers, INTERNAL_SECRET), with the
 * correlation id and trace context, over a pool of keep-alive connections (undici) per subgraph.
 *
 * In-flight deduplication (on by default): a query identical to one already on its way to the
 * same subgraph for the same user (same body, same identity) waits for that request's answer
 * instead of sending its own, as Apollo Router's `deduplicate_query` and Hive Gateway do. Only
 * queries are merged, never mutations; each waiter parses its own copy of the answer (the query
 * planner merges answers into its result in place); the shared request is aborted only when
 * every waiter has gone. The merged requests carry the first one's correlation id and trace.
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CORRELATION_HEADER, type Identity, internalRequestHeaders } from '@magasin/service-kit';
import type { Logger } from 'pino';
import { Pool } from 'undici';
import { GATEWAY_ERROR_CODES, gatewayError } from './errors.ts';

/** The per-operation context of the gateway, as data sources and resolvers see it. */
export interface GatewayContext {
  /** The verified end user; undefined for an anonymous caller. */
  identity: Identity | undefined;
  /** Correlation id of the operation, sent to every subgraph. */
  correlationId: string;
  /** Aborted when the operation times out or the client goes away: in-flight subgraph requests stop. */
  signal?: AbortSignal;
}

/** Options of {@link SignedSubgraphSource}. */
export interface SignedSubgraphSourceOptions {
  /** Subgraph name (logs, metrics). */
  name: string;
  /** Its GraphQL endpoint, e.g. http://127.0.0.1:4001/graphql. */
  url: string;
  /** INTERNAL_SECRET shared with the subgraphs. */
  secret: string;
  /** Connections kept open to this subgraph; default 64. */
  connections?: number;
  /** Merge identical in-flight queries of one user (see the module comment); default true. */
  deduplicate?: boolean;
  /** Told each time a query is answered by a request already in flight. */
  onDeduplicated?: (subgraph: string) => void;
  logger: Logger;
}

/** One HTTP exchange with the subgraph, possibly shared by several identical queries. */
interface Exchange {
  answer: Promise<{ statusCode: number; text: string }>;
  /** Waiters still interested; the request is aborted when it drops to 0. */
  waiters: number;
  abort: AbortController;
}

/** A read: an anonymous operation (`{ ... }`) or a `query`; mutations and subscriptions are never merged. */
const READ = /^\s*(?:\{|query\b)/;

/** Resolves with `promise`, or rejects with the signal's reason as soon as it aborts. */
const untilAborted = <T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: () => void,
): Promise<T> => {
  if (!signal) return promise;
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = () => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', aborted, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', aborted);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', aborted);
        reject(error);
      },
    );
  });
};

const CALLER = 'gateway';

/** A subgraph's GraphQL answer, as `@apollo/gateway` takes it. */
type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A subgraph reached over signed HTTP; see the module comment. */
export class SignedSubgraphSource implements GraphQLDataSource<GatewayContext> {
  readonly name: string;
  readonly url: string;
  private readonly path: string;
  private readonly pool: Pool;
  private readonly secret: string;
  private readonly logger: Logger;
  private readonly deduplicate: boolean;
  private readonly onDeduplicated: ((subgraph: string) => void) | undefined;
  private readonly inFlight = new Map<string, Exchange>();

  constructor(options: SignedSubgraphSourceOptions) {
    const url = new URL(options.url);
    this.name = options.name;
    this.url = url.toString();
    this.path = `${url.pathname}${url.search}`;
    this.secret = options.secret;
    this.logger = options.logger;
    this.deduplicate = options.deduplicate ?? true;
    this.onDeduplicated = options.onDeduplicated;
    this.pool = new Pool(url.origin, {
      connections: options.connections ?? 64,
      keepAliveTimeout: 30_000,
      keepAliveMaxTimeout: 60_000,
    });
  }

  /** Sends one GraphQL request for `identity` and returns the subgraph's answer (errors included). */
  async send(
    request: { query: string; variables?: Record<string, unknown>; operationName?: string | null },
    context: GatewayContext,
  ): Promise<GatewayGraphQLResponse> {
    const body = JSON.stringify({
      query: request.query,
      variables: request.variables ?? {},
      ...(request.operationName ? { operationName: request.operationName } : {}),
    });
    const key =
      this.deduplicate && READ.test(request.query)
        ? `${JSON.stringify(context.identity ?? null)}\n${body}`
        : undefined;
    let exchange = key === undefined ? undefined : this.inFlight.get(key);
    if (exchange) this.onDeduplicated?.(this.name);
    else {
      exchange = this.exchange(body, context);
      if (key !== undefined) {
        this.inFlight.set(key, exchange);
        const forget = () => {
          if (this.inFlight.get(key) === exchange) this.inFlight.delete(key);
        };
        exchange.answer.then(forget, forget);
      }
    }
    exchange.waiters++;
    const shared = exchange;
    let statusCode: number;
    let text: string;
    try {
      ({ statusCode, text } = await untilAborted(shared.answer, context.signal, () => {
        shared.waiters--;
        if (shared.waiters > 0) return;
        if (key !== undefined && this.inFlight.get(key) === shared) this.inFlight.delete(key);
        shared.abort.abort(context.signal?.reason);
      }));
    } catch (error) {
      if (context.signal?.aborted) throw context.signal.reason ?? error;
      this.logger.warn({ subgraph: this.name, url: this.url, err: error }, 'subgraph unreachable');
      throw gatewayError(
        GATEWAY_ERROR_CODES.subgraphUnavailable,
        'a service needed for this operation is unavailable; try again later',
        502,
      );
    }
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    if (isRecord(answer) && ('data' in answer || 'errors' in answer)) return answer as GatewayGraphQLResponse;
    // Not a GraphQL answer: the subgraph refused the request itself (a signature it does not
    // accept: INTERNAL_SECRET differs), or failed outside GraphQL.
    this.logger.error(
      { subgraph: this.name, url: this.url, status: statusCode, body: text.slice(0, 500) },
      'subgraph answered without a GraphQL response',
    );
    throw new Error(`subgraph ${this.name} answered HTTP ${statusCode} without a GraphQL response`);
  }

  /** Sends `body`, signed for the context's user, once. */
  private exchange(body: string, context: GatewayContext): Exchange {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      ...internalRequestHeaders(
        { secret: this.secret, caller: CALLER, ...(context.identity ? { identity: context.identity } : {}) },
        { method: 'POST', path: this.path, body },
      ),
      // The operation's own correlation id, whatever scope the planner runs this in.
      [CORRELATION_HEADER]: context.correlationId,
    };
    const abort = new AbortController();
    const answer = this.pool
      .request({ path: this.path, method: 'POST', headers, body, signal: abort.signal })
      .then(async (response) => ({ statusCode: response.statusCode, text: await response.body.text() }));
    // Waiters that have all gone leave no one to see a failure.
    answer.catch(() => undefined);
    return { answer, waiters: 0, abort };
  }

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request } = options;
    if (!request.query) throw new Error('a subgraph request needs a query');
    return this.send(
      {
        query: request.query,
        ...(request.variables ? { variables: request.variables } : {}),
        ...(request.operationName ? { operationName: request.operationName } : {}),
      },
      options.context as GatewayContext,
    );
  }

  /** Closes the pooled connections. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
