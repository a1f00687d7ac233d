/**
 * The trail as evidence: its hash chain verified (and a record edited in the database found),
 * a customer erased without breaking it, and its export as NDJSON that anyone can verify.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAuditCli } from '../src/cli.ts';
import { type ChainedRecord, startVerification, verifyNext } from '../src/domain/chain.ts';
import {
  ADMIN,
  AUDIT_INTEGRITY,
  AUDIT_TRAIL,
  AUDITOR,
  type AuditFixture,
  ERASE_CUSTOMER,
  type IntegrityAnswer,
  mutationRecord,
  startAuditFixture,
  type TrailRecord,
} from './fixture.ts';

let fixture: AuditFixture;
const orders: Record<string, string> = {};

beforeAll(async () => {
  fixture = await startAuditFixture('audit_integrity');
  for (const customer of ['erin', 'frank', 'erin']) {
    const { orderId } = await fixture.placeOrder(customer);
    orders[`${customer}-${Object.keys(orders).length}`] = orderId;
  }
  await fixture.bus.sendCommands([
    mutationRecord('erin', { subjectIds: [orders['erin-0'] ?? ''] }),
    mutationRecord('frank', { subjectIds: [orders['frank-1'] ?? ''] }),
  ]);
  await fixture.recorded(5);
});

afterAll(async () => {
  await fixture?.stop();
});

const integrity = async () => {
  const answer = await fixture.graphql(ADMIN)<IntegrityAnswer>(AUDIT_INTEGRITY);
  expect(answer.errors).toBeUndefined();
  return answer.data?.auditIntegrity;
};

const trail = async (correlationId: string) =>
  (await fixture.graphql(AUDITOR)<{ auditTrail: TrailRecord[] }>(AUDIT_TRAIL, { correlationId })).data
    ?.auditTrail ?? [];

/** Collects what a CLI writes. */
const sink = () => {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString('utf8'));
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
};

const cli = async (...argv: string[]) => {
  const stdout = sink();
  const stderr = sink();
  const code = await runAuditCli(argv, {
    env: { AUDIT_DATABASE_URL: fixture.databaseUrl },
    stdout: stdout.stream,
    stderr: stderr.stream,
  });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
};

describe('auditIntegrity', () => {
  it('holds over the whole chain as recorded', async () => {
    const head = await fixture.service.deps.prisma.auditRecord.findFirst({ orderBy: { sequence: 'desc' } });
    expect(await integrity()).toMatchObject({
      valid: true,
      checked: 5,
      firstBroken: null,
      headSequence: 5,
      headHash: head?.hash,
    });
  });

  it('is for admins only', async () => {
    const answer = await fixture.graphql(AUDITOR)(AUDIT_INTEGRITY);
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});

describe('erasing a customer', () => {
  it('removes them from the trail, records and pseudonyms, and the chain still holds', async () => {
    const answer = await fixture.graphql(ADMIN)<{
      eraseCustomer: { customerId: string; erased: boolean; records: number };
    }>(ERASE_CUSTOMER, { customerId: 'erin' });
    expect(answer.errors).toBeUndefined();
    // Two orders placed by erin and the mutation she made.
    expect(answer.data?.eraseCustomer).toMatchObject({ customerId: 'erin', erased: true, records: 3 });

    expect(await integrity()).toMatchObject({ valid: true, checked: 5, firstBroken: null });
    const erins = await trail(orders['erin-0'] ?? '');
    const mutation = erins.find((record) => record.kind === 'MUTATION');
    const placed = erins.find((record) => record.kind === 'EVENT');
    expect(mutation).toMatchObject({ kind: 'MUTATION', actor: '[erased]', actorErased: true });
    expect(placed).toMatchObject({
      type: 'OrderPlaced',
      actor: '[erased]',
      actorErased: true,
      data: { customerId: '[erased]' },
    });
    // Someone else is still there.
    const frank = (await trail(orders['frank-1'] ?? '')).find((record) => record.kind === 'EVENT');
    expect(frank).toMatchObject({ actor: 'frank', data: { customerId: 'frank' } });

    const left = await fixture.service.deps.prisma.$queryRaw<{ rows: bigint }[]>`
      SELECT (SELECT count(*) FROM audit_records r WHERE row_to_json(r)::text LIKE '%erin%')
           + (SELECT count(*) FROM audit_subjects s WHERE row_to_json(s)::text LIKE '%erin%') AS rows`;
    expect(Number(left[0]?.rows)).toBe(0);
  });

  it('holds for records about them that arrive after it, under the erased pseudonym', async () => {
    const before = await fixture.service.deps.prisma.auditRecord.findFirstOrThrow({
      where: { correlationId: orders['erin-0'] ?? '', kind: 'EVENT' },
    });
    // Her order's events still in flight, and the gateway's record of the erasure request.
    const late = await fixture.placeOrder('erin');
    await fixture.bus.sendCommands([
      mutationRecord('root', {
        fields: [{ name: 'eraseCustomer', arguments: { customerId: 'erin' } }],
        roles: ['admin'],
      }),
    ]);
    await fixture.recorded(7);
    const [placed] = await trail(late.orderId);
    expect(placed).toMatchObject({ actor: '[erased]', data: { customerId: '[erased]' } });
    const after = await fixture.service.deps.prisma.auditRecord.findFirstOrThrow({
      where: { correlationId: late.orderId },
    });
    expect(after.actor).toBe(before.actor);
    const left = await fixture.service.deps.prisma.$queryRaw<{ rows: bigint }[]>`
      SELECT (SELECT count(*) FROM audit_records r WHERE row_to_json(r)::text LIKE '%erin%')
           + (SELECT count(*) FROM audit_subjects s WHERE row_to_json(s)::text LIKE '%erin%') AS rows`;
    expect(Number(left[0]?.rows)).toBe(0);
    expect(await integrity()).toMatchObject({ valid: true, checked: 7 });
  });

  it('says so when the trail knows nothing of them', async () => {
    const answer = await fixture.graphql(ADMIN)(ERASE_CUSTOMER, { customerId: 'erin' });
    expect(answer.data).toMatchObject({ eraseCustomer: { erased: false, records: 0 } });
  });

  it('is for admins only', async () => {
    const answer = await fixture.graphql(AUDITOR)(ERASE_CUSTOMER, { customerId: 'frank' });
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['FORBIDDEN']);
  });
});

describe('npm run audit -- export', () => {
  it('writes every record of the range as NDJSON, in chain order, verifiable by whoever receives it', async () => {
    const { code, stdout, stderr } = await cli(
      'export',
      '--from',
      '2000-01-01',
      '--to',
      '2999-12-31T23:59:59Z',
    );
    expect(code).toBe(0);
    expect(stderr).toContain('7 audit records exported');
    const records = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as ChainedRecord);
    expect(records.map((record) => record.sequence)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(records.reduce(verifyNext, startVerification()).firstBroken).toBeUndefined();
    expect(stdout).not.toContain('tok_visa');
    expect(stdout).not.toContain('erin');
  });

  it('writes nothing for a range before any record, and refuses a range that is not one', async () => {
    expect(await cli('export', '--to', '2000-01-01')).toMatchObject({ code: 0, stdout: '' });
    expect(await cli('export', '--from', 'yesterday')).toMatchObject({ code: 2 });
    expect(await cli('export', '--from', '2026-02-01', '--to', '2026-01-01')).toMatchObject({ code: 2 });
    expect(await cli('shred')).toMatchObject({ code: 2 });
  });
});

describe('a record edited in the database', () => {
  it('makes auditIntegrity point at exactly that record, and `npm run audit -- verify` fail', async () => {
    const target = await fixture.service.deps.prisma.auditRecord.findUniqueOrThrow({
      where: { sequence: 3n },
    });
    await fixture.service.deps.prisma.$executeRaw`
      UPDATE audit_records SET data = jsonb_set(data, '{totalCents}', '1') WHERE sequence = 3`;

    expect(await integrity()).toMatchObject({
      valid: false,
      checked: 7,
      firstBroken: { sequence: 3, recordId: target.id, reason: 'TAMPERED' },
    });
    const verdict = await cli('verify');
    expect(verdict.code).toBe(1);
    expect(JSON.parse(verdict.stdout)).toMatchObject({ valid: false, firstBroken: { sequence: 3 } });
  });
});
