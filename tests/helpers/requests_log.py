"""The requests an S3 client sends, recorded from its ``before-send`` event.

Every request the stores make passes that event, including the PUTs and GETs
that :class:`storage.s3_direct.DirectRequests` sends without the rest of
botocore's pipeline, so what is recorded here is what went on the wire.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass(frozen=True)
class Sent:
    """One request: the operation, the object key (path-style URLs), query and headers."""

    op: str
    key: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class RequestLog:
    """Every request ``client`` sends from now on, in order."""

    def __init__(self, client: Any) -> None:
        self.sent: list[Sent] = []
        client.meta.events.register("before-send.s3.*", self._record)

    def _record(self, request: Any, event_name: str, **_: Any) -> None:
        url = urlparse(request.url)
        # Path-style, as the tests' specs are: /<bucket>/<key>.
        key = unquote(url.path).lstrip("/").partition("/")[2]
        headers = {
            k.lower(): v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()
        }
        op = event_name.rsplit(".", 1)[-1]
        self.sent.append(Sent(op, key, parse_qs(url.query), headers))

    def ops(self) -> list[str]:
        return [s.op for s in self.sent]

    def keys(self, op: str) -> list[str]:
        """The keys of the ``op`` requests, in the order they were sent."""
        return [s.key for s in self.sent if s.op == op]

    def headers(self, op: str) -> list[dict[str, str]]:
        return [s.headers for s in self.sent if s.op == op]

    def parts_sent(self) -> list[int]:
        return [int(s.query["partNumber"][0]) for s in self.sent if s.op == "UploadPart"]

    def clear(self) -> None:
        self.sent.clear()
