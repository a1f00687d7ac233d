/**
 * The audit of mutations: every mutation the gateway accepted or refused (who, what, when, the
 * outcome and the correlation id) is sent to the audit service as the command
 * `audit.RecordMutation` on RabbitMQ, once its response is ready. Card data never leaves the
 * gateway (arguments are masked first), and the raw query text is not sent (it may hold card
 * data in literals): each root field goes with its coerced argument values.
 *
 * Sending never delays or fails the user's request: it runs after the response is ready. Records
 * wait in a bounded backlog (in memory, AUDIT_BACKLOG records) until RabbitMQ confirms them, in
 * batches, in order: while RabbitMQ is down, or while no audit queue is bound yet (the audit
 * service not started), they are kept and sent again with backoff (a resent record has its
 * command id: the audit service's inbox records it once). A record is lost only when the
 * backlog is full or the gateway stops with records still waiting (a crash loses the backlog):
 * logged and counted in `magasin_gateway_audit_records_total{outcome="failed"}`;
 * `magasin_gateway_audit_backlog` shows what waits. The connection to RabbitMQ is made in the
 * background, so the gateway serves even while RabbitMQ is down.
 */
import { AsyncResource } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApolloServerPlugin } from '@apollo/server';
import {
  type CommandEnvelope,
  type CommandPayloadOf,
  type MutationOutcome,
  maskCardData,
  RecordMutation,
  subjectIdsIn,
} from '@magasin/events';
import { connectMessaging, type Messaging, newCommand } from '@magasin/messaging';
import type { Identity } from '@magasin/service-kit';
import {
  type DocumentNode,
  type FieldNode,
  type GraphQLFormattedError,
  type GraphQLSchema,
  getArgumentValues,
  getOperationAST,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
} from 'graphql';
import type { Logger } from 'pino';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HttpOperationContext } from './apollo.ts';
import { DEFAULT_AUDIT_BACKLOG } from './config.ts';

/** Most tokens parsed of a request refused before Apollo Server ran it (its query is only read for its root fields). */
const MAX_REFUSED_TOKENS = 10_000;

/** How long one attempt to connect to RabbitMQ lasts (retries within it included). */
const CONNECT_ATTEMPT_MS = 5_000;

/** Records sent to RabbitMQ in one confirmed publication. */
const BATCH = 100;

/** How long stopping waits for RabbitMQ to confirm what is still in the backlog, per step. */
const CLOSE_WAIT_MS = 2_000;

/** `promise`, or a rejection once `ms` have passed. */
const within = <T>(promise: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    promise,
    sleep(ms, undefined, { ref: false }).then(() => {
      throw new Error(`RabbitMQ did not confirm within ${ms} ms`);
    }),
  ]);

/** One mutation as the gateway saw it. */
export interface AuditedMutation {
  schema: GraphQLSchema;
  document: DocumentNode;
  operationName: string | null | undefined;
  variables: Record<string, unknown> | undefined;
  identity: Identity | undefined;
  correlationId: string;
  receivedAt: Date;
  durationMs: number;
  /** The response's data (null or absent when refused before running). */
  data: Record<string, unknown> | null | undefined;
  errors: readonly GraphQLFormattedError[] | undefined;
}

/** The audit of the gateway's mutations. */
export interface MutationAudit {
  /** The Apollo Server plugin that records each mutation (HTTP and WebSocket alike). */
  readonly plugin: ApolloServerPlugin<HttpOperationContext>;
  /**
   * Resolves after the first attempt to connect to RabbitMQ (connected or not, within
   * about 5 s): the gateway waits for it so that its first mutations are not lost at start-up.
   */
  readonly ready: Promise<void>;
  /**
   * Records a request refused before Apollo Server ran it (a token that does not verify), if its
   * body holds a mutation. Never throws.
   */
  recordRefusedRequest(request: {
    body: unknown;
    correlationId: string;
    receivedAt: Date;
    errorCode: string;
  }): void;
  /**
   * Sends what waits in the backlog (one more attempt), counts what could not be sent as lost,
   * then closes the connection.
   */
  close(): Promise<void>;
}

/** Options of {@link startMutationAudit}. */
export interface MutationAuditOptions {
  /** AMQP URL of RabbitMQ (RABBITMQ_URL). */
  url: string;
  /** The API schema (to coerce the arguments of a request refused before Apollo ran it). */
  schema: GraphQLSchema;
  logger: Logger;
  registry: Registry;
  /** Most records waiting for RabbitMQ; default {@link DEFAULT_AUDIT_BACKLOG}. */
  backlog?: number;
  /** First delay before sending again after a failure (doubling to 30 s); default 500 ms. */
  retryDelayMs?: number;
}

/** The root fields an operation selects, fragments included. */
const rootFields = (document: DocumentNode, selectionSet: SelectionSetNode): FieldNode[] =>
  selectionSet.selections.flatMap((selection) => {
    switch (selection.kind) {
      case Kind.FIELD:
        return [selection];
      case Kind.INLINE_FRAGMENT:
        return rootFields(document, selection.selectionSet);
      case Kind.FRAGMENT_SPREAD: {
        const fragment = document.definitions.find(
          (definition) =>
            definition.kind === Kind.FRAGMENT_DEFINITION && definition.name.value === selection.name.value,
        );
        return fragment?.kind === Kind.FRAGMENT_DEFINITION ? rootFields(document, fragment.selectionSet) : [];
      }
      default:
        return selection satisfies never;
    }
  });

/** The argument values of a root field, variables applied; empty when they do not coerce (a refused request). */
const argumentsOf = (
  schema: GraphQLSchema,
  field: FieldNode,
  variables: Record<string, unknown> | undefined,
): Record<string, unknown> => {
  const definition = schema.getMutationType()?.getFields()[field.name.value];
  if (!definition) return {};
  try {
    return getArgumentValues(definition, field, variables ?? {});
  } catch {
    // Arguments that do not coerce were refused by validation, which the record's error codes say.
    return {};
  }
};

/** What `audit.RecordMutation` says of a mutation; undefined when the operation is not a mutation. */
export const recordOf = (mutation: AuditedMutation): CommandPayloadOf<'RecordMutation'> | undefined => {
  const operation: OperationDefinitionNode | null | undefined = getOperationAST(
    mutation.document,
    mutation.operationName ?? undefined,
  );
  if (operation?.operation !== 'mutation') return undefined;
  const fields = rootFields(mutation.document, operation.selectionSet).filter(
    (field) => field.name.value !== '__typename',
  );
  if (fields.length === 0) return undefined;
  const audited = fields.map((field) => ({
    name: field.name.value,
    arguments: maskCardData(argumentsOf(mutation.schema, field, mutation.variables)) as Record<
      string,
      unknown
    >,
  }));
  const answered = fields.map((field) => mutation.data?.[field.alias?.value ?? field.name.value]);
  const errorCodes = [
    ...new Set(
      (mutation.errors ?? []).map((error) => String(error.extensions?.code ?? 'INTERNAL_SERVER_ERROR')),
    ),
  ];
  const outcome: MutationOutcome = errorCodes.length > 0 ? 'REFUSED' : 'ACCEPTED';
  return {
    operationName: operation.name?.value ?? mutation.operationName ?? null,
    fields: audited,
    outcome,
    errorCodes,
    subjectIds: [
      ...new Set([
        ...audited.flatMap((field) => subjectIdsIn(field.arguments)),
        ...answered.flatMap((value) => subjectIdsIn(value)),
      ]),
    ],
    roles: [...(mutation.identity?.roles ?? [])],
    receivedAt: mutation.receivedAt.toISOString(),
    durationMs: Math.max(0, Math.round(mutation.durationMs)),
  };
};

/** Starts the audit of mutations; connects to RabbitMQ in the background (see the module comment). */
export const startMutationAudit = (options: MutationAuditOptions): MutationAudit => {
  const logger = options.logger.child({ component: 'mutation-audit' });
  const published = new Counter({
    name: 'magasin_gateway_audit_records_total',
    help: 'Mutation audit records the gateway sent to the audit service, by outcome (ok: confirmed by RabbitMQ; failed: logged and lost)',
    labelNames: ['outcome'],
    registers: [options.registry],
  });
  // Both series from the start, so that `increase()` sees the first lost record.
  for (const outcome of ['ok', 'failed']) published.inc({ outcome }, 0);
  const waiting = new Gauge({
    name: 'magasin_gateway_audit_backlog',
    help: 'Mutation audit records waiting for RabbitMQ to confirm them.',
    registers: [options.registry],
  });
  const maxBacklog = options.backlog ?? DEFAULT_AUDIT_BACKLOG;
  const retryDelayMs = options.retryDelayMs ?? 500;
  let messaging: Messaging | undefined;
  let closed = false;
  /** Records not yet confirmed by RabbitMQ, oldest first; the drain sends from the front. */
  const backlog: CommandEnvelope[] = [];
  /** Wakes the drain from its wait between attempts (a new connection, close()). */
  let wakeDrain: (() => void) | undefined;
  let draining: Promise<void> | undefined;

  const lost = (count: number, error: unknown, message: string, correlationIds: readonly string[]) => {
    published.inc({ outcome: 'failed' }, count);
    logger.error({ err: error, count, correlationIds: correlationIds.slice(0, 20) }, message);
  };

  /** Sends the backlog in order, batch by batch, until it is empty or there is no connection. */
  // The drain runs in the context of the gateway's start, not of the request that woke it:
  // its logs and spans belong to no request (each record carries its own trace context).
  const detached = new AsyncResource('magasin.mutation-audit');
  const drain = (): void => {
    draining ??= detached
      .runInAsyncScope(async () => {
        let failures = 0;
        while (backlog.length > 0 && !closed) {
          const bus = messaging;
          if (!bus) return; // the connection loop drains again once connected
          const batch = backlog.slice(0, BATCH);
          try {
            await bus.sendCommands(batch);
            backlog.splice(0, batch.length);
            waiting.set(backlog.length);
            published.inc({ outcome: 'ok' }, batch.length);
            failures = 0;
          } catch (error) {
            failures++;
            const delay = Math.min(30_000, retryDelayMs * 2 ** (failures - 1));
            logger.warn(
              { err: error, waiting: backlog.length, retryInMs: delay },
              'mutation audit records not confirmed by RabbitMQ; kept and sent again',
            );
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, delay);
              timer.unref();
              wakeDrain = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wakeDrain = undefined;
          }
        }
      })
      .finally(() => {
        draining = undefined;
        if (backlog.length > 0 && messaging && !closed) drain();
      });
  };

  let firstAttempt: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => {
    firstAttempt = resolve;
  });
  void (async () => {
    for (let attempt = 1; !closed; attempt++) {
      try {
        const connected = await connectMessaging({
          url: options.url,
          service: 'gateway',
          logger,
          registry: options.registry,
          connectTimeoutMs: CONNECT_ATTEMPT_MS,
        });
        if (closed) await connected.close();
        else {
          messaging = connected;
          drain();
        }
        return;
      } catch (error) {
        logger.warn(
          { err: error, attempt, waiting: backlog.length },
          'RabbitMQ unreachable: mutation audit records wait in the backlog until it is back; retrying',
        );
        firstAttempt();
        await sleep(Math.min(30_000, 1_000 * attempt), undefined, { ref: false });
      }
    }
  })().finally(() => firstAttempt());

  const send = (mutation: AuditedMutation): void => {
    let payload: CommandPayloadOf<'RecordMutation'> | undefined;
    try {
      payload = recordOf(mutation);
    } catch (error) {
      lost(1, error, 'could not build a mutation audit record', [mutation.correlationId]);
      return;
    }
    if (!payload) return;
    const checked = RecordMutation.safeParse(payload);
    if (!checked.success) {
      lost(1, checked.error, 'mutation audit record not valid: the audit trail misses this mutation', [
        mutation.correlationId,
      ]);
      return;
    }
    if (closed) {
      lost(
        1,
        new Error('the gateway is stopping'),
        'mutation audit record not sent: the gateway is stopping',
        [mutation.correlationId],
      );
      return;
    }
    if (backlog.length >= maxBacklog) {
      lost(
        1,
        new Error(`${backlog.length} records already wait for RabbitMQ`),
        'mutation audit backlog full: the audit trail misses this mutation',
        [mutation.correlationId],
      );
      return;
    }
    backlog.push(
      newCommand('RecordMutation', checked.data, {
        actor: mutation.identity?.sub ?? 'anonymous',
        correlationId: mutation.correlationId,
      }),
    );
    waiting.set(backlog.length);
    drain();
  };

  const plugin: ApolloServerPlugin<HttpOperationContext> = {
    async requestDidStart() {
      const receivedAt = new Date();
      const started = performance.now();
      return {
        async willSendResponse({ contextValue, document, request, response, schema }) {
          if (!document || response.body.kind !== 'single') return;
          const result = response.body.singleResult;
          send({
            schema,
            document,
            operationName: request.operationName,
            variables: request.variables,
            identity: contextValue.identity,
            correlationId: contextValue.correlationId,
            receivedAt,
            durationMs: performance.now() - started,
            data: result.data,
            errors: result.errors,
          });
        },
      };
    },
  };

  return {
    plugin,
    ready,
    recordRefusedRequest({ body, correlationId, receivedAt, errorCode }) {
      const { query, operationName, variables } = (body ?? {}) as {
        query?: unknown;
        operationName?: unknown;
        variables?: unknown;
      };
      if (typeof query !== 'string') return;
      let document: DocumentNode;
      try {
        document = parse(query, { maxTokens: MAX_REFUSED_TOKENS });
      } catch {
        return; // Not a GraphQL document: nothing that could be a mutation.
      }
      send({
        schema: options.schema,
        document,
        operationName: typeof operationName === 'string' ? operationName : undefined,
        variables:
          variables && typeof variables === 'object' ? (variables as Record<string, unknown>) : undefined,
        identity: undefined,
        correlationId,
        receivedAt,
        durationMs: Date.now() - receivedAt.getTime(),
        data: null,
        errors: [{ message: 'refused', extensions: { code: errorCode } }],
      });
    },
    async close() {
      closed = true;
      wakeDrain?.();
      // Bounded: RabbitMQ down makes a publication wait for the connection (publishTimeoutMs).
      await within(draining ?? Promise.resolve(), CLOSE_WAIT_MS).catch(() => undefined);
      // One last attempt for what still waits (a batch still unconfirmed above is sent again:
      // the audit service's inbox records it once).
      const left = backlog.splice(0);
      waiting.set(0);
      if (left.length > 0) {
        try {
          if (!messaging) throw new Error('not connected to RabbitMQ');
          await within(messaging.sendCommands(left), CLOSE_WAIT_MS);
          published.inc({ outcome: 'ok' }, left.length);
        } catch (error) {
          lost(
            left.length,
            error,
            'gateway stopped with mutation audit records RabbitMQ had not confirmed: the audit trail misses them',
            left.map((command) => command.correlationId),
          );
        }
      }
      await messaging?.close();
    },
  };
};
