/** The order in which a trail is told, and how it shows people, erased or not. */
import { describe, expect, it } from 'vitest';
import { ERASED, reveal } from '../../src/domain/personal-data.ts';
import { orderTrail } from '../../src/domain/trail.ts';

const event = (sequence: number, position: number, occurredAt: string) => ({
  sequence,
  position,
  occurredAt,
  name: `event@${position}`,
});
const mutation = (sequence: number, occurredAt: string) => ({
  sequence,
  position: null,
  occurredAt,
  name: `mutation@${occurredAt.slice(17, 23)}`,
});

describe('a trail', () => {
  it('tells events in log order, whatever order they were recorded in', () => {
    const trail = orderTrail([
      event(1, 7, '2026-11-25T10:00:00.300Z'),
      event(2, 5, '2026-11-25T10:00:00.100Z'),
      event(3, 6, '2026-11-25T10:00:00.200Z'),
    ]);
    expect(trail.map((record) => record.name)).toEqual(['event@5', 'event@6', 'event@7']);
  });

  it('places each mutation before the first event that happened after it was received', () => {
    const trail = orderTrail([
      event(1, 5, '2026-11-25T10:00:00.100Z'),
      mutation(2, '2026-11-25T10:00:00.050Z'),
      event(3, 6, '2026-11-25T10:00:00.200Z'),
      mutation(4, '2026-11-25T10:00:00.150Z'),
      mutation(5, '2026-11-25T10:00:00.900Z'),
    ]);
    expect(trail.map((record) => record.name)).toEqual([
      'mutation@00.050',
      'event@5',
      'mutation@00.150',
      'event@6',
      'mutation@00.900',
    ]);
  });

  it('keeps the log order of events even when their clocks disagree', () => {
    const trail = orderTrail([
      event(1, 9, '2026-11-25T10:00:00.100Z'),
      event(2, 8, '2026-11-25T10:00:00.200Z'),
    ]);
    expect(trail.map((record) => record.name)).toEqual(['event@8', 'event@9']);
  });
});

describe('a record shown to an auditor', () => {
  const key = `subject:${'b'.repeat(32)}`;
  const stored = { actor: key, data: { customerId: key, lines: [{ productId: 'p-1' }] } };

  it('names the person behind each pseudonym', () => {
    expect(reveal(stored, () => 'alice')).toEqual({
      actor: 'alice',
      actorErased: false,
      data: { customerId: 'alice', lines: [{ productId: 'p-1' }] },
    });
  });

  it('shows an erased person as erased', () => {
    expect(reveal(stored, () => undefined)).toEqual({
      actor: ERASED,
      actorErased: true,
      data: { customerId: ERASED, lines: [{ productId: 'p-1' }] },
    });
  });
});
