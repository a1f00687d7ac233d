/** Failure codes of @magasin/messaging, each with a message saying what to do. */
export const MESSAGING_ERRORS = {
  /** The broker could not be reached at start-up within connectTimeoutMs. */
  CONNECT_FAILED: 'CONNECT_FAILED',
  /** No connection came back within publishTimeoutMs: the messages were not (all) confirmed. */
  PUBLISH_TIMEOUT: 'PUBLISH_TIMEOUT',
  /** The broker refused a message (basic.nack): it was not stored. */
  PUBLISH_NACKED: 'PUBLISH_NACKED',
  /** A mandatory message (a command) matched no queue: nobody would have received it. */
  PUBLISH_UNROUTABLE: 'PUBLISH_UNROUTABLE',
  /** The Messaging instance is closed (or closing). */
  CLOSED: 'CLOSED',
  /** Invalid use of the API (a queue consumed twice, an unknown command, ...). */
  INVALID_USAGE: 'INVALID_USAGE',
} as const;

/** A code of MESSAGING_ERRORS. */
export type MessagingErrorCode = keyof typeof MESSAGING_ERRORS;

/** Error raised by @magasin/messaging; `code` says which failure, `message` what to do about it. */
export class MessagingError extends Error {
  override readonly name = 'MessagingError';
  constructor(
    readonly code: MessagingErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
