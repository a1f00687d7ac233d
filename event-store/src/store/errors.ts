/** Failures of the event store, each with a code, an HTTP status and a message saying what to do. */

/** Codes of {@link EventStoreError}; the HTTP API answers `{ error: { code, message, ... } }`. */
export const EVENT_STORE_ERRORS = {
  /** The stream is not at the expected version: nothing was appended. 409. */
  WRONG_EXPECTED_VERSION: 409,
  /** An event or request does not match its contract. 400. */
  VALIDATION: 400,
  /** An event id already stored with a different payload (a retry must resend the same events). 409. */
  IDEMPOTENCY_CONFLICT: 409,
  /** No such stream or event. 404. */
  NOT_FOUND: 404,
  /** The caller's identity lacks a role the operation needs. 403. */
  FORBIDDEN: 403,
  /** The store is stopping (or stopped): retry on another replica. 503. */
  UNAVAILABLE: 503,
} as const;

/** One of {@link EVENT_STORE_ERRORS}. */
export type EventStoreErrorCode = keyof typeof EVENT_STORE_ERRORS;

/** Error raised by the event store and re-raised by its client with the same code. */
export class EventStoreError extends Error {
  override readonly name: string = 'EventStoreError';
  /** HTTP status the API answers with. */
  readonly status: number;
  constructor(
    readonly code: EventStoreErrorCode,
    message: string,
    /** Extra fields sent in the error body (e.g. `currentVersion`). */
    readonly details: Record<string, unknown> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = EVENT_STORE_ERRORS[code];
  }
}

/** The stream was not at the expected version; `currentVersion` says where it is (0: no stream). */
export class WrongExpectedVersionError extends EventStoreError {
  override readonly name = 'WrongExpectedVersionError';
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number | 'any' | 'no_stream',
    readonly currentVersion: number,
  ) {
    super(
      'WRONG_EXPECTED_VERSION',
      `stream ${streamId} is at version ${currentVersion}, expected ${expectedVersion}: reload the stream, decide again and retry`,
      { streamId, expectedVersion, currentVersion },
    );
  }
}
