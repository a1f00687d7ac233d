/** What the trail records of an event or a mutation: who, what, when, tags, card data masked. */
import { describe, expect, it } from 'vitest';
import { pseudonymise } from '../../src/domain/personal-data.ts';
import { draftOfEvent, draftOfMutation } from '../../src/domain/record.ts';
import { orderPlaced, paymentCaptured, placeOrderRecord, stockReserved } from './builders.ts';

describe('the record of an event', () => {
  it('keeps who, what, when and where in the log, and masks the card token', () => {
    const event = orderPlaced('o-1', 'alice', 'tok_visa');
    const draft = draftOfEvent(event);
    expect(draft).toMatchObject({
      sourceId: event.eventId,
      kind: 'EVENT',
      type: 'OrderPlaced',
      correlationId: 'o-1',
      actor: 'alice',
      streamId: 'order-o-1',
      streamVersion: 1,
      position: event.position,
      outcome: null,
      occurredAt: '2026-11-25T10:00:00.100Z',
    });
    expect(draft.data).toMatchObject({ orderId: 'o-1', customerId: 'alice', paymentToken: '[MASKED]' });
    expect(JSON.stringify(draft)).not.toContain('tok_visa');
  });

  it('tags a record that held card data PCI-DSS and one that names a person GDPR', () => {
    expect(draftOfEvent(orderPlaced('o-1', 'alice')).tags).toEqual(['PCI-DSS', 'GDPR']);
  });

  it('tags every payment event PCI-DSS, and a service acting alone nothing more', () => {
    expect(draftOfEvent(paymentCaptured('o-1')).tags).toEqual(['PCI-DSS']);
    expect(draftOfEvent(stockReserved('o-1')).tags).toEqual([]);
  });

  it('names the business ids of its data as subjects, never a person and never its correlation id', () => {
    expect(draftOfEvent(paymentCaptured('o-1')).subjectIds).toEqual(['pay-o-1']);
    expect(draftOfEvent(orderPlaced('o-2', 'alice')).subjectIds).toEqual([]);
  });

  it('masks a card number given as the payment token', () => {
    const event = orderPlaced('o-3', 'bob', '4111 1111 1111 1111');
    expect(draftOfEvent(event).data.paymentToken).toBe('[MASKED]');
  });
});

describe('the record of a mutation', () => {
  it('keeps who, what, when, the outcome and what it was about', () => {
    const command = placeOrderRecord('alice', { orderId: 'o-1' });
    expect(draftOfMutation(command)).toMatchObject({
      sourceId: command.commandId,
      kind: 'MUTATION',
      type: 'placeOrder',
      correlationId: command.correlationId,
      actor: 'alice',
      outcome: 'ACCEPTED',
      errorCodes: [],
      subjectIds: ['o-1'],
      position: null,
      occurredAt: '2026-11-25T10:00:00.050Z',
      tags: ['PCI-DSS', 'GDPR'],
      data: { operationName: 'PlaceOrder', roles: ['customer'], durationMs: 12 },
    });
  });

  it('keeps the error codes of a refused mutation', () => {
    expect(draftOfMutation(placeOrderRecord('alice', { outcome: 'REFUSED' }))).toMatchObject({
      outcome: 'REFUSED',
      errorCodes: ['BAD_USER_INPUT'],
    });
  });

  it('masks card data even when the gateway did not', () => {
    const command = placeOrderRecord('alice');
    const leaky = {
      ...command,
      payload: {
        ...command.payload,
        fields: [{ name: 'placeOrder', arguments: { input: { paymentToken: 'tok_declined' } } }],
      },
    };
    expect(JSON.stringify(draftOfMutation(leaky))).not.toContain('tok_declined');
  });
});

describe('a record made ready for the chain', () => {
  it('holds pseudonyms instead of the person, in the actor and in the data', () => {
    const draft = draftOfEvent(orderPlaced('o-1', 'alice'));
    const key = `subject:${'a'.repeat(32)}`;
    const stored = pseudonymise(draft, new Map([['alice', key]]));
    expect(stored.actor).toBe(key);
    expect(stored.data.customerId).toBe(key);
    expect(JSON.stringify(stored)).not.toContain('alice');
  });

  it('refuses to go without a pseudonym for a person it names', () => {
    expect(() => pseudonymise(draftOfEvent(orderPlaced('o-1', 'alice')), new Map())).toThrow(/no pseudonym/);
  });
});
