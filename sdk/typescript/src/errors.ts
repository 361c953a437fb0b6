/**
 * Typed errors. The daemon answers a refusal with an HTTP status and `{"error": message}`; each status has
 * its class, so a caller can `catch (e) { if (e instanceof NotFound) ... }`.
 */

/** Anything the client could not do. `status` is the HTTP status, 0 when no answer came. */
export class BhattiError extends Error {
  readonly status: number;

  constructor(message: string, status = 0, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.status = status;
  }
}

/** The daemon could not be reached, or went away mid-answer (a stream cut before its exit event). */
export class ConnectionFailed extends BhattiError {}

/** The call's own deadline (`timeoutMs`) passed before the daemon finished answering. */
export class TimeoutError extends BhattiError {}

/** 400 (also 413, 422): the request was refused as malformed; the message says what to fix. */
export class InvalidRequest extends BhattiError {}

/** 401: no key, or a key the daemon does not know. */
export class AuthenticationError extends BhattiError {}

/** 403: the key is valid but may not do this. */
export class Forbidden extends BhattiError {}

/** 404: no such sandbox, snapshot, secret, file... */
export class NotFound extends BhattiError {}

/** 409: the thing exists already, or is in a state that forbids this. */
export class Conflict extends BhattiError {}

/** 429: over a rate limit or a quota. `retryAfter` is in seconds when the daemon said (rate limits do; quotas do not). */
export class RateLimited extends BhattiError {
  readonly retryAfter: number | undefined;

  constructor(message: string, status = 429, retryAfter?: number) {
    super(message, status);
    this.retryAfter = retryAfter;
  }
}

/** 5xx: the daemon failed (its log has the details). */
export class ServerError extends BhattiError {}

const BY_STATUS: Record<number, new (message: string, status: number) => BhattiError> = {
  400: InvalidRequest,
  401: AuthenticationError,
  403: Forbidden,
  404: NotFound,
  409: Conflict,
  413: InvalidRequest,
  422: InvalidRequest,
};

/** The error for an HTTP status the daemon answered with. */
export function errorForStatus(status: number, message: string, retryAfter?: number): BhattiError {
  if (status === 429) return new RateLimited(message, status, retryAfter);
  if (status >= 500) return new ServerError(message, status);
  const type = BY_STATUS[status] ?? BhattiError;
  return new type(message, status);
}
