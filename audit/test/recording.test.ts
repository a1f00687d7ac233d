/**
 * What the audit service records from the bus, as an auditor reads it: every event the event
 * store publishes and every mutation record the gateway sends, each once whatever RabbitMQ
 * redelivers, card data masked, in the order of the story.
 */
import { newEventId } from '@magasin/events';
import { eventually } from '@magasin/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN,
  ALICE,
  AUDIT_INTEGRITY,
  AUDIT_TRAIL,
  AUDITOR,
  type AuditFixture,
  mutationRecord,
  startAuditFixture,
  type TrailRecord,
} from './fixture.ts';

let fixture: AuditFixture;

beforeAll(async () => {
  fixture = await startAuditFixture('audit_recording');
});

afterAll(async () => {
  await fixture?.stop();
});

const trail = async (correlationId: string, identity = AUDITOR) => {
  const answer = await fixture.graphql(identity)<{ auditTrail: TrailRecord[] }>(AUDIT_TRAIL, {
    correlationId,
  });
  expect(answer.errors).toBeUndefined();
  return answer.data?.auditTrail ?? [];
};

const trailOf = (correlationId: string, count: number) =>
  eventually(
    async () => {
      const records = await trail(correlationId);
      return records.length >= count ? records : undefined;
    },
    { what: `${count} records in the trail of ${correlationId}` },
  );

/** Resolves once the consumer has seen `count` redeliveries of `type` as duplicates. */
const duplicates = (type: string, count: number) =>
  eventually(
    async () => {
      const metric = await fixture.service.deps.registry
        .getSingleMetric('magasin_messages_consumed_total')
        ?.get();
      const seen = metric?.values.find(
        (value) => value.labels.type === type && value.labels.outcome === 'duplicate',
      )?.value;
      return (seen ?? 0) >= count ? true : undefined;
    },
    { what: `${count} duplicate ${type}` },
  );

const recordsOf = (sourceId: string) =>
  fixture.service.deps.prisma.auditRecord.count({ where: { sourceId } });

describe('an event', () => {
  it('is recorded with who, what, when, its place in the log and its tags, the card token masked', async () => {
    const { orderId, placed } = await fixture.placeOrder('alice', 'tok_visa');
    const [record] = await trailOf(orderId, 1);
    expect(record).toMatchObject({
      sequence: expect.any(Number),
      kind: 'EVENT',
      type: 'OrderPlaced',
      correlationId: orderId,
      actor: 'alice',
      actorErased: false,
      at: placed.occurredAt,
      outcome: null,
      streamId: `order-${orderId}`,
      streamVersion: 1,
      position: placed.position,
      tags: ['PCI_DSS', 'GDPR'],
      data: { orderId, customerId: 'alice', paymentToken: '[MASKED]', totalCents: 900 },
    });
    expect(record?.hash).toMatch(/^[0-9a-f]{64}$/);
    const stored = await fixture.service.deps.prisma.auditRecord.findMany();
    expect(
      JSON.stringify(stored, (_key, value) => (typeof value === 'bigint' ? Number(value) : value)),
    ).not.toContain('tok_visa');
  });

  it('redelivered is recorded once', async () => {
    const { orderId, placed } = await fixture.placeOrder('bob');
    await trailOf(orderId, 1);
    // The same message twice more, as RabbitMQ redelivers an unacknowledged one.
    await fixture.bus.publishEvents([placed, placed]);
    await duplicates('OrderPlaced', 2);
    expect(await recordsOf(placed.eventId)).toBe(1);
    expect((await trail(orderId)).map((record) => record.type)).toEqual(['OrderPlaced']);
  });

  it('is recorded once even when its inbox entry is gone (the trail knows its source)', async () => {
    const { orderId, placed } = await fixture.placeOrder('carol');
    await trailOf(orderId, 1);
    await fixture.service.deps.prisma.$executeRaw`DELETE FROM inbox WHERE message_id = ${placed.eventId}`;
    await fixture.bus.publishEvents([placed]);
    await eventually(
      async () => {
        const rows = await fixture.service.deps.prisma.$queryRaw<unknown[]>`
          SELECT 1 FROM inbox WHERE message_id = ${placed.eventId}`;
        return rows.length > 0 ? true : undefined;
      },
      { what: 'the redelivered event handled again' },
    );
    expect(await recordsOf(placed.eventId)).toBe(1);
  });
});

describe('a mutation the gateway saw', () => {
  it('is recorded once, in the trail of the order it named, before the events it caused', async () => {
    const { orderId } = await fixture.placeOrder('dave');
    const receivedAt = new Date(Date.now() - 60_000).toISOString();
    const command = mutationRecord('dave', {
      subjectIds: [orderId],
      receivedAt,
      operationName: 'PlaceOrder',
    });
    await fixture.bus.sendCommands([command, command]);
    const records = await trailOf(orderId, 2);
    await duplicates('RecordMutation', 1);
    expect(await recordsOf(command.commandId)).toBe(1);
    expect(records.map((record) => [record.kind, record.type])).toEqual([
      ['MUTATION', 'placeOrder'],
      ['EVENT', 'OrderPlaced'],
    ]);
    expect(records[0]).toMatchObject({
      correlationId: command.correlationId,
      actor: 'dave',
      at: receivedAt,
      outcome: 'ACCEPTED',
      errorCodes: [],
      subjectIds: [orderId],
      position: null,
      tags: ['PCI_DSS', 'GDPR'],
      data: { operationName: 'PlaceOrder', roles: ['customer'], fields: [{ name: 'placeOrder' }] },
    });
  });

  it('refused is recorded with its error codes, under the request correlation id', async () => {
    const correlationId = newEventId();
    await fixture.bus.sendCommands([
      mutationRecord(
        'anonymous',
        { outcome: 'REFUSED', errorCodes: ['UNAUTHENTICATED'], roles: [] },
        correlationId,
      ),
    ]);
    const [record] = await trailOf(correlationId, 1);
    expect(record).toMatchObject({
      kind: 'MUTATION',
      actor: 'anonymous',
      outcome: 'REFUSED',
      errorCodes: ['UNAUTHENTICATED'],
      tags: ['PCI_DSS'],
    });
  });
});

describe('a burst of messages', () => {
  it('is recorded whole, each once, in few transactions, and the chain holds', async () => {
    const correlationId = newEventId();
    const burst = Array.from({ length: 120 }, (_, index) =>
      mutationRecord(index % 2 === 0 ? 'gina' : 'hugo', {}, correlationId),
    );
    // Some sent twice in the same burst, as RabbitMQ may redeliver.
    await fixture.bus.sendCommands([...burst, ...burst.slice(0, 10)]);
    const records = await trailOf(correlationId, burst.length);
    expect(records).toHaveLength(burst.length);
    expect(records.map((record) => record.actor).sort()).toEqual(
      burst.map((command) => command.actor).sort(),
    );
    const { prisma } = fixture.service.deps;
    const stored = await prisma.$queryRaw<
      { transactions: bigint; actors: bigint; first: bigint; last: bigint }[]
    >`
      SELECT count(DISTINCT xmin::text) AS transactions, count(DISTINCT actor) AS actors,
             min(sequence) AS first, max(sequence) AS last
        FROM audit_records WHERE correlation_id = ${correlationId}`;
    // One pseudonym per person, however many of their records share a transaction.
    expect(Number(stored[0]?.actors)).toBe(2);
    // Appends serialise on the chain: what arrived together was committed together.
    expect(Number(stored[0]?.transactions)).toBeLessThan(burst.length / 4);
    const integrity = await fixture.graphql(ADMIN)<{ auditIntegrity: { valid: boolean; checked: number } }>(
      AUDIT_INTEGRITY,
    );
    expect(integrity.data?.auditIntegrity.valid).toBe(true);
    expect(integrity.data?.auditIntegrity.checked).toBe(await prisma.auditRecord.count());
  });
});

describe('who may read the trail', () => {
  it('is an auditor or an admin', async () => {
    const answer = await fixture.graphql(ADMIN)(AUDIT_TRAIL, { correlationId: 'nothing-here' });
    expect(answer).toEqual({ data: { auditTrail: [] } });
  });

  it('is not a customer (FORBIDDEN), nor someone signed out (UNAUTHENTICATED)', async () => {
    const customer = await fixture.graphql(ALICE)(AUDIT_TRAIL, { correlationId: 'x' });
    expect(customer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
    const nobody = await fixture.graphql()(AUDIT_TRAIL, { correlationId: 'x' });
    expect(nobody.errors?.map((error) => error.extensions?.code)).toEqual(['UNAUTHENTICATED']);
  });
});
