/**
 * The browser's client of the gateway: queries and mutations over HTTP POST, subscriptions over
 * graphql-ws, both with the signed-in user's bearer token, every operation a TypedDocumentNode
 * generated from schema/operations. The WebSocket reconnects by itself (backoff up to 5 s,
 * forever) and resubscribes; the connection state is observable for the "connection lost" banner.
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { type DocumentNode, print } from 'graphql';
import { createClient } from 'graphql-ws';
import { type AnswerError, CLIENT_ERROR_CODES, GatewayError } from './errors.ts';

/** The WebSocket as users should know it. */
export type ConnectionState =
  /** No live view is open: no socket needed. */
  | { readonly kind: 'idle' }
  | { readonly kind: 'connecting' }
  | { readonly kind: 'connected'; readonly reconnected: boolean }
  /** The socket dropped; the client is trying again (`attempt` 1, 2, ...). */
  | { readonly kind: 'reconnecting'; readonly attempt: number; readonly reason: string }
  /** The gateway refused the token: retrying would not help. */
  | { readonly kind: 'refused'; readonly reason: string };

/** The variables argument: optional when the operation has no required variable. */
export type VariablesArgument<V> = Record<string, never> extends V ? [variables?: V] : [variables: V];

/** What a subscription reports. */
export interface SubscriptionSink<R> {
  next(data: R): void;
  error(error: GatewayError): void;
  complete(): void;
}

/** A client of one gateway for one user. */
export interface GatewayClient {
  /** Runs a query or mutation: its data, or a GatewayError (NETWORK when the gateway is unreachable). */
  request<R, V>(document: TypedDocumentNode<R, V>, ...variables: VariablesArgument<V>): Promise<R>;
  /** Starts a subscription; call the returned function to stop it. Survives reconnects. */
  subscribe<R, V>(document: TypedDocumentNode<R, V>, variables: V, sink: SubscriptionSink<R>): () => void;
  /** The WebSocket's current state. */
  connection(): ConnectionState;
  /** Calls `listener` on every connection state change; returns the unsubscribe function. */
  onConnection(listener: (state: ConnectionState) => void): () => void;
  /** Closes the WebSocket for good. */
  dispose(): void;
}

/** Options of {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** `.../graphql` over HTTP(S). */
  httpUrl: string;
  /** `.../graphql` over WS(S). */
  wsUrl: string;
  /** The bearer token, read for every request and (re)connection; undefined for anonymous. */
  token: () => string | undefined;
  /** Ping period of the WebSocket, and how long a pong may take before it counts as lost. Default 10 s / 5 s. */
  keepAliveMs?: number;
  pongTimeoutMs?: number;
}

/** graphql-ws close code of the gateway for a token that does not verify. */
export const UNAUTHENTICATED_CLOSE_CODE = 4401;
const NORMAL_CLOSURE = 1000;
const PONG_TIMEOUT_CLOSE_CODE = 4408;

const texts = new WeakMap<DocumentNode, string>();
const textOf = (document: DocumentNode): string => {
  let text = texts.get(document);
  if (text === undefined) {
    text = print(document);
    texts.set(document, text);
  }
  return text;
};

const operationName = (document: DocumentNode): string | undefined => {
  const operation = document.definitions.find((definition) => definition.kind === 'OperationDefinition');
  return operation?.name?.value;
};

interface Answer<R> {
  data?: R | null;
  errors?: AnswerError[];
}

const closeEventOf = (value: unknown): { code: number; reason: string } | undefined =>
  typeof value === 'object' && value !== null && 'code' in value && typeof value.code === 'number'
    ? { code: value.code, reason: 'reason' in value ? String(value.reason) : '' }
    : undefined;

/** The GatewayError of whatever a graphql-ws sink reported. */
const subscriptionError = (error: unknown): GatewayError => {
  if (Array.isArray(error)) return GatewayError.fromAnswer(error as AnswerError[]);
  const close = closeEventOf(error);
  if (close?.code === UNAUTHENTICATED_CLOSE_CODE) {
    return new GatewayError('UNAUTHENTICATED', close.reason.replace(/^UNAUTHENTICATED: /, ''), [
      { message: close.reason.replace(/^UNAUTHENTICATED: /, '') },
    ]);
  }
  if (close)
    return new GatewayError(
      CLIENT_ERROR_CODES.network,
      `the connection closed (${close.code} ${close.reason})`,
    );
  return new GatewayError(
    CLIENT_ERROR_CODES.network,
    error instanceof Error ? error.message : 'the connection failed',
  );
};

/** A client of the gateway; see the module comment. */
export const createGatewayClient = (options: GatewayClientOptions): GatewayClient => {
  const authorization = (): Record<string, string> => {
    const token = options.token();
    return token ? { authorization: `Bearer ${token}` } : {};
  };

  let state: ConnectionState = { kind: 'idle' };
  let attempt = 0;
  let everConnected = false;
  const listeners = new Set<(state: ConnectionState) => void>();
  const setState = (next: ConnectionState) => {
    state = next;
    for (const listener of listeners) listener(state);
  };

  let pongTimer: ReturnType<typeof setTimeout> | undefined;
  let socket: WebSocket | undefined;
  const ws = createClient({
    url: options.wsUrl,
    connectionParams: authorization,
    lazy: true,
    lazyCloseTimeout: 2_000,
    keepAlive: options.keepAliveMs ?? 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    retryWait: (retries) =>
      new Promise((resolve) => setTimeout(resolve, Math.min(500 * 2 ** retries, 5_000))),
    on: {
      connecting: (isRetry) => {
        if (!isRetry) setState({ kind: 'connecting' });
      },
      connected: (connected) => {
        socket = connected as WebSocket;
        setState({ kind: 'connected', reconnected: everConnected && attempt > 0 });
        everConnected = true;
        attempt = 0;
      },
      ping: (received) => {
        if (received) return;
        // A ping we sent: a connection that does not answer within the timeout is dead.
        clearTimeout(pongTimer);
        pongTimer = setTimeout(() => {
          if (socket?.readyState === WebSocket.OPEN)
            socket.close(PONG_TIMEOUT_CLOSE_CODE, 'no pong from the gateway');
        }, options.pongTimeoutMs ?? 5_000);
      },
      pong: (received) => {
        if (received) clearTimeout(pongTimer);
      },
      closed: (event) => {
        clearTimeout(pongTimer);
        socket = undefined;
        const close = closeEventOf(event);
        if (close?.code === UNAUTHENTICATED_CLOSE_CODE) {
          setState({ kind: 'refused', reason: close.reason.replace(/^UNAUTHENTICATED: /, '') });
        } else if (close?.code === NORMAL_CLOSURE) {
          setState({ kind: 'idle' });
        } else {
          attempt += 1;
          setState({
            kind: 'reconnecting',
            attempt,
            reason: close
              ? `closed with ${close.code}${close.reason ? ` ${close.reason}` : ''}`
              : 'network error',
          });
        }
      },
    },
  });

  return {
    request: async <R, V>(
      document: TypedDocumentNode<R, V>,
      ...[variables]: VariablesArgument<V>
    ): Promise<R> => {
      let response: Response;
      try {
        response = await fetch(options.httpUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...authorization() },
          body: JSON.stringify({
            query: textOf(document),
            variables: variables ?? {},
            operationName: operationName(document),
          }),
        });
      } catch (error) {
        throw new GatewayError(CLIENT_ERROR_CODES.network, (error as Error).message);
      }
      let answer: Answer<R>;
      try {
        answer = (await response.json()) as Answer<R>;
      } catch {
        throw new GatewayError(
          CLIENT_ERROR_CODES.badResponse,
          `HTTP ${response.status} without a GraphQL answer`,
        );
      }
      if (answer.errors?.length) throw GatewayError.fromAnswer(answer.errors);
      if (answer.data == null)
        throw new GatewayError(CLIENT_ERROR_CODES.badResponse, 'an answer without data');
      return answer.data;
    },
    subscribe: <R, V>(document: TypedDocumentNode<R, V>, variables: V, sink: SubscriptionSink<R>) =>
      ws.subscribe<R>(
        {
          query: textOf(document),
          variables: variables as Record<string, unknown>,
          operationName: operationName(document) ?? null,
        },
        {
          next: (answer) => {
            if (answer.errors?.length) sink.error(GatewayError.fromAnswer(answer.errors as AnswerError[]));
            else if (answer.data) sink.next(answer.data as R);
          },
          error: (error) => sink.error(subscriptionError(error)),
          complete: () => sink.complete(),
        },
      ),
    connection: () => state,
    onConnection: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose: () => {
      clearTimeout(pongTimer);
      void ws.dispose();
      listeners.clear();
    },
  };
};
