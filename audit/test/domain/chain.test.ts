/** The hash chain: what breaks it and which record the verification points at. */
import { describe, expect, it } from 'vitest';
import {
  type ChainedRecord,
  canonicalJson,
  chain,
  GENESIS_HASH,
  hashOf,
  startVerification,
  verifyNext,
} from '../../src/domain/chain.ts';
import { draftOfEvent } from '../../src/domain/record.ts';
import { paymentCaptured, stockReserved } from './builders.ts';

/** A chain of `length` records. */
const chainOf = (length: number): ChainedRecord[] => {
  const records: ChainedRecord[] = [];
  for (let index = 0; index < length; index++) {
    const draft = draftOfEvent(index % 2 ? paymentCaptured(`o-${index}`) : stockReserved(`o-${index}`));
    records.push(
      chain(draft, records.at(-1), { id: `r-${index + 1}`, recordedAt: '2026-11-25T10:00:01.000Z' }),
    );
  }
  return records;
};

const verify = (records: readonly ChainedRecord[]) => records.reduce(verifyNext, startVerification());

describe('canonical JSON', () => {
  it('is the same whatever the order of the keys', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 3 }], c: null } })).toBe(
      canonicalJson({ a: { c: null, d: [1, { e: 3, f: 2 }] }, b: 1 }),
    );
    expect(canonicalJson({ b: 1, a: 'x' })).toBe('{"a":"x","b":1}');
  });
});

describe('the chain', () => {
  it('starts from the genesis hash and links each record to the one before', () => {
    const [first, second] = chainOf(2);
    expect(first).toMatchObject({ sequence: 1, previousHash: GENESIS_HASH });
    expect(second).toMatchObject({ sequence: 2, previousHash: first?.hash });
    expect(first?.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('holds when nothing was changed', () => {
    expect(verify(chainOf(5))).toMatchObject({ checked: 5, firstBroken: undefined });
  });

  it('points at a record whose content was edited', () => {
    const records = chainOf(5);
    const third = records[2] as ChainedRecord;
    records[2] = { ...third, data: { ...third.data, amountCents: 1 } };
    expect(verify(records)).toMatchObject({
      checked: 5,
      firstBroken: { sequence: 3, recordId: 'r-3', reason: 'TAMPERED' },
    });
  });

  it('points at a record whose actor or time was edited', () => {
    const records = chainOf(3);
    const second = records[1] as ChainedRecord;
    expect(
      verify([records[0], { ...second, actor: 'service:other' }, records[2]] as ChainedRecord[]).firstBroken,
    ).toMatchObject({ sequence: 2, reason: 'TAMPERED' });
    expect(
      verify([
        records[0],
        { ...second, occurredAt: '2026-01-01T00:00:00.000Z' },
        records[2],
      ] as ChainedRecord[]).firstBroken,
    ).toMatchObject({ sequence: 2, reason: 'TAMPERED' });
  });

  it('points at a record rewritten with its hash recomputed, through the next record', () => {
    const records = chainOf(4);
    const second = records[1] as ChainedRecord;
    const { hash: _hash, ...rest } = { ...second, actor: 'service:forger' };
    records[1] = { ...rest, hash: hashOf(rest) };
    expect(verify(records).firstBroken).toEqual({ sequence: 2, recordId: 'r-2', reason: 'REWRITTEN' });
  });

  it('points at the record after a deleted one', () => {
    const records = chainOf(4);
    records.splice(1, 1);
    expect(verify(records).firstBroken).toEqual({ sequence: 3, recordId: 'r-3', reason: 'MISSING_BEFORE' });
  });

  it('reports the first break when there are several', () => {
    const records = chainOf(5);
    records[3] = { ...(records[3] as ChainedRecord), type: 'Edited' };
    records[1] = { ...(records[1] as ChainedRecord), type: 'Edited' };
    expect(verify(records).firstBroken).toMatchObject({ sequence: 2 });
  });
});
