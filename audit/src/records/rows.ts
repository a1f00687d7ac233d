/** Stored records (`audit_records` rows) to and from the domain's chained records. */
import type { MutationOutcome } from '@magasin/events';
import type { ChainedRecord } from '../domain/chain.ts';
import type { ComplianceTag, Json, RecordKind } from '../domain/record.ts';
import type { AuditRecord as AuditRecordRow, Prisma } from '../generated/prisma/client.ts';

export type { AuditRecordRow };

/** The row of a chained record. */
export const toRow = (record: ChainedRecord): Prisma.AuditRecordCreateInput => ({
  sequence: BigInt(record.sequence),
  id: record.id,
  sourceId: record.sourceId,
  kind: record.kind,
  type: record.type,
  correlationId: record.correlationId,
  causationId: record.causationId,
  actor: record.actor,
  subjectIds: [...record.subjectIds],
  streamId: record.streamId,
  streamVersion: record.streamVersion,
  position: record.position === null ? null : BigInt(record.position),
  outcome: record.outcome,
  errorCodes: [...record.errorCodes],
  tags: [...record.tags],
  data: record.data as Prisma.InputJsonObject,
  occurredAt: new Date(record.occurredAt),
  recordedAt: new Date(record.recordedAt),
  previousHash: record.previousHash,
  hash: record.hash,
});

/** The chained record a row holds, exactly as its hash covers it. */
export const fromRow = (row: AuditRecordRow): ChainedRecord => ({
  sequence: Number(row.sequence),
  id: row.id,
  sourceId: row.sourceId,
  kind: row.kind as RecordKind,
  type: row.type,
  correlationId: row.correlationId,
  causationId: row.causationId,
  actor: row.actor,
  subjectIds: row.subjectIds ?? [],
  streamId: row.streamId,
  streamVersion: row.streamVersion,
  position: row.position === null ? null : Number(row.position),
  outcome: row.outcome as MutationOutcome | null,
  errorCodes: row.errorCodes ?? [],
  tags: (row.tags ?? []) as ComplianceTag[],
  data: row.data as { [key: string]: Json },
  occurredAt: row.occurredAt.toISOString(),
  recordedAt: row.recordedAt.toISOString(),
  previousHash: row.previousHash,
  hash: row.hash,
});
