/**
 * React hooks over the gateway client: queries (optionally polled), mutations, live
 * subscriptions and the WebSocket's state. Every hook reads the client of the nearest
 * GatewayProvider (one per signed-in user).
 */
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import type { ConnectionState, GatewayClient, VariablesArgument } from './client.ts';
import { GatewayError } from './errors.ts';

const GatewayContext = createContext<GatewayClient | undefined>(undefined);

/** Provides the client of the signed-in user. */
export const GatewayProvider = GatewayContext.Provider;

/** The client of the nearest GatewayProvider. */
export const useGateway = (): GatewayClient => {
  const client = useContext(GatewayContext);
  if (!client) throw new Error('useGateway needs a GatewayProvider above it');
  return client;
};

const asGatewayError = (error: unknown): GatewayError =>
  error instanceof GatewayError
    ? error
    : new GatewayError('CLIENT', error instanceof Error ? error.message : String(error));

/** A query's state. `data` stays the last good answer while a later poll fails. */
export interface QueryState<R> {
  readonly data: R | undefined;
  readonly error: GatewayError | undefined;
  readonly loading: boolean;
  /** Asks again now. */
  refetch(): void;
}

/** Runs `operation` now, and every `pollMs` while the page is visible when given. */
export const useQuery = <R, V>(
  operation: TypedDocumentNode<R, V>,
  options: { variables?: V; pollMs?: number; skip?: boolean } = {},
): QueryState<R> => {
  const client = useGateway();
  const [state, setState] = useState<{
    data: R | undefined;
    error: GatewayError | undefined;
    loading: boolean;
  }>({
    data: undefined,
    error: undefined,
    loading: !options.skip,
  });
  const [generation, setGeneration] = useState(0);
  const key = JSON.stringify(options.variables ?? {});
  const variables = useRef(options.variables);
  variables.current = options.variables;

  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for the variables; generation asks again.
  useEffect(() => {
    if (options.skip) return;
    let live = true;
    const run = () => {
      const args = (variables.current === undefined ? [] : [variables.current]) as VariablesArgument<V>;
      client.request(operation, ...args).then(
        (data) => live && setState({ data, error: undefined, loading: false }),
        (error: unknown) =>
          live && setState((previous) => ({ ...previous, error: asGatewayError(error), loading: false })),
      );
    };
    run();
    const timer =
      options.pollMs === undefined
        ? undefined
        : setInterval(() => {
            if (document.visibilityState !== 'hidden') run();
          }, options.pollMs);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [client, operation, key, options.pollMs, options.skip, generation]);

  const refetch = useCallback(() => setGeneration((value) => value + 1), []);
  return { ...state, refetch };
};

/** A mutation's runner and state. */
export interface MutationState<R, V> {
  /** Runs the mutation; resolves its data, rejects with a GatewayError (also kept in `error`). */
  run(...variables: VariablesArgument<V>): Promise<R>;
  readonly running: boolean;
  readonly error: GatewayError | undefined;
  reset(): void;
}

/** A runner of the mutation `document`. */
export const useMutation = <R, V>(document: TypedDocumentNode<R, V>): MutationState<R, V> => {
  const client = useGateway();
  const [running, setRunning] = useState(false);
  const [error, setError] = useState<GatewayError | undefined>();
  const run = useCallback(
    async (...variables: VariablesArgument<V>) => {
      setRunning(true);
      setError(undefined);
      try {
        return await client.request(document, ...variables);
      } catch (caught) {
        const failure = asGatewayError(caught);
        setError(failure);
        throw failure;
      } finally {
        setRunning(false);
      }
    },
    [client, document],
  );
  return { run, running, error, reset: useCallback(() => setError(undefined), []) };
};

/** A subscription's state: the latest data, and whether it ended (completed or failed). */
export interface SubscriptionState<R> {
  readonly data: R | undefined;
  readonly error: GatewayError | undefined;
  readonly completed: boolean;
}

/** Follows `document` with `variables` until it completes, fails, or the component goes. */
export const useSubscription = <R, V>(
  document: TypedDocumentNode<R, V>,
  variables: V,
  options: { skip?: boolean } = {},
): SubscriptionState<R> => {
  const client = useGateway();
  const [state, setState] = useState<SubscriptionState<R>>({
    data: undefined,
    error: undefined,
    completed: false,
  });
  const key = JSON.stringify(variables);
  const current = useRef(variables);
  current.current = variables;

  // biome-ignore lint/correctness/useExhaustiveDependencies: key stands for the variables.
  useEffect(() => {
    if (options.skip) return;
    setState({ data: undefined, error: undefined, completed: false });
    return client.subscribe(document, current.current, {
      next: (data) => setState({ data, error: undefined, completed: false }),
      error: (error) => setState((previous) => ({ ...previous, error, completed: true })),
      complete: () => setState((previous) => ({ ...previous, completed: true })),
    });
  }, [client, document, key, options.skip]);
  return state;
};

/** The WebSocket's state, updated as it changes. */
export const useConnection = (): ConnectionState => {
  const client = useGateway();
  return useSyncExternalStore(client.onConnection, client.connection);
};
