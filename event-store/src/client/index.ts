/**
 * The typed client of the event store, for services (`@magasin/event-store/client`). Every
 * request is signed with the internal secret (service-kit `signedFetch`). Failures are the
 * same `EventStoreError`s the store raises (`WrongExpectedVersionError` with `currentVersion`),
 * rebuilt from the JSON error body; a network failure or an unexpected answer is an
 * `EventStoreError('UNAVAILABLE')`.
 */
import { type Identity, internalRequestHeaders } from '@magasin/service-kit';
import { type Dispatcher, Pool } from 'undici';
import { EventStoreError, type EventStoreErrorCode, WrongExpectedVersionError } from '../store/errors.ts';
import type { StreamSlice } from '../store/reader.ts';
import type { AppendResult, EventPage, ExpectedVersion, NewEvent, RecordedEvent } from '../store/types.ts';

export {
  EVENT_STORE_ERRORS,
  EventStoreError,
  type EventStoreErrorCode,
  WrongExpectedVersionError,
} from '../store/errors.ts';
export type { StreamSlice } from '../store/reader.ts';
export type { AppendResult, EventPage, ExpectedVersion, NewEvent, RecordedEvent } from '../store/types.ts';

/** Options of {@link createEventStoreClient}. */
export interface EventStoreClientOptions {
  /** Base URL of the event store, e.g. `EVENT_STORE_URL` (default `http://127.0.0.1:4006`). */
  url: string;
  /** `INTERNAL_SECRET`. */
  secret: string;
  /** Name of the calling service (signed, logged by the store). */
  caller: string;
  /** End user the calls act for (needed for the operators' subgraph, not for the API). */
  identity?: Identity;
  /** Keep-alive connections to the event store (long polls hold one each); default 32. */
  connections?: number;
}

/** A running `subscribeAll`. */
export interface Subscription {
  /** Position of the last event handled. */
  position(): number;
  /** Stops after the event being handled; resolves when stopped. */
  stop(): Promise<void>;
  /** Settles when the subscription ends: resolves after `stop()`, rejects with the handler's error. */
  readonly done: Promise<void>;
}

/** Options of `subscribeAll`. */
export interface SubscribeOptions {
  /** Events per page while catching up; default 500. */
  pageSize?: number;
  /** How long each request waits for new events once caught up (long poll); default 10 000 ms. */
  waitMs?: number;
  /** Delay before retrying after the store could not be reached; default 500 ms, doubling to 5 000. */
  retryDelayMs?: number;
  /** Told about each failed request before it is retried. */
  onRetry?: (error: unknown) => void;
}

/** The event store API over HTTP. */
export interface EventStoreClient {
  /** See `EventStore.append`: expected version `any`, `no_stream` or exact; idempotent by event id. */
  append(streamId: string, expectedVersion: ExpectedVersion, events: NewEvent[]): Promise<AppendResult>;
  /** A stream from `fromVersion` (default 1), optionally as of a time. Version 0 and no events for an unknown stream. */
  readStream(streamId: string, options?: { fromVersion?: number; asOf?: Date }): Promise<StreamSlice>;
  /**
   * One page of the log after `fromPosition` (exclusive), in position order; with `types`, only
   * events of those types, the page's `nextPosition` still covering the others.
   */
  readAll(
    fromPosition?: number,
    options?: { limit?: number; waitMs?: number; types?: readonly string[]; signal?: AbortSignal },
  ): Promise<EventPage>;
  /** Every event of one correlation id, in position order. */
  readByCorrelation(correlationId: string): Promise<RecordedEvent[]>;
  /**
   * Calls `handler` with every event after `fromPosition`, in order, one at a time: pages
   * through the log, then long-polls for new events. Retries while the store is unreachable;
   * stops (and rejects `done`) when `handler` throws, so the caller restarts from `position()`.
   */
  subscribeAll(
    fromPosition: number,
    handler: (event: RecordedEvent) => Promise<void> | void,
    options?: SubscribeOptions,
  ): Subscription;
  /** Closes the pooled connections (requests in flight finish first). */
  close(): Promise<void>;
}

const errorFrom = (status: number, body: unknown, what: string): EventStoreError => {
  const error = (
    body as { error?: { code?: string; message?: string } & Record<string, unknown> } | undefined
  )?.error;
  if (error?.code === 'WRONG_EXPECTED_VERSION') {
    return new WrongExpectedVersionError(
      String(error.streamId),
      error.expectedVersion as ExpectedVersion,
      Number(error.currentVersion),
    );
  }
  const { code, message, ...details } = error ?? {};
  const known: EventStoreErrorCode =
    code === 'VALIDATION' || code === 'IDEMPOTENCY_CONFLICT' || code === 'NOT_FOUND' || code === 'FORBIDDEN'
      ? code
      : 'UNAVAILABLE';
  return new EventStoreError(known, `${what}: ${message ?? `event store answered ${status}`}`, {
    ...details,
    status,
    ...(known === 'UNAVAILABLE' && code ? { remoteCode: code } : {}),
  });
};

/** Creates a client of the event store at `options.url`. */
export const createEventStoreClient = (options: EventStoreClientOptions): EventStoreClient => {
  // A pool of keep-alive connections (undici): far cheaper per request than `fetch`, and every
  // service makes several requests per event it handles.
  const base = new URL(options.url);
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 32,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 60_000,
  });
  const signer = {
    secret: options.secret,
    caller: options.caller,
    ...(options.identity ? { identity: options.identity } : {}),
  };
  const call = async <T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> => {
    const what = `${method} ${path}`;
    const target = new URL(path, base);
    const requestPath = `${target.pathname}${target.search}`;
    const payload = body === undefined ? undefined : JSON.stringify(body);
    let status: number;
    let text: string;
    try {
      const response = await pool.request({
        method: method as Dispatcher.HttpMethod,
        path: requestPath,
        headers: {
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...internalRequestHeaders(signer, {
            method,
            path: requestPath,
            ...(payload === undefined ? {} : { body: payload }),
          }),
        },
        ...(payload === undefined ? {} : { body: payload }),
        ...(signal ? { signal } : {}),
      });
      status = response.statusCode;
      text = await response.body.text();
    } catch (error) {
      throw new EventStoreError(
        'UNAVAILABLE',
        `${what}: event store unreachable at ${options.url} (${(error as Error).message})`,
        {},
        { cause: error },
      );
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch (error) {
      throw new EventStoreError('UNAVAILABLE', `${what}: answer ${status} is not JSON`, {}, { cause: error });
    }
    if (status < 200 || status > 299) throw errorFrom(status, parsed, what);
    return parsed as T;
  };
  const query = (params: Record<string, string | number | undefined>) => {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(params))
      if (value !== undefined) search.set(key, String(value));
    const text = search.toString();
    return text ? `?${text}` : '';
  };
  const stream = (streamId: string) => `/streams/${encodeURIComponent(streamId)}`;
  const events = (fromPosition: number, limit?: number, waitMs?: number, types?: readonly string[]) =>
    `/events${query({ fromPosition, limit, waitMs, types: types?.join(',') })}`;

  const client: EventStoreClient = {
    append: (streamId, expectedVersion, events) =>
      call('POST', `${stream(streamId)}/events`, { expectedVersion, events }),
    readStream: (streamId, readOptions = {}) =>
      call(
        'GET',
        `${stream(streamId)}${query({ fromVersion: readOptions.fromVersion, asOf: readOptions.asOf?.toISOString() })}`,
      ),
    readAll: (fromPosition = 0, readOptions = {}) =>
      call(
        'GET',
        events(fromPosition, readOptions.limit, readOptions.waitMs, readOptions.types),
        undefined,
        readOptions.signal,
      ),
    readByCorrelation: async (correlationId) =>
      (
        await call<{ events: RecordedEvent[] }>(
          'GET',
          `/events/by-correlation/${encodeURIComponent(correlationId)}`,
        )
      ).events,
    subscribeAll: (fromPosition, handler, subscribeOptions = {}) => {
      let position = fromPosition;
      let stopping = false;
      let wake: (() => void) | undefined;
      const abort = new AbortController();
      const pause = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      const run = async () => {
        let failures = 0;
        while (!stopping) {
          let page: EventPage;
          try {
            page = await call<EventPage>(
              'GET',
              events(position, subscribeOptions.pageSize ?? 500, subscribeOptions.waitMs ?? 10_000),
              undefined,
              abort.signal,
            );
            failures = 0;
          } catch (error) {
            if (stopping) return;
            if (error instanceof EventStoreError && error.code !== 'UNAVAILABLE') throw error;
            failures++;
            subscribeOptions.onRetry?.(error);
            await pause(Math.min(5_000, (subscribeOptions.retryDelayMs ?? 500) * 2 ** (failures - 1)));
            continue;
          }
          for (const event of page.events) {
            if (stopping) return;
            await handler(event);
            position = event.position;
          }
        }
      };
      const done = run();
      return {
        position: () => position,
        done,
        stop: async () => {
          stopping = true;
          abort.abort();
          wake?.();
          await done.catch(() => undefined); // the failure is reported through `done`
        },
      };
    },
    close: () => pool.close(),
  };
  return client;
};
