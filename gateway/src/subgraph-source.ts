/**
 * How the gateway talks to a subgraph over HTTP: every request signed as caller `gateway` for
 * the verified end user (the service kit's `x-magasin-*` headers, INTERNAL_SECRET), with the
 * correlation id and trace context, over a pool of keep-alive connections (undici) per subgraph.
 */
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CORRELATION_HEADER, type Identity, signInternalRequest } from '@magasin/service-kit';
import { currentTraceparent } from '@magasin/telemetry';
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
  logger: Logger;
}

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

  constructor(options: SignedSubgraphSourceOptions) {
    const url = new URL(options.url);
    this.name = options.name;
    this.url = url.toString();
    this.path = `${url.pathname}${url.search}`;
    this.secret = options.secret;
    this.logger = options.logger;
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
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
      [CORRELATION_HEADER]: context.correlationId,
      ...signInternalRequest({
        secret: this.secret,
        caller: CALLER,
        method: 'POST',
        path: this.path,
        body,
        ...(context.identity ? { identity: context.identity } : {}),
      }),
    };
    const traceparent = currentTraceparent();
    if (traceparent) headers.traceparent = traceparent;

    let statusCode: number;
    let text: string;
    try {
      const response = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers,
        body,
        ...(context.signal ? { signal: context.signal } : {}),
      });
      statusCode = response.statusCode;
      text = await response.body.text();
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
