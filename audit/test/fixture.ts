/**
 * A running audit service for one test file: its own event store, database and RabbitMQ vhost
 * (kit backbone), and what its peers would do to it: events committed to the event store (which
 * publishes them on the bus) and the gateway's mutation records sent on the bus.
 */
import type { RecordedEvent } from '@magasin/event-store/client';
import { type CommandOf, type EventDataOf, newEventId } from '@magasin/events';
import { connectMessaging, type Messaging } from '@magasin/messaging';
import type { Identity } from '@magasin/service-kit';
import type { RunningSubgraph } from '@magasin/subgraph-kit';
import { graphqlClient, startTestBackbone, type TestBackbone } from '@magasin/subgraph-kit/testing';
import { eventually } from '@magasin/test-kit';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { loadAuditConfig } from '../src/config.ts';
import type { AuditPrisma } from '../src/records/database.ts';
import { runAudit } from '../src/service.ts';

export const ADMIN: Identity = { sub: 'root', roles: ['admin'] };
export const AUDITOR: Identity = { sub: 'iris', roles: ['auditor'] };
export const ALICE: Identity = { sub: 'alice', roles: ['customer'] };

export interface AuditFixture {
  backbone: TestBackbone;
  service: RunningSubgraph<AuditPrisma>;
  databaseUrl: string;
  /** The test's own connection to the vhost (republishes events, sends mutation records). */
  bus: Messaging;
  graphql(identity?: Identity): ReturnType<typeof graphqlClient>;
  /** Appends OrderPlaced (by `customerId`, paid with `paymentToken`) to a new order's stream. */
  placeOrder(customerId: string, paymentToken?: string): Promise<{ orderId: string; placed: RecordedEvent }>;
  /** Resolves once the trail holds `count` records. */
  recorded(count: number): Promise<void>;
  stop(): Promise<void>;
}

export const startAuditFixture = async (label: string): Promise<AuditFixture> => {
  const backbone = await startTestBackbone(label);
  const config = loadAuditConfig(backbone.env('audit', 'AUDIT_PORT'));
  const logger = pino({ level: process.env.MAGASIN_TEST_LOG_LEVEL ?? 'silent' });
  let service: RunningSubgraph<AuditPrisma> | undefined;
  try {
    service = await runAudit({
      config: { ...config, port: 0 },
      logger,
      registry: new Registry(),
      handleSignals: false,
    });
    const running = service;
    const bus = await connectMessaging({
      url: backbone.rabbitmqUrl,
      service: 'audit-test',
      logger,
      registry: new Registry(),
    });
    return {
      backbone,
      service: running,
      databaseUrl: config.databaseUrl,
      bus,
      graphql: (identity) => graphqlClient(running.url, identity ? { identity } : {}),
      placeOrder: async (customerId, paymentToken = 'tok_visa') => {
        const orderId = newEventId();
        const appended = await backbone.eventStore.append(`order-${orderId}`, 'no_stream', [
          {
            eventId: newEventId(),
            type: 'OrderPlaced',
            data: {
              orderId,
              customerId,
              lines: [{ productId: 'p-1', quantity: 1, unitPriceCents: 900 }],
              totalCents: 900,
              currency: 'EUR',
              paymentToken,
              placedAt: new Date().toISOString(),
            } satisfies EventDataOf<'OrderPlaced'>,
            correlationId: orderId,
            actor: customerId,
          },
        ]);
        const [placed] = appended.events;
        if (!placed) throw new Error('the event store recorded no OrderPlaced');
        return { orderId, placed };
      },
      recorded: async (count) => {
        await eventually(
          async () => ((await running.deps.prisma.auditRecord.count()) >= count ? true : undefined),
          { what: `${count} audit records` },
        );
      },
      stop: async () => {
        await bus.close();
        await running.stop();
        await backbone.stop();
      },
    };
  } catch (error) {
    await service?.stop();
    await backbone.stop();
    throw error;
  }
};

/** A RecordMutation as the gateway sends it. */
export const mutationRecord = (
  actor: string,
  payload: Partial<CommandOf<'RecordMutation'>['payload']> & { subjectIds?: string[] },
  correlationId = newEventId(),
): CommandOf<'RecordMutation'> => ({
  commandId: newEventId(),
  type: 'RecordMutation',
  correlationId,
  causationId: null,
  actor,
  issuedAt: new Date().toISOString(),
  traceparent: null,
  payload: {
    operationName: null,
    fields: [{ name: 'placeOrder', arguments: { input: { paymentToken: '[MASKED]' } } }],
    outcome: 'ACCEPTED',
    errorCodes: [],
    subjectIds: [],
    roles: ['customer'],
    receivedAt: new Date().toISOString(),
    durationMs: 5,
    ...payload,
  },
});

/** The trail query with every field. */
export const AUDIT_TRAIL = /* GraphQL */ `
  query Trail($correlationId: ID!) {
    auditTrail(correlationId: $correlationId) {
      id
      sequence
      sourceId
      kind
      type
      correlationId
      causationId
      actor
      actorErased
      at
      recordedAt
      outcome
      errorCodes
      subjectIds
      streamId
      streamVersion
      position
      tags
      data
      previousHash
      hash
    }
  }
`;

/** One record as auditTrail answers it. */
export interface TrailRecord {
  id: string;
  sequence: number;
  sourceId: string;
  kind: 'EVENT' | 'MUTATION';
  type: string;
  correlationId: string;
  causationId: string | null;
  actor: string;
  actorErased: boolean;
  at: string;
  recordedAt: string;
  outcome: 'ACCEPTED' | 'REFUSED' | null;
  errorCodes: string[];
  subjectIds: string[];
  streamId: string | null;
  streamVersion: number | null;
  position: number | null;
  tags: string[];
  data: Record<string, unknown>;
  previousHash: string;
  hash: string;
}

export const AUDIT_INTEGRITY = /* GraphQL */ `
  query {
    auditIntegrity {
      valid
      checked
      firstBroken {
        sequence
        recordId
        reason
      }
      headSequence
      headHash
      checkedAt
    }
  }
`;

export interface IntegrityAnswer {
  auditIntegrity: {
    valid: boolean;
    checked: number;
    firstBroken: { sequence: number; recordId: string; reason: string } | null;
    headSequence: number | null;
    headHash: string | null;
    checkedAt: string;
  };
}

export const ERASE_CUSTOMER = /* GraphQL */ `
  mutation Erase($customerId: ID!) {
    eraseCustomer(customerId: $customerId) {
      customerId
      erased
      records
      erasedAt
    }
  }
`;
