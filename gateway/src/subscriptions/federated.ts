/**
 * Federated subscriptions, which the stock `@apollo/gateway` cannot execute. A subscription is
 * planned by the federation query planner into a primary fetch (the root field, subscribed on
 * the subgraph that owns it) and the rest (fields other subgraphs contribute). Each event of
 * the primary is put through the rest of the plan with `@apollo/gateway`'s own plan executor,
 * as if the event were the primary fetch's answer, so every event reaches the client with the
 * fields of every subgraph resolved (e.g. `orderSaga { order { lines { product { name } } } }`).
 *
 * Clients subscribing to the same operation with the same variables as the same end user
 * share one upstream subscription and one resolution per event: a new one gets the latest
 * result at once (subscriptions here are state snapshots: "current state first, then every
 * change"), then every later one. Different end users never share: the owning subgraph
 * decides per user what they may see. The upstream subscription ends with its last client.
 */
import { randomUUID } from 'node:crypto';
import { buildOperationContext, executeQueryPlan, type GraphQLDataSource } from '@apollo/gateway';
import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import type { Identity } from '@magasin/service-kit';
import { type DocumentNode, type ExecutionResult, GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';
import { GATEWAY_ERROR_CODES, gatewayError } from '../errors.ts';
import type { GatewayContext } from '../subgraph-source.ts';
import type { FederatedSchema, SubscriptionPlan } from '../supergraph.ts';
import type { Upstreams } from './upstream.ts';

type RequestContext = Parameters<typeof executeQueryPlan>[2];
type DataSourceResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

/** Results waiting for a client that reads slower than events come; past it, the client is dropped. */
const MAX_PENDING_RESULTS = 1_000;

/** The service name the event of the primary fetch is read from, in the plan executed per event. */
const EVENT_SOURCE = '__subscription_event__';

/** One client's subscription request, validated. */
export interface SubscriptionRequest {
  document: DocumentNode;
  /** The query text as the client sent it (part of the sharing key). */
  query: string;
  operationName: string | undefined;
  variables: Record<string, unknown>;
  identity: Identity | undefined;
  correlationId: string;
}

/** Options of {@link createSubscriptionEngine}. */
export interface SubscriptionEngineOptions {
  schema: FederatedSchema;
  /** Data sources of every subgraph by name (the rest of each plan runs on them). */
  sources: Readonly<Record<string, GraphQLDataSource<GatewayContext>>>;
  upstreams: Upstreams;
  logger: Logger;
  /** Bound on resolving the rest of the plan for one event; default 15 000 ms. */
  resolveTimeoutMs?: number;
  /** Called when the number of shared upstream subscriptions changes (metrics). */
  onUpstreamCount?: (count: number) => void;
}

/** Serves federated subscriptions; see the module comment. */
export interface SubscriptionEngine {
  /** The results of one client's subscription; `return()` ends it (and the upstream with the last client). */
  subscribe(request: SubscriptionRequest): AsyncGenerator<ExecutionResult>;
  /** Shared upstream subscriptions open now. */
  readonly upstreamCount: number;
  /** Ends every subscription (their clients get `complete`). */
  close(): void;
}

/** A client's end of a shared subscription: an async generator fed by the broadcast. */
class Subscriber implements AsyncGenerator<ExecutionResult> {
  private readonly pending: ExecutionResult[] = [];
  private waiting: ((result: IteratorResult<ExecutionResult>) => void) | undefined;
  private ended = false;

  constructor(private readonly onReturn: (subscriber: Subscriber) => void) {}

  push(result: ExecutionResult): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: result, done: false });
      return;
    }
    if (this.pending.length >= MAX_PENDING_RESULTS) {
      this.pending.length = 0;
      this.pending.push({
        errors: [
          gatewayError(GATEWAY_ERROR_CODES.internal, 'the client read too slowly: subscription ended'),
        ],
      });
      this.end();
      return;
    }
    this.pending.push(result);
  }

  /** Ends after the results already pushed. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<ExecutionResult>> {
    const value = this.pending.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<ExecutionResult>> {
    this.pending.length = 0;
    this.end();
    this.onReturn(this);
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
    void this.return();
    return Promise.reject(error);
  }

  [Symbol.asyncIterator](): AsyncGenerator<ExecutionResult> {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.return();
  }
}

const stableStringify = (value: unknown): string =>
  JSON.stringify(value, (_key, inner: unknown) =>
    inner && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(
          Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)),
        )
      : inner,
  );

const sharingKey = (request: SubscriptionRequest): string =>
  stableStringify([
    request.identity ? [request.identity.sub, [...request.identity.roles].sort()] : null,
    request.query,
    request.operationName ?? null,
    request.variables,
  ]);

/** A subgraph's formatted errors as GraphQL errors relayed from `subgraph` (codes kept, masked later). */
const relayedErrors = (errors: readonly GraphQLFormattedError[], subgraph: string): GraphQLError[] =>
  errors.map(
    (error) =>
      new GraphQLError(error.message, {
        ...(error.path ? { path: error.path } : {}),
        extensions: { ...error.extensions, serviceName: subgraph },
      }),
  );

/** Creates the engine; see the module comment. */
export const createSubscriptionEngine = (options: SubscriptionEngineOptions): SubscriptionEngine => {
  const { schema, logger } = options;
  const resolveTimeoutMs = options.resolveTimeoutMs ?? 15_000;
  const shared = new Map<string, SharedSubscription>();

  const countChanged = () => options.onUpstreamCount?.(shared.size);

  /** One upstream subscription and the clients it feeds. */
  class SharedSubscription {
    private readonly subscribers = new Set<Subscriber>();
    private latest: ExecutionResult | undefined;
    private finished = false;
    // Events are resolved one after the other, so that clients see them in the subgraph's order.
    private queue: Promise<void> = Promise.resolve();
    private readonly unsubscribe: () => void;
    private readonly context: GatewayContext;
    private readonly planNode: PlanNode;
    private readonly operationContext: ReturnType<typeof buildOperationContext>;

    constructor(
      private readonly key: string,
      private readonly request: SubscriptionRequest,
      plan: SubscriptionPlan,
    ) {
      this.context = { identity: request.identity, correlationId: request.correlationId };
      const primary: FetchNode = { ...plan.primary, serviceName: EVENT_SOURCE };
      this.planNode = { kind: 'Sequence', nodes: plan.rest ? [primary, plan.rest] : [primary] };
      this.operationContext = buildOperationContext({
        schema: schema.apiSchema,
        operationDocument: request.document,
        ...(request.operationName ? { operationName: request.operationName } : {}),
      });
      const variables: Record<string, unknown> = {};
      for (const name of plan.primary.variableUsages ?? []) {
        if (request.variables[name] !== undefined) variables[name] = request.variables[name];
      }
      const subgraph = plan.primary.serviceName;
      this.unsubscribe = options.upstreams.subscribe(
        {
          subgraph,
          identity: request.identity,
          correlationId: request.correlationId,
          query: plan.primary.operation,
          variables,
          operationName: plan.primary.operationName,
        },
        {
          next: (event) => this.enqueue(() => this.resolve(event as DataSourceResponse)),
          error: (error) => this.enqueue(async () => this.fail(error, subgraph)),
          complete: () => this.enqueue(async () => this.finish()),
        },
      );
    }

    add(subscriber: Subscriber): void {
      this.subscribers.add(subscriber);
      if (this.latest) subscriber.push(this.latest);
    }

    remove(subscriber: Subscriber): void {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.finish();
    }

    private enqueue(step: () => Promise<void>): void {
      this.queue = this.queue.then(step).catch((error: unknown) => {
        logger.error({ err: error }, 'subscription event could not be delivered');
      });
    }

    private broadcast(result: ExecutionResult): void {
      this.latest = result;
      for (const subscriber of this.subscribers) subscriber.push(result);
    }

    /** Runs the rest of the plan on one event of the primary and sends the result to every client. */
    private async resolve(event: DataSourceResponse): Promise<void> {
      if (this.finished) return;
      const controller = new AbortController();
      const timer = setTimeout(
        () =>
          controller.abort(
            gatewayError(
              GATEWAY_ERROR_CODES.operationTimeout,
              `resolving a subscription event took longer than ${resolveTimeoutMs} ms`,
              504,
            ),
          ),
        resolveTimeoutMs,
      );
      const sources = {
        ...options.sources,
        [EVENT_SOURCE]: { process: async () => event },
      };
      const requestContext = {
        request: { query: this.request.query, variables: this.request.variables },
        context: { ...this.context, signal: controller.signal },
        logger,
        metrics: {},
        document: this.request.document,
        source: this.request.query,
        operationName: this.request.operationName ?? null,
        operation: this.operationContext.operation,
        schema: schema.apiSchema,
      } as unknown as RequestContext;
      const queryPlan: QueryPlan = { kind: 'QueryPlan', node: this.planNode };
      try {
        const result = await executeQueryPlan(
          queryPlan,
          sources,
          requestContext,
          this.operationContext,
          schema.supergraphSchema,
          schema.apiFederationSchema,
        );
        if (!this.finished) this.broadcast(result as ExecutionResult);
      } finally {
        clearTimeout(timer);
      }
    }

    private async fail(error: unknown, subgraph: string): Promise<void> {
      if (this.finished) return;
      if (Array.isArray(error)) {
        // The subgraph refused the subscription (graphql-ws `error` message): its errors, relayed.
        this.broadcast({ errors: relayedErrors(error as GraphQLFormattedError[], subgraph) });
      } else {
        const { code, reason } = (error ?? {}) as { code?: unknown; reason?: unknown };
        logger.warn(
          { subgraph, code, reason, err: error instanceof Error ? error : undefined },
          'subgraph subscription failed',
        );
        this.broadcast({
          errors: [
            gatewayError(
              GATEWAY_ERROR_CODES.subgraphUnavailable,
              'the service behind this subscription is unavailable; subscribe again later',
              502,
            ),
          ],
        });
      }
      this.finish();
    }

    /** Ends the upstream subscription and every client (after what they were already sent). */
    finish(): void {
      if (this.finished) return;
      this.finished = true;
      if (shared.get(this.key) === this) {
        shared.delete(this.key);
        countChanged();
      }
      this.unsubscribe();
      for (const subscriber of this.subscribers) subscriber.end();
      this.subscribers.clear();
    }
  }

  return {
    subscribe(request) {
      const key = sharingKey(request);
      let subscription = shared.get(key);
      if (!subscription) {
        const plan = schema.planSubscription(
          request.document,
          request.operationName,
          `${request.operationName ?? ''}\u0000${request.query}`,
        );
        subscription = new SharedSubscription(
          key,
          { ...request, correlationId: request.correlationId || randomUUID() },
          plan,
        );
        shared.set(key, subscription);
        countChanged();
      }
      const owner = subscription;
      const subscriber = new Subscriber((leaving) => owner.remove(leaving));
      owner.add(subscriber);
      return subscriber;
    },
    get upstreamCount() {
      return shared.size;
    },
    close() {
      for (const subscription of [...shared.values()]) subscription.finish();
    },
  };
};
