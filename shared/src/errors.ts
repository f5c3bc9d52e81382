/**
 * The one registry of Vigil error codes (as Fastify keeps FST_ERR_* in lib/errors.js).
 * Agent and collector share it so both sides agree on the codes sent over the wire.
 */

interface ErrorSpec {
  readonly message: string;
  /** HTTP status for REST answers; wire-only errors use 400. */
  readonly status: number;
}

export const ERRORS = {
  // --- requests and bodies
  VIGIL_ERR_VALIDATION: { message: 'The request failed validation', status: 400 },
  VIGIL_ERR_BODY_NOT_JSON: { message: 'The request body is not valid JSON', status: 400 },
  VIGIL_ERR_BODY_TOO_LARGE: { message: 'The request body is too large', status: 413 },
  VIGIL_ERR_UNSUPPORTED_MEDIA_TYPE: { message: 'The request body must be application/json', status: 415 },
  VIGIL_ERR_ROUTE_NOT_FOUND: { message: 'No such route', status: 404 },
  VIGIL_ERR_NOT_FOUND: { message: 'No such resource', status: 404 },
  VIGIL_ERR_RATE_LIMITED: { message: 'Too many requests', status: 429 },
  VIGIL_ERR_INTERNAL: { message: 'Internal error', status: 500 },
  VIGIL_ERR_NOT_READY: { message: 'The collector is not ready', status: 503 },
  VIGIL_ERR_STORAGE_UNAVAILABLE: { message: 'The collector cannot write to its database (disk full, read-only or failing); nothing was stored: retry later', status: 503 },
  VIGIL_ERR_SHUTTING_DOWN: { message: 'The collector is shutting down', status: 503 },
  VIGIL_ERR_AT_CAPACITY: { message: 'The collector holds as many agent connections as it can; retry later', status: 503 },
  // --- authentication and authorisation
  VIGIL_ERR_UNAUTHENTICATED: { message: 'Credentials are missing', status: 401 },
  VIGIL_ERR_TOKEN_INVALID: { message: 'The token is not valid', status: 401 },
  VIGIL_ERR_TOKEN_REVOKED: { message: 'The token has been revoked', status: 401 },
  VIGIL_ERR_FORBIDDEN: { message: 'Your role does not allow this', status: 403 },
  VIGIL_ERR_LOGIN_FAILED: { message: 'The user name or password is wrong', status: 401 },
  VIGIL_ERR_SESSION_EXPIRED: { message: 'The session has ended; log in again', status: 401 },
  VIGIL_ERR_CSRF: { message: 'A state-changing request with a session cookie needs its x-vigil-csrf header', status: 403 },
  VIGIL_ERR_ENROL_SECRET_INVALID: { message: 'The enrolment secret is not valid', status: 401 },
  VIGIL_ERR_HOST_RETIRED: { message: 'The host has been retired', status: 409 },
  // --- agent wire protocol
  VIGIL_ERR_FRAME_NOT_JSON: { message: 'The frame is not valid JSON', status: 400 },
  VIGIL_ERR_FRAME_BINARY: { message: 'Binary frames are not accepted', status: 400 },
  VIGIL_ERR_FRAME_INVALID: { message: 'The frame is not a valid envelope', status: 400 },
  VIGIL_ERR_FRAME_TOO_LARGE: { message: 'The frame is over the size cap', status: 400 },
  VIGIL_ERR_MESSAGE_INVALID: { message: 'The message body failed its schema', status: 400 },
  VIGIL_ERR_MESSAGE_TYPE_UNKNOWN: { message: 'Unknown message type', status: 400 },
  VIGIL_ERR_PROTOCOL_VERSION: { message: 'Incompatible protocol version', status: 400 },
  VIGIL_ERR_HELLO_REQUIRED: { message: 'The first frame must be hello', status: 400 },
  VIGIL_ERR_HOST_MISMATCH: { message: 'The message speaks for another host or agent', status: 400 },
  VIGIL_ERR_TOO_MANY_BAD_FRAMES: { message: 'Too many invalid frames', status: 400 },
  VIGIL_ERR_SUPERSEDED: { message: 'A newer connection for this agent replaced this one', status: 409 },
  VIGIL_ERR_FRAME_RATE_LIMITED: { message: 'Frames are arriving faster than an agent may send them; reading is slowed', status: 429 },
  VIGIL_ERR_CONNECT_RATE_LIMITED: { message: 'Too many connection attempts; retry later', status: 429 },
  // --- policy and alerts
  VIGIL_ERR_POLICY_INVALID: { message: 'The policy document is not valid; the current policy stays in force', status: 422 },
  VIGIL_ERR_ALERT_STATE: { message: 'The alert is not in a state that allows this', status: 409 },
  VIGIL_ERR_CONFLICT: { message: 'The request conflicts with the current state', status: 409 },
  // --- audits
  VIGIL_ERR_SAMPLE_SIZE: { message: 'The sample size must be at least 1 and at most the population', status: 422 },
  VIGIL_ERR_AUDIT_CLOSED: { message: 'The audit is closed and read-only', status: 409 },
  // --- configuration and command line
  VIGIL_ERR_CONFIG: { message: 'Invalid configuration', status: 400 },
  VIGIL_ERR_COLLECTOR_UNREACHABLE: { message: 'The collector could not be reached', status: 503 },
} as const satisfies Record<`VIGIL_ERR_${string}`, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export const ERROR_CODES = Object.keys(ERRORS) as ErrorCode[];

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERRORS, value);
}

/** An error that carries a stable code; its message is safe to show a client. */
export class VigilError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown }) {
    super(message ?? ERRORS[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VigilError';
    this.code = code;
    this.statusCode = ERRORS[code].status;
    this.details = options?.details;
  }
}

export function vigilError(code: ErrorCode, message?: string, options?: { cause?: unknown; details?: unknown }): VigilError {
  return new VigilError(code, message, options);
}
