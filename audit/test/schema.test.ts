import { checkSchemaAgreement, migrate } from '@magasin/migrator';
import { createTestDatabase, type TestDatabase } from '@magasin/test-kit';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditPrisma, auditDatabase, createAuditPrisma } from '../src/records/database.ts';

let database: TestDatabase;
let prisma: AuditPrisma;

beforeAll(async () => {
  database = await createTestDatabase('audit_schema');
  await migrate({ databaseUrl: database.url, migrationsDirectory: auditDatabase.migrationsDirectory });
  prisma = createAuditPrisma(database.url);
});

afterAll(async () => {
  await prisma?.$disconnect();
  await database?.drop();
});

describe('the migrated database', () => {
  it('agrees with prisma/schema.prisma', async () => {
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      expect(await checkSchemaAgreement(prisma, db)).toEqual([]);
    } finally {
      await db.end();
    }
  });

  it('stores and reads back every field of every model through the client', async () => {
    const at = new Date('2026-11-25T10:00:00.123Z');
    const record = {
      sequence: 1n,
      id: 'r-1',
      sourceId: 'e-1',
      kind: 'EVENT',
      type: 'OrderPlaced',
      correlationId: 'o-1',
      causationId: 'c-1',
      actor: `subject:${'a'.repeat(32)}`,
      subjectIds: ['o-2'],
      streamId: 'order-o-1',
      streamVersion: 1,
      position: 42n,
      outcome: null,
      errorCodes: ['NONE'],
      tags: ['PCI-DSS', 'GDPR'],
      data: { paymentToken: '[MASKED]', lines: [{ quantity: 1 }] },
      occurredAt: at,
      recordedAt: at,
      previousHash: '0'.repeat(64),
      hash: 'f'.repeat(64),
    };
    await prisma.auditRecord.create({ data: record });
    await prisma.auditSubject.create({ data: { key: record.actor, value: 'alice', createdAt: at } });
    const erasure = { key: `subject:${'b'.repeat(32)}`, erasedAt: at, tombstone: 'c'.repeat(64) };
    await prisma.auditErasure.create({ data: erasure });
    expect(await prisma.auditRecord.findMany()).toEqual([record]);
    expect(await prisma.auditSubject.findMany()).toEqual([
      { key: record.actor, value: 'alice', createdAt: at },
    ]);
    expect(await prisma.auditErasure.findMany()).toEqual([erasure]);
  });

  it('refuses a kind or an outcome it does not know', async () => {
    const base = {
      id: 'r-x',
      sourceId: 'e-x',
      type: 't',
      correlationId: 'c',
      actor: 'service:x',
      data: {},
      occurredAt: new Date(),
      recordedAt: new Date(),
      previousHash: '',
      hash: '',
    };
    await expect(
      prisma.auditRecord.create({ data: { ...base, sequence: 2n, kind: 'RUMOUR' } }),
    ).rejects.toThrow();
    await expect(
      prisma.auditRecord.create({ data: { ...base, sequence: 3n, kind: 'MUTATION', outcome: 'MAYBE' } }),
    ).rejects.toThrow();
  });
});
