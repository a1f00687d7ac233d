/** Reads of the log through the Prisma client: a stream, the whole log by position, a correlation. */
import type { Event, PrismaClient } from '../generated/prisma/client.ts';
import { EventStoreError } from './errors.ts';
import type { EventPage, RecordedEvent } from './types.ts';
import type { StoredMetadata } from './writer.ts';

/** Default and largest page of `readAll`. */
export const DEFAULT_PAGE_SIZE = 500;
export const MAX_PAGE_SIZE = 5_000;

const envelopeOfModel = (row: Event): RecordedEvent => {
  const metadata = row.metadata as unknown as StoredMetadata;
  return {
    eventId: row.eventId,
    type: row.type,
    streamId: row.streamId,
    version: row.version,
    position: Number(row.position),
    occurredAt: metadata.occurredAt,
    correlationId: metadata.correlationId,
    causationId: metadata.causationId,
    actor: metadata.actor,
    traceparent: metadata.traceparent,
    schemaVersion: metadata.schemaVersion,
    data: row.data,
  };
};

/** A stream's events and the version they bring it to. */
export interface StreamSlice {
  streamId: string;
  /** Version of the last event returned (0 when the stream had no event, at `asOf` if given). */
  version: number;
  events: RecordedEvent[];
}

/** Reads the log. */
export class LogReader {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Events of `streamId` from version `fromVersion` (default 1), in version order; with
   * `asOf`, only those recorded at or before that time (the stream as it was then). A stream
   * with no event answers version 0 and no events.
   */
  async readStream(
    streamId: string,
    options: { fromVersion?: number; asOf?: Date } = {},
  ): Promise<StreamSlice> {
    const fromVersion = options.fromVersion ?? 1;
    if (!Number.isInteger(fromVersion) || fromVersion < 1) {
      throw new EventStoreError('VALIDATION', `fromVersion must be an integer >= 1, got ${fromVersion}`);
    }
    if (options.asOf && Number.isNaN(options.asOf.getTime())) {
      throw new EventStoreError('VALIDATION', 'asOf must be an ISO-8601 date-time');
    }
    const rows = await this.prisma.event.findMany({
      where: {
        streamId,
        version: { gte: fromVersion },
        ...(options.asOf ? { recordedAt: { lte: options.asOf } } : {}),
      },
      orderBy: { version: 'asc' },
    });
    const events = rows.map(envelopeOfModel);
    let version = events.at(-1)?.version ?? 0;
    if (events.length === 0 && fromVersion > 1) {
      const head = await this.prisma.event.findFirst({
        where: { streamId, ...(options.asOf ? { recordedAt: { lte: options.asOf } } : {}) },
        orderBy: { version: 'desc' },
        select: { version: true },
      });
      version = head?.version ?? 0;
    }
    return { streamId, version, events };
  }

  /**
   * Events after `fromPosition` (exclusive; 0 reads from the start), in position order, one page;
   * only those of `types` when given (see `EventPage.nextPosition`).
   */
  async readAll(fromPosition = 0, limit = DEFAULT_PAGE_SIZE, types?: readonly string[]): Promise<EventPage> {
    if (!Number.isInteger(fromPosition) || fromPosition < 0) {
      throw new EventStoreError('VALIDATION', `fromPosition must be an integer >= 0, got ${fromPosition}`);
    }
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new EventStoreError(
        'VALIDATION',
        `limit must be an integer from 1 to ${MAX_PAGE_SIZE}, got ${limit}`,
      );
    }
    if (types) {
      // The head first: positions become visible in commit order, so every event up to a
      // visible head is visible to the next statement too, and a page that is not full may
      // end there.
      const head = await this.headPosition();
      if (types.length === 0)
        return { events: [], nextPosition: Math.max(head, fromPosition), hasMore: false };
      const rows = await this.prisma.event.findMany({
        where: { position: { gt: BigInt(fromPosition), lte: BigInt(head) }, type: { in: [...types] } },
        orderBy: { position: 'asc' },
        take: limit,
      });
      const events = rows.map(envelopeOfModel);
      const full = events.length === limit;
      return {
        events,
        nextPosition: full ? (events.at(-1)?.position ?? fromPosition) : Math.max(head, fromPosition),
        hasMore: full,
      };
    }
    const rows = await this.prisma.event.findMany({
      where: { position: { gt: BigInt(fromPosition) } },
      orderBy: { position: 'asc' },
      take: limit,
    });
    const events = rows.map(envelopeOfModel);
    return {
      events,
      nextPosition: events.at(-1)?.position ?? fromPosition,
      hasMore: events.length === limit,
    };
  }

  /** Every event of one correlation (one order, one saga), in position order. */
  async readByCorrelation(correlationId: string): Promise<RecordedEvent[]> {
    const rows = await this.prisma.event.findMany({ where: { correlationId }, orderBy: { position: 'asc' } });
    return rows.map(envelopeOfModel);
  }

  /** Last committed position (0 for an empty log). */
  async headPosition(): Promise<number> {
    const head = await this.prisma.event.findFirst({
      orderBy: { position: 'desc' },
      select: { position: true },
    });
    return Number(head?.position ?? 0n);
  }
}
