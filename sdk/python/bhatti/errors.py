"""Typed errors: the daemon answers {"error": message} with an HTTP status; each status has its class."""

from __future__ import annotations


class BhattiError(Exception):
    """Anything the client could not do. ``status`` is the HTTP status (0 when no answer came)."""

    def __init__(self, message: str, status: int = 0):
        super().__init__(message)
        self.message = message
        self.status = status


class ConnectionFailed(BhattiError):
    """The daemon could not be reached, or went away mid-answer."""


class InvalidRequest(BhattiError):
    """400: the request was refused as malformed (the message says what to fix)."""


class AuthenticationError(BhattiError):
    """401: no key, or a key the daemon does not know."""


class PermissionDenied(BhattiError):
    """403: the key is valid but may not do this."""


class NotFound(BhattiError):
    """404: no such sandbox, snapshot, file..."""


class Conflict(BhattiError):
    """409: the thing exists already, or is in a state that forbids this."""


class RateLimited(BhattiError):
    """429: over a rate limit or quota. ``retry_after`` is in seconds when the daemon said."""

    def __init__(self, message: str, status: int = 429, retry_after: float | None = None):
        super().__init__(message, status)
        self.retry_after = retry_after


class ServerError(BhattiError):
    """5xx: the daemon failed (its log has the request id)."""


_BY_STATUS = {400: InvalidRequest, 401: AuthenticationError, 403: PermissionDenied, 404: NotFound,
              409: Conflict, 413: InvalidRequest, 422: InvalidRequest}


def for_status(status: int, message: str, retry_after: float | None = None) -> BhattiError:
    if status == 429:
        return RateLimited(message, status, retry_after)
    if status >= 500:
        return ServerError(message, status)
    return _BY_STATUS.get(status, BhattiError)(message, status)
