/**
 * Signing and verification of internal requests between Magasin services.
 *
 * The caller signs with the shared `INTERNAL_SECRET`:
 *   `x-magasin-signature: t=<unix ms>,v1=<hex HMAC-SHA256>`
 * over `v1`, the method, the path with its query, the timestamp, sha256 of the body, the raw
 * `x-magasin-identity` header (base64url JSON of the end user, or empty) and the caller name,
 * one per line. Changing any of them, or replaying the request outside the timestamp window,
 * makes verification fail.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { currentTraceparent } from '@magasin/telemetry';
import { z } from 'zod';
import { currentCorrelationId } from './logger.ts';

/** The end user a request acts for, as the gateway verified it. */
export interface Identity {
  sub: string;
  roles: ReadonlyArray<'customer' | 'admin' | 'auditor'>;
}

/** Headers of a signed internal request. */
export const INTERNAL_HEADERS = {
  signature: 'x-magasin-signature',
  identity: 'x-magasin-identity',
  caller: 'x-magasin-caller',
} as const satisfies { signature: string; identity: string; caller: string };

/** Header carrying the correlation id between services (set by `signedFetch`, read by the server). */
export const CORRELATION_HEADER = 'x-correlation-id';

/** Default accepted clock difference between signer and verifier. */
export const DEFAULT_MAX_SKEW_MS = 60_000;

/** Why a request failed verification; each one is a distinct, tested case. */
export const VERIFICATION_FAILURES = {
  missingSignature: 'missing_signature',
  malformedSignature: 'malformed_signature',
  missingCaller: 'missing_caller',
  staleTimestamp: 'stale_timestamp',
  badSignature: 'bad_signature',
  invalidIdentity: 'invalid_identity',
} as const;
export type VerificationFailure = (typeof VERIFICATION_FAILURES)[keyof typeof VERIFICATION_FAILURES];

/** Outcome of `verifyInternalRequest`; on failure `reason` says what was wrong, for logs and the 401 body. */
export type Verification =
  | { ok: true; caller: string; identity: Identity | undefined }
  | { ok: false; reason: string; code: VerificationFailure };

const identitySchema = z.object({
  sub: z.string().min(1),
  roles: z.array(z.enum(['customer', 'admin', 'auditor'])),
});

const bodyDigest = (body: string | Uint8Array | undefined): string =>
  createHash('sha256')
    .update(body ?? '')
    .digest('hex');

const mac = (secret: string, parts: string[]): Buffer =>
  createHmac('sha256', secret)
    .update(['v1', ...parts].join('\n'))
    .digest();

const encodeIdentity = (identity: Identity): string =>
  Buffer.from(JSON.stringify({ sub: identity.sub, roles: identity.roles })).toString('base64url');

/**
 * Headers that sign a request: `x-magasin-signature`, `x-magasin-caller` and, when `identity`
 * is given, `x-magasin-identity`. `path` is the path with its query string as sent;
 * `now` (default `Date.now()`) is the timestamp signed.
 */
export function signInternalRequest(input: {
  secret: string;
  caller: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
  identity?: Identity;
  now?: number;
}): Record<string, string> {
  const timestamp = String(Math.trunc(input.now ?? Date.now()));
  const identity = input.identity ? encodeIdentity(input.identity) : '';
  const signature = mac(input.secret, [
    input.method.toUpperCase(),
    input.path,
    timestamp,
    bodyDigest(input.body),
    identity,
    input.caller,
  ]).toString('hex');
  return {
    [INTERNAL_HEADERS.signature]: `t=${timestamp},v1=${signature}`,
    [INTERNAL_HEADERS.caller]: input.caller,
    ...(identity ? { [INTERNAL_HEADERS.identity]: identity } : {}),
  };
}

const header = (headers: Record<string, string | string[] | undefined>, name: string): string | undefined => {
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value[0] : value;
  }
  return undefined;
};

const failure = (code: VerificationFailure, reason: string): Verification => ({ ok: false, code, reason });

/**
 * Verifies a signed request: signature present and well formed, timestamp within `maxSkewMs`
 * (default 60 000) of `now`, HMAC equal (timing-safe) over the method, path, body, identity
 * header and caller, identity well formed. Never throws: failures come back with a reason.
 */
export function verifyInternalRequest(input: {
  secret: string;
  method: string;
  path: string;
  body?: string | Uint8Array;
  headers: Record<string, string | string[] | undefined>;
  now?: number;
  maxSkewMs?: number;
}): Verification {
  const signatureHeader = header(input.headers, INTERNAL_HEADERS.signature);
  if (!signatureHeader) return failure('missing_signature', `missing ${INTERNAL_HEADERS.signature} header`);
  const match = /^t=(\d{1,16}),v1=([0-9a-f]{64})$/.exec(signatureHeader.trim());
  if (!match?.[1] || !match[2]) {
    return failure(
      'malformed_signature',
      `${INTERNAL_HEADERS.signature} must be t=<unix ms>,v1=<64 hex digits>`,
    );
  }
  const caller = header(input.headers, INTERNAL_HEADERS.caller);
  if (!caller) return failure('missing_caller', `missing ${INTERNAL_HEADERS.caller} header`);

  const timestamp = match[1];
  const skew = Math.abs((input.now ?? Date.now()) - Number(timestamp));
  const maxSkewMs = input.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  if (skew > maxSkewMs) {
    return failure(
      'stale_timestamp',
      `signature timestamp is ${skew} ms away from now (limit ${maxSkewMs} ms)`,
    );
  }

  const identityHeader = header(input.headers, INTERNAL_HEADERS.identity) ?? '';
  const expected = mac(input.secret, [
    input.method.toUpperCase(),
    input.path,
    timestamp,
    bodyDigest(input.body),
    identityHeader,
    caller,
  ]);
  if (!timingSafeEqual(expected, Buffer.from(match[2], 'hex'))) {
    return failure('bad_signature', 'signature does not match the request');
  }

  if (!identityHeader) return { ok: true, caller, identity: undefined };
  try {
    const identity = identitySchema.parse(
      JSON.parse(Buffer.from(identityHeader, 'base64url').toString('utf8')),
    );
    return { ok: true, caller, identity };
  } catch (error) {
    return failure(
      'invalid_identity',
      `${INTERNAL_HEADERS.identity} is not a valid identity: ${String(error)}`,
    );
  }
}

const signableBody = (body: RequestInit['body']): string | Uint8Array | undefined => {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError('signedFetch signs string or byte bodies only (serialize JSON with JSON.stringify)');
};

/** Who signs internal requests: the calling service, acting for an end user when given. */
export interface InternalSigner {
  secret: string;
  caller: string;
  identity?: Identity;
}

/**
 * The headers of an internal request from `signer` (signature, caller, identity), with the
 * current correlation id and trace context (`x-correlation-id`, `traceparent`): what
 * `signedFetch` adds, for clients that send requests some other way (an undici pool).
 */
export const internalRequestHeaders = (
  signer: InternalSigner,
  request: { method: string; path: string; body?: string | Uint8Array },
): Record<string, string> => {
  const headers: Record<string, string> = {};
  const correlationId = currentCorrelationId();
  if (correlationId) headers[CORRELATION_HEADER] = correlationId;
  const traceparent = currentTraceparent();
  if (traceparent) headers.traceparent = traceparent;
  return {
    ...headers,
    ...signInternalRequest({
      secret: signer.secret,
      caller: signer.caller,
      method: request.method,
      path: request.path,
      ...(request.body === undefined ? {} : { body: request.body }),
      ...(signer.identity ? { identity: signer.identity } : {}),
    }),
  };
};

/**
 * A `fetch` that signs every request as `caller`, acting for `identity` when given. A string
 * body without a content type is sent as `application/json`. The current correlation id and
 * trace context travel along (`x-correlation-id`, `traceparent`). Throws `TypeError` for
 * bodies it cannot sign (streams, FormData).
 */
export function signedFetch(
  options: InternalSigner,
): (url: string | URL, init?: RequestInit) => Promise<Response> {
  return (url, init = {}) => {
    const target = new URL(url);
    const body = signableBody(init.body);
    const headers = new Headers(init.headers);
    if (typeof body === 'string' && !headers.has('content-type'))
      headers.set('content-type', 'application/json');
    const signed = internalRequestHeaders(options, {
      method: init.method ?? 'GET',
      path: `${target.pathname}${target.search}`,
      ...(body === undefined ? {} : { body }),
    });
    for (const [name, value] of Object.entries(signed)) {
      // A correlation id or trace context the caller set stays; the signature is always ours.
      if ((name === CORRELATION_HEADER || name === 'traceparent') && headers.has(name)) continue;
      headers.set(name, value);
    }
    return fetch(target, { ...init, headers });
  };
}
