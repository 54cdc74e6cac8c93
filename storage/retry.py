"""Which remote errors are worth retrying, and retrying them with backoff.

Errors are either *retryable* (the service or the network hiccuped: 5xx,
throttling, timeouts, dropped connections) or *permanent* (asking again gives
the same answer: 4xx such as 403, 404, a bad checksum, a skewed clock). Only
retryable errors are retried; everything else, including errors that are not
from botocore at all, is raised at once. Anchors: restic ``IsPermanentError``,
rclone ``fs/fserrors``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Literal, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from urllib3.exceptions import ProtocolError

T = TypeVar("T")
Kind = Literal["retryable", "permanent"]

RETRYABLE_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "RequestLimitExceeded",
        "TooManyRequests",
    }
)

_RETRYABLE_TYPES: tuple[type[BaseException], ...] = (
    # EndpointConnectionError, ConnectTimeoutError and ReadTimeoutError all derive
    # from botocore's connection errors; they are listed for the reader.
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
    IncompleteReadError,
    ResponseStreamingError,
    ProtocolError,
    ConnectionResetError,
)


def classify(exc: BaseException) -> Kind:
    """``"retryable"`` if trying again may succeed, else ``"permanent"``.

    Retryable: a :class:`ClientError` with HTTP status 5xx or 429, or with one of
    :data:`RETRYABLE_CODES`; connection failures, timeouts and truncated
    responses. Everything else is permanent: 4xx answers (403, 404, NoSuchBucket,
    InvalidAccessKeyId, SignatureDoesNotMatch, BadDigest, RequestTimeTooSkewed…),
    and any exception this module does not recognise.
    """
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        if code in RETRYABLE_CODES or status >= 500 or status == 429:
            return "retryable"
        return "permanent"
    if isinstance(exc, _RETRYABLE_TYPES):
        return "retryable"
    return "permanent"


def backoff(attempt: int, base: float, cap: float) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based): full jitter.

    A uniform draw from ``[0, min(cap, base * 2 ** (attempt - 1))]``, so that many
    clients failing together do not retry in lock-step (the AWS architecture
    blog's "full jitter").
    """
    return random.uniform(0.0, min(cap, base * 2 ** (attempt - 1)))


def with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 5,
    base: float = 0.2,
    cap: float = 10.0,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """``fn()``, called again after retryable errors, at most ``attempts`` times in all.

    Between attempts it sleeps :func:`backoff` seconds (``sleep`` is injectable
    for tests). ``on_retry(attempt, exc, delay)`` is called before each sleep,
    with the 1-based number of the attempt that failed. A permanent error is
    raised at once; when the budget is spent, the last retryable error is raised.
    ``fn`` must be safe to repeat (every S3 request the stores make is).
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 1
    while True:
        try:
            return fn()
        except Exception as exc:
            if attempt >= attempts or classify(exc) != "retryable":
                raise
            delay = backoff(attempt, base, cap)
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)
            attempt += 1
