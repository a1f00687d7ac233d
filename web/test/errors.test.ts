import { describe, expect, it } from 'vitest';
import { describeError, GatewayError } from '../src/gateway/errors.ts';

const answer = (code: string, message: string) =>
  GatewayError.fromAnswer([{ message, extensions: { code } }]);

describe('error messages', () => {
  it('keep the first code of an answer and every message', () => {
    const error = GatewayError.fromAnswer([
      { message: 'first', extensions: { code: 'CONFLICT' } },
      { message: 'second', extensions: { code: 'NOT_FOUND' } },
    ]);
    expect(error.code).toBe('CONFLICT');
    expect(error.message).toBe('first; second');
  });

  it('say what to do when the gateway cannot be reached', () => {
    expect(describeError(new GatewayError('NETWORK', 'Failed to fetch'))).toMatch(
      /Cannot reach the Magasin gateway/,
    );
  });

  it("pass the store's own reason for business and input errors", () => {
    expect(describeError(answer('CONFLICT', 'sku KET-001 is taken'))).toBe('Sku KET-001 is taken');
    expect(describeError(answer('BAD_USER_INPUT', 'quantity must be positive'))).toBe(
      'Quantity must be positive',
    );
  });

  it('ask to sign in again for an invalid session and explain a refusal', () => {
    expect(describeError(answer('UNAUTHENTICATED', 'the token has expired'))).toMatch(/Sign in again/);
    expect(describeError(answer('FORBIDDEN', 'alice may not do this: it needs the admin role'))).toContain(
      'needs the admin role',
    );
  });

  it('hide the details of an internal error', () => {
    expect(describeError(answer('INTERNAL_SERVER_ERROR', 'Unexpected error.'))).toMatch(
      /Something went wrong/,
    );
  });
});
