/**
 * Live saga progress. Every saga event is published on the `magasin.saga-updates` fanout as the
 * whole saga as of that event (one update per step, in order), so any replica (of this service,
 * or a gateway) can serve any subscriber without reading this database. Two publishers: the
 * orchestrator right after each append (the fast path: it folds its own events onto the views
 * it keeps of the sagas in flight), and the projection after each page it committed, for what
 * this process has not published itself (the safety net for an update lost in a crash between an
 * append and its publication, or refused by RabbitMQ); a subscriber takes each version once
 * (with several replicas, a replica's projection also publishes the others' updates again). A
 * subscriber starts from the newer of the current state in the read model and the latest update
 * its replica saw, follows the updates of its saga (newer versions only), and ends when the saga
 * ends; it also re-reads the saga now and then, in case an update was lost while RabbitMQ
 * reconnected. Either way a subscriber gets every step after the first state once, in order: the
 * steps an update or a re-read is ahead by are cut from that saga's own timeline.
 */
import type { EventStoreClient, RecordedEvent } from '@magasin/event-store/client';
import type { EventEnvelope } from '@magasin/events';
import type { Messaging, Subscription } from '@magasin/messaging';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { isTerminal, type SagaView, viewAt } from './domain/timeline.ts';
import type { SagaPrisma } from './projections/index.ts';
import { foldSagaView, readSagaViews, sagaViewFromStream } from './saga-views.ts';

/** What travels on the fanout: the whole saga as of `version`. */
export interface SagaUpdate {
  sagaId: string;
  version: number;
  saga: SagaView;
}

const SAGA_EVENT = /^Saga[A-Z]/;

/**
 * Publishes the updates of the saga events of a committed page that this process has not
 * published yet (`published`: the orchestrator's fast path); see the module comment.
 */
export const publishSagaUpdates = async (
  events: readonly EventEnvelope[],
  deps: { prisma: SagaPrisma; messaging: Messaging; published?: Pick<SagaUpdatePublisher, 'hasPublished'> },
): Promise<void> => {
  const touched = events.filter(
    (event) =>
      SAGA_EVENT.test(event.type) &&
      !deps.published?.hasPublished((event.data as { sagaId: string }).sagaId, event.version),
  );
  if (touched.length === 0) return;
  const ids = [...new Set(touched.map((event) => (event.data as { sagaId: string }).sagaId))];
  const views = await readSagaViews(deps.prisma, ids);
  const updates: SagaUpdate[] = [];
  for (const event of touched) {
    const sagaId = (event.data as { sagaId: string }).sagaId;
    const view = views.get(sagaId);
    // A later page may have moved the saga on already: its own updates follow with that page.
    if (!view || view.version < event.version) continue;
    updates.push({ sagaId, version: event.version, saga: viewAt(view, event.version) });
  }
  await Promise.all(updates.map((update) => deps.messaging.publishSagaUpdate({ ...update })));
};

const isUpdate = (value: unknown): value is SagaUpdate => {
  const update = value as Partial<SagaUpdate> | null;
  return (
    typeof update?.sagaId === 'string' &&
    typeof update.version === 'number' &&
    typeof update.saga === 'object' &&
    update.saga !== null
  );
};

/** Sagas an orchestrator remembers (views in flight, versions published), at most; the oldest go first. */
const DEFAULT_REMEMBERED_SAGAS = 10_000;

/**
 * The orchestrator's fast path (see the module comment): publishes the updates of the events it
 * just appended to a saga. The saga's view comes from the events this process appended when it
 * saw them all, else from the saga's stream. It remembers what it published, so that the
 * projection of this process does not publish it again.
 */
export class SagaUpdatePublisher {
  // Read with `peek`: an entry grows newer only when it is set, and the oldest set goes first.
  private readonly views: LRUCache<string, SagaView>;
  private readonly publishedUpTo: LRUCache<string, number>;
  private readonly published: Counter<'source'>;

  constructor(
    private readonly deps: {
      eventStore: EventStoreClient;
      messaging: Pick<Messaging, 'publishSagaUpdate'>;
      logger: Logger;
      registry: Registry;
      rememberedSagas?: number;
    },
  ) {
    const max = deps.rememberedSagas ?? DEFAULT_REMEMBERED_SAGAS;
    this.views = new LRUCache({ max });
    this.publishedUpTo = new LRUCache({ max });
    this.published = new Counter({
      name: 'magasin_saga_updates_published_total',
      help: 'Saga updates published right after the orchestrator appended their events, by how it knew the saga (cached: its own view; stream: read from the event store; failed: not published, left to the projection).',
      labelNames: ['source'],
      registers: [deps.registry],
    });
  }

  /** Whether this process already published the update of `sagaId` at `version`. */
  hasPublished(sagaId: string, version: number): boolean {
    return (this.publishedUpTo.peek(sagaId) ?? 0) >= version;
  }

  /** Publishes the updates of `appended` (events of the saga `sagaId`). Never throws. */
  async publish(sagaId: string, appended: readonly RecordedEvent[]): Promise<void> {
    const first = appended[0]?.version;
    if (first === undefined) return;
    try {
      const known = this.views.peek(sagaId) ?? null;
      const cached = (known?.version ?? 0) === first - 1;
      const view = cached
        ? appended.reduce<SagaView | null>((next, raw) => foldSagaView(sagaId, next, raw), known)
        : // Another replica (or this one before a restart) appended what this process did not see.
          await sagaViewFromStream(this.deps.eventStore, sagaId);
      if (!view) return;
      if ((this.views.peek(sagaId)?.version ?? 0) < view.version) {
        if (isTerminal(view.status)) this.views.delete(sagaId);
        else this.views.set(sagaId, view);
      }
      const versions = appended.map((event) => event.version).filter((version) => version <= view.version);
      // Claimed before publishing, so that the projection, applying the same events meanwhile,
      // leaves them to this publication; given back if RabbitMQ refuses it.
      const before = this.publishedUpTo.peek(sagaId) ?? 0;
      const upTo = Math.max(before, ...versions);
      this.publishedUpTo.set(sagaId, upTo);
      try {
        await Promise.all(
          versions.map((version) =>
            this.deps.messaging.publishSagaUpdate({
              sagaId,
              version,
              saga: viewAt(view, version),
            } satisfies SagaUpdate),
          ),
        );
      } catch (error) {
        if (this.publishedUpTo.peek(sagaId) === upTo) this.publishedUpTo.set(sagaId, before);
        throw error;
      }
      this.published.inc({ source: cached ? 'cached' : 'stream' }, versions.length);
    } catch (error) {
      this.published.inc({ source: 'failed' }, appended.length);
      this.deps.logger.warn(
        { err: error, sagaId },
        'saga update not published at once; the projection publishes it once it has the event',
      );
    }
  }
}

/** Sagas whose latest update a hub remembers, at most, and for how long. */
const DEFAULT_REMEMBERED_UPDATES = 5_000;
const REMEMBERED_UPDATE_TTL_MS = 60_000;

/**
 * Dispatches the saga updates this replica receives to the subscribers of each saga, and
 * remembers the latest update of each recent saga: a subscriber that starts listening after an
 * update went by (the saga may even have ended) gets it at once. Its first read comes from the
 * read model, which can be seconds behind the orchestrator's updates under load.
 */
export class SagaUpdateHub {
  private readonly listeners = new Map<string, Set<(update: SagaUpdate) => void>>();
  private readonly latest: LRUCache<string, SagaUpdate>;
  private subscription: Promise<Subscription> | undefined;

  constructor(private readonly deps: { messaging: Messaging; logger: Logger; rememberedSagas?: number }) {
    this.latest = new LRUCache({
      max: deps.rememberedSagas ?? DEFAULT_REMEMBERED_UPDATES,
      ttl: REMEMBERED_UPDATE_TTL_MS,
    });
  }

  /** Starts receiving (and remembering) updates before anyone listens; resolves once they flow. */
  async start(): Promise<void> {
    try {
      this.subscription ??= this.deps.messaging.subscribeSagaUpdates((update) => this.dispatch(update));
      await this.subscription;
    } catch (error) {
      this.subscription = undefined;
      throw error;
    }
  }

  /**
   * Calls `listener` with the latest update of `sagaId` this hub has seen, if any, then with each
   * update from now on; resolves once updates flow.
   */
  async listen(sagaId: string, listener: (update: SagaUpdate) => void): Promise<() => void> {
    const listeners = this.listeners.get(sagaId) ?? new Set();
    listeners.add(listener);
    this.listeners.set(sagaId, listeners);
    const unlisten = () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.listeners.get(sagaId) === listeners) this.listeners.delete(sagaId);
    };
    try {
      await this.start();
    } catch (error) {
      unlisten();
      throw error;
    }
    const latest = this.latest.get(sagaId);
    if (latest) listener(latest);
    return unlisten;
  }

  private dispatch(update: unknown): void {
    if (!isUpdate(update)) {
      this.deps.logger.warn({ update }, 'ignored a malformed saga update');
      return;
    }
    if ((this.latest.get(update.sagaId)?.version ?? 0) < update.version)
      this.latest.set(update.sagaId, update);
    for (const listener of this.listeners.get(update.sagaId) ?? []) listener(update);
  }

  /** Stops receiving updates. */
  async close(): Promise<void> {
    const subscription = this.subscription;
    this.subscription = undefined;
    this.listeners.clear();
    this.latest.clear();
    if (subscription) await (await subscription.catch(() => undefined))?.close();
  }
}

/** An async iterator fed by pushes, whose `return()` ends it at once (even while waiting). */
class SagaChannel implements AsyncIterableIterator<SagaView> {
  private readonly queue: SagaView[] = [];
  private waiting: ((result: IteratorResult<SagaView>) => void) | undefined;
  private ended = false;

  constructor(private readonly onEnd: () => void) {}

  /** Whether end() or return() was called. */
  get isEnded(): boolean {
    return this.ended;
  }

  push(view: SagaView): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: view, done: false });
    } else {
      this.queue.push(view);
    }
  }

  /** No more values after those queued. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
    if (this.waiting && this.queue.length === 0) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<SagaView>> {
    const value = this.queue.shift();
    if (value) return Promise.resolve({ value, done: false });
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<SagaView>> {
    this.queue.length = 0;
    this.end();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<SagaView> {
    return this;
  }
}

/** Options of {@link followSaga}. */
export interface FollowOptions {
  hub: SagaUpdateHub;
  /** The saga's current state, from the read model. */
  read: (sagaId: string) => Promise<SagaView | null>;
  /** Re-read period when no update came (SAGA_SUBSCRIPTION_RESYNC_MS). */
  resyncMs: number;
  logger: Logger;
}

/**
 * The saga `sagaId` as it changes: its current state first (as soon as it exists), then each
 * newer version, ending after a terminal status.
 */
export const followSaga = async (
  sagaId: string,
  options: FollowOptions,
): Promise<AsyncIterableIterator<SagaView>> => {
  let timer: NodeJS.Timeout | undefined;
  let unlisten: (() => void) | undefined;
  const channel = new SagaChannel(() => {
    clearInterval(timer);
    unlisten?.();
  });
  let last = 0;
  const offer = (view: SagaView) => {
    if (view.version <= last) return;
    // After the first state, each step once and in order: a re-read can be ahead of the updates
    // (the projection commits before it publishes), and an update can be lost; the steps the
    // view skips are cut from its own timeline rather than dropped.
    const from = last === 0 ? view.version : last + 1;
    last = view.version;
    for (let version = from; version <= view.version; version++) channel.push(viewAt(view, version));
    if (isTerminal(view.status)) channel.end();
  };
  const resync = async () => {
    try {
      const view = await options.read(sagaId);
      if (view) offer(view);
    } catch (error) {
      options.logger.warn({ err: error, sagaId }, 'could not re-read a followed saga');
    }
  };
  // Listen before reading, so that nothing between the read and the first update is missed; the
  // hub also hands over the latest update it saw, newer than the read model under load.
  unlisten = await options.hub.listen(sagaId, (update) => offer(update.saga));
  try {
    const current = await options.read(sagaId);
    if (current) offer(current);
  } catch (error) {
    void channel.return();
    unlisten();
    throw error;
  }
  if (channel.isEnded) {
    unlisten();
    return channel;
  }
  timer = setInterval(() => void resync(), options.resyncMs);
  timer.unref();
  return channel;
};
