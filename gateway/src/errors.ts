/**
 * Errors clients see. Every refusal of the gateway is a GraphQL error with a code from
 * {@link GATEWAY_ERROR_CODES}; errors of the subgraphs keep their code when it is one a client
 * can act on; everything else is masked (no stack, no internal message, no service name) and
 * logged.
 */
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import type { Logger } from 'pino';

/** Codes of the refusals of the gateway itself. */
export const GATEWAY_ERROR_CODES = {
  /** Missing, malformed, forged or expired token. HTTP 401. */
  unauthenticated: 'UNAUTHENTICATED',
  /** Selections nested deeper than MAX_QUERY_DEPTH. */
  queryTooDeep: 'QUERY_TOO_DEEP',
  /** More aliases than MAX_ALIASES. */
  tooManyAliases: 'TOO_MANY_ALIASES',
  /** More lexical tokens than MAX_TOKENS (refused before parsing completes). */
  tooManyTokens: 'TOO_MANY_TOKENS',
  /** More directive applications than MAX_DIRECTIVES. */
  tooManyDirectives: 'TOO_MANY_DIRECTIVES',
  /** Request body larger than MAX_BODY_BYTES. HTTP 413. */
  payloadTooLarge: 'PAYLOAD_TOO_LARGE',
  /** The operation ran longer than OPERATION_TIMEOUT_MS. HTTP 504. */
  operationTimeout: 'OPERATION_TIMEOUT',
  /** `__schema` / `__type` while INTROSPECTION is off. */
  introspectionDisabled: 'INTROSPECTION_DISABLED',
  /** A subscription sent over HTTP, or an operation type the transport does not serve. */
  operationNotSupported: 'OPERATION_NOT_SUPPORTED',
  /** Too many operations at once on one WebSocket connection. */
  tooManySubscriptions: 'TOO_MANY_SUBSCRIPTIONS',
  /** A subgraph needed by the operation could not be reached. */
  subgraphUnavailable: 'SUBGRAPH_UNAVAILABLE',
  /** Anything unexpected: the details are in the gateway's log, never in the response. */
  internal: 'INTERNAL_SERVER_ERROR',
} as const;

/** One of {@link GATEWAY_ERROR_CODES}. */
export type GatewayErrorCode = (typeof GATEWAY_ERROR_CODES)[keyof typeof GATEWAY_ERROR_CODES];

/** A refusal of the gateway: a GraphQLError with its code and the HTTP status it implies. */
export const gatewayError = (code: GatewayErrorCode, message: string, httpStatus = 400): GraphQLError =>
  new GraphQLError(message, { extensions: { code, http: { status: httpStatus } } });

/** Codes that reach clients unchanged, whoever raised them. */
const PUBLIC_CODES = new Set<string>([
  ...Object.values(GATEWAY_ERROR_CODES).filter((code) => code !== 'INTERNAL_SERVER_ERROR'),
  // the subgraphs' domain errors (@magasin/subgraph-kit DomainError)
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'CONFLICT',
  // Apollo Server's refusals of malformed requests
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
]);

/** Codes of a subgraph's errors that reach clients (its domain errors); the rest is masked. */
const SUBGRAPH_PUBLIC_CODES = new Set([
  'BAD_USER_INPUT',
  'NOT_FOUND',
  'FORBIDDEN',
  'CONFLICT',
  'UNAUTHENTICATED',
]);

/** Extensions that never reach a client (internal topology, stacks, transport details). */
const PRIVATE_EXTENSIONS = new Set(['stacktrace', 'exception', 'serviceName', 'http', 'response']);

// graphql 16 says "more that", later versions "more than".
const TOKEN_LIMIT = /^Syntax Error: Document contains more tha[nt] (\d+) tokens\. Parsing aborted\.$/;

/** The message clients get instead of an unexpected error. */
export const MASKED_MESSAGE = 'internal error: the gateway could not complete this request (logged)';

/**
 * Formats one error for clients. Known codes pass with their message and public extensions;
 * the parser's token limit becomes TOO_MANY_TOKENS; anything else is logged with its original
 * error and answered as INTERNAL_SERVER_ERROR with {@link MASKED_MESSAGE}.
 */
export const maskError = (
  formatted: GraphQLFormattedError,
  error: unknown,
  logger: Logger,
): GraphQLFormattedError => {
  const tokens = TOKEN_LIMIT.exec(formatted.message);
  if (tokens) {
    return {
      message: `the document has more than ${tokens[1]} tokens (limit ${tokens[1]})`,
      extensions: { code: GATEWAY_ERROR_CODES.tooManyTokens },
    };
  }
  // A validation rule's error arrives wrapped by Apollo as GRAPHQL_VALIDATION_FAILED: our
  // limit rules carry their own code on the original error.
  const original = (error as { originalError?: unknown } | undefined)?.originalError;
  const originalCode =
    original instanceof GraphQLError && typeof original.extensions.code === 'string'
      ? original.extensions.code
      : undefined;
  const code = originalCode && PUBLIC_CODES.has(originalCode) ? originalCode : formatted.extensions?.code;
  // Errors relayed from a subgraph carry `serviceName`: only its domain errors are the client's business.
  const publicCodes = formatted.extensions?.serviceName === undefined ? PUBLIC_CODES : SUBGRAPH_PUBLIC_CODES;
  if (typeof code === 'string' && publicCodes.has(code)) {
    const extensions: Record<string, unknown> = { code };
    for (const [key, value] of Object.entries(formatted.extensions ?? {})) {
      if (key !== 'code' && !PRIVATE_EXTENSIONS.has(key)) extensions[key] = value;
    }
    return {
      message: formatted.message,
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions,
    };
  }
  logger.error(
    { err: original ?? error, message: formatted.message, code, path: formatted.path },
    'operation failed with an unexpected error (masked for the client)',
  );
  return {
    message: MASKED_MESSAGE,
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code: GATEWAY_ERROR_CODES.internal },
  };
};
