/**
 * The internal HTTP API (every route signed: service-kit verifies before these run).
 *
 *   POST /streams/:streamId/events           append { expectedVersion, events } -> 200 AppendResult
 *   GET  /streams/:streamId?fromVersion=&asOf= -> { streamId, version, events }
 *   GET  /events?fromPosition=&limit=&waitMs=&types=  -> { events, nextPosition, hasMore }
 *        (types: comma-separated event types, only those are returned; waitMs: long poll while
 *        there is nothing to return, ended by a commit of those types, or shortly after commits
 *        of other types with an empty page past them)
 *   GET  /events/by-correlation/:correlationId -> { events }
 *
 * Errors: `{ error: { code, message, ...details } }` with the status of the code
 * (VALIDATION 400, WRONG_EXPECTED_VERSION 409 with currentVersion, IDEMPOTENCY_CONFLICT 409,
 * NOT_FOUND 404, UNAVAILABLE 503).
 */
import type { Express, NextFunction, Request, Response } from 'express';
import { EventStoreError } from '../store/errors.ts';
import type { EventStore } from '../store/event-store.ts';
import { DEFAULT_PAGE_SIZE } from '../store/reader.ts';

/** Longest a `GET /events` long poll waits for a commit. */
export const MAX_WAIT_MS = 30_000;

/**
 * How long a long poll for some types waits, after commits of other types only, before it
 * answers anyway with the page moved past them: its reader's checkpoint follows the log within
 * this, without a round trip (and a checkpoint write) per commit that is not its concern.
 */
export const MOVE_PAST_OTHER_TYPES_MS = 500;

const integer = (raw: unknown, name: string, fallback: number): number => {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || !Number.isSafeInteger(value)) {
    throw new EventStoreError(
      'VALIDATION',
      `${name} must be a non-negative integer, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
};

/** Most event types one read may filter on. */
const MAX_TYPES = 100;

const typeList = (raw: unknown): string[] | undefined => {
  if (raw === undefined) return undefined;
  // `types=` (empty): no type at all, a page that only tells how far the log goes.
  const types = typeof raw === 'string' ? (raw === '' ? [] : raw.split(',')) : undefined;
  if (
    types === undefined ||
    types.length > MAX_TYPES ||
    !types.every((type) => /^[A-Za-z][A-Za-z0-9]{0,99}$/.test(type))
  ) {
    throw new EventStoreError(
      'VALIDATION',
      `types must be a comma-separated list of at most ${MAX_TYPES} event type names, got ${JSON.stringify(raw)}`,
    );
  }
  return types;
};

const date = (raw: unknown, name: string): Date | undefined => {
  if (raw === undefined || raw === '') return undefined;
  const value = typeof raw === 'string' ? new Date(raw) : new Date(Number.NaN);
  if (Number.isNaN(value.getTime())) {
    throw new EventStoreError(
      'VALIDATION',
      `${name} must be an ISO-8601 date-time, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
};

/** Answers an EventStoreError with its status and code; anything else goes to the server's 500 handler. */
const answerError = (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
  if (!(error instanceof EventStoreError)) {
    next(error);
    return;
  }
  res.status(error.status).json({ error: { code: error.code, message: error.message, ...error.details } });
};

/**
 * Waits until this process commits past `position` (an event of one of `types`, when given) or
 * `ms` elapse. With `types`, commits of other types only end the wait
 * `MOVE_PAST_OTHER_TYPES_MS` after the first of them (or after the start, when the caller's page
 * has `movedAlready` past some).
 */
const commitAfter = (
  store: EventStore,
  position: number,
  ms: number,
  types: readonly string[] | undefined,
  movedAlready: boolean,
): Promise<void> =>
  new Promise((resolve) => {
    let moveTimer: NodeJS.Timeout | undefined;
    const done = () => {
      clearTimeout(timer);
      clearTimeout(moveTimer);
      unsubscribe();
      resolve();
    };
    const timer = setTimeout(done, ms);
    const movedPastOthers = () => {
      moveTimer ??= setTimeout(done, Math.min(ms, MOVE_PAST_OTHER_TYPES_MS));
    };
    if (movedAlready) movedPastOthers();
    const wanted = types ? new Set(types) : undefined;
    const unsubscribe = store.onCommit((committed, committedTypes) => {
      if (committed <= position) return;
      if (!wanted || [...committedTypes].some((type) => wanted.has(type))) done();
      else movedPastOthers();
    });
    // A commit between the caller's read and the subscription above has signalled no one.
    const missed = types
      ? store.readAll(position, 1, types).then((page) => {
          if (page.events.length > 0) done();
          else if (page.nextPosition > position) movedPastOthers();
        })
      : store.headPosition().then((head) => {
          if (head > position) done();
        });
    missed.catch(() => undefined); // the wait still ends on a commit or the timer
  });

/** Mounts the event store routes on `app`. */
export const mountEventStoreRoutes = (app: Express, store: EventStore): void => {
  app.post('/streams/:streamId/events', async (req, res) => {
    const body = (req.body ?? {}) as { expectedVersion?: unknown; events?: unknown };
    const result = await store.append({
      streamId: String(req.params.streamId),
      expectedVersion: body.expectedVersion as never,
      events: body.events as never,
    });
    res.json(result);
  });

  app.get('/streams/:streamId', async (req, res) => {
    const fromVersion = integer(req.query.fromVersion, 'fromVersion', 1);
    const asOf = date(req.query.asOf, 'asOf');
    res.json(await store.readStream(String(req.params.streamId), { fromVersion, ...(asOf ? { asOf } : {}) }));
  });

  app.get('/events', async (req, res) => {
    const fromPosition = integer(req.query.fromPosition, 'fromPosition', 0);
    const limit = integer(req.query.limit, 'limit', DEFAULT_PAGE_SIZE);
    const waitMs = Math.min(integer(req.query.waitMs, 'waitMs', 0), MAX_WAIT_MS);
    const types = typeList(req.query.types);
    let page = await store.readAll(fromPosition, limit, types);
    if (page.events.length === 0 && waitMs > 0) {
      // Nothing to read yet (of these types): wait for it, from where the page ended; a page
      // already past commits of other types answers soon even if nothing else is committed.
      await commitAfter(store, page.nextPosition, waitMs, types, page.nextPosition > fromPosition);
      page = await store.readAll(fromPosition, limit, types);
    }
    res.json(page);
  });

  app.get('/events/by-correlation/:correlationId', async (req, res) => {
    res.json({ events: await store.readByCorrelation(String(req.params.correlationId)) });
  });

  app.use(answerError);
};
