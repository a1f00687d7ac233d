/**
 * What went wrong talking to the gateway, as a value with a code, and the sentence a shopper or
 * an admin reads for it.
 */

/** Codes the client itself raises, beside the gateway's (`extensions.code`). */
export const CLIENT_ERROR_CODES = {
  /** The gateway could not be reached (network down, gateway stopped). */
  network: 'NETWORK',
  /** The gateway answered something that is not a GraphQL answer. */
  badResponse: 'BAD_RESPONSE',
} as const;

/** One error of a GraphQL answer. */
export interface AnswerError {
  message: string;
  path?: readonly (string | number)[];
  extensions?: Record<string, unknown>;
}

/** A failed operation: the gateway's first error code (or a client code) and every error. */
export class GatewayError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly errors: readonly AnswerError[] = [],
  ) {
    super(message);
    this.name = 'GatewayError';
  }

  /** The error of an answer's `errors`. */
  static fromAnswer(errors: readonly AnswerError[]): GatewayError {
    const first = errors[0];
    const code =
      typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
    return new GatewayError(
      code,
      errors.map((error) => error.message).join('; ') || 'the request failed',
      errors,
    );
  }
}

/** The gateway's own message (its first error's). */
const serverMessage = (error: GatewayError): string => error.errors[0]?.message ?? error.message;

/** The sentence to show for `error` (any thrown value). */
export const describeError = (error: unknown): string => {
  if (!(error instanceof GatewayError)) {
    return error instanceof Error ? error.message : String(error);
  }
  switch (error.code) {
    case CLIENT_ERROR_CODES.network:
      return 'Cannot reach the Magasin gateway. Check your connection (or that `npm start` is running) and try again.';
    case CLIENT_ERROR_CODES.badResponse:
      return `The gateway answered something unexpected: ${error.message}`;
    case 'UNAUTHENTICATED':
      return `Your session is no longer valid (${serverMessage(error)}). Sign in again.`;
    case 'FORBIDDEN':
      return `You are not allowed to do this: ${serverMessage(error)}.`;
    case 'NOT_FOUND':
    case 'CONFLICT':
    case 'BAD_USER_INPUT':
      return capitalize(serverMessage(error));
    case 'OPERATION_TIMEOUT':
      return 'The gateway took too long to answer. Try again in a moment.';
    case 'SUBGRAPH_UNAVAILABLE':
      return 'Part of the store is unavailable right now (a service is down or restarting). Try again in a moment.';
    case 'GRAPHQL_VALIDATION_FAILED':
      return `This app and the gateway disagree on the schema (${serverMessage(error)}): reload the page.`;
    default:
      return 'Something went wrong on the server. Try again; if it keeps failing, the operators have the details in the logs.';
  }
};

const capitalize = (text: string): string => (text ? text[0]?.toUpperCase() + text.slice(1) : text);
