"""Small object PUTs and whole-object GETs without botocore's per-request pipeline.

For a small file, most of a transfer's CPU is botocore's pipeline around the
request: parameter validation and serialisation, endpoint resolution, some
twenty event handlers, and parsing the answer. Against a server that answers
at once, a 64 KiB ``put_object`` costs 1.2–1.5 ms of client CPU; signing the
same request with botocore's signer and sending it through the client's HTTP
session costs 0.8–1.0 ms. In a sync of 2,000 such files that is about a third
of the client's CPU, which on two cores shared with the service is taken from
the service.

So :class:`DirectRequests` sends those two requests with the parts botocore
would use: the same URL (learnt from a request of the same kind that botocore
sent and the service answered), the same credentials and signer (SigV4 with
the client's payload-signing setting), the same HTTP session (connection
pool, TLS, proxies, timeouts, and the translation of connection failures into
botocore's exceptions), the same ``before-send`` events, so anything watching
the client's requests sees these too, and botocore's own :class:`StreamingBody`
for a GET's bytes (it raises when fewer arrive than announced). An error answer
is parsed by botocore's parser into the same :class:`ClientError` botocore
would raise. What it does not do is left to botocore: until a first request
has shown where requests go, and again after the service answers with a
redirect or names another region (the call then returns None and the URL is
forgotten), the caller sends through the client.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.hooks import first_non_none_response
from botocore.parsers import create_parser
from botocore.response import StreamingBody

OPERATIONS = ("PutObject", "GetObject")
# Answers that mean the request went to the wrong place: botocore follows them.
_REDIRECTS = frozenset({301, 302, 307, 308})
_REGION_CODES = frozenset(
    {"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed"}
)


def _key_path(key: str) -> str:
    """A key as botocore puts it in a URL's path."""
    return quote(key, safe="/~")


class DirectRequests:
    """Object PUTs of in-memory bodies and whole-object GETs for one client,
    signed and sent as botocore would. Thread-safe.

    Until :meth:`learn` has seen a request botocore sent, or when the client
    lacks the parts needed (credentials, HTTP session), every request goes
    through botocore.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._events = client.meta.events
        self._config = client.meta.config
        # Private in botocore but stable for a decade; without them, botocore does it all.
        signer = getattr(client, "_request_signer", None)
        self._credentials: Any = getattr(signer, "_credentials", None)
        self._http: Any = getattr(getattr(client, "_endpoint", None), "http_session", None)
        model = client.meta.service_model
        self._outputs = {op: model.operation_model(op).output_shape for op in OPERATIONS}
        self._target: tuple[str, str] | None = None  # (URL up to the key, signing region)
        self._sent = threading.local()  # this thread's last object request
        for op in OPERATIONS:
            self._events.register(
                f"before-send.s3.{op}", self._remember, unique_id=f"mv-direct-{op}-{id(self)}"
            )

    def _remember(self, request: Any, **_: Any) -> None:
        self._sent.request = request

    def learn(self, key: str) -> None:
        """Take the URL and signing region from this thread's last PUT or GET.

        Call it once botocore's request for ``key`` has been answered: that
        request went where the service wanted it (botocore follows region
        redirects).
        """
        request = getattr(self._sent, "request", None)
        if self._target is not None or request is None:
            return
        if self._credentials is None or self._http is None:
            return
        url = str(request.url).split("?", 1)[0]
        path = _key_path(key)
        authorization = request.headers.get("Authorization", b"")
        if isinstance(authorization, bytes):
            authorization = authorization.decode("ascii", "replace")
        # "AWS4-HMAC-SHA256 Credential=AKID/20261122/eu-west-3/s3/aws4_request, ..."
        algorithm, _, rest = authorization.partition(" Credential=")
        scope = rest.split(",", 1)[0].split("/")
        if algorithm != "AWS4-HMAC-SHA256" or len(scope) != 5 or scope[3] != "s3":
            return  # another signature (SigV4a, or none): botocore's alone
        if "x-amz-s3session-token" in request.headers:
            return  # an S3 Express session: botocore's alone
        if not url.endswith("/" + path):
            return
        self._target = (url[: -len(path)], scope[2])

    def put(self, key: str, body: bytes, checksum: str) -> dict[str, Any] | None:
        """PUT ``body`` as ``key`` with its SHA-256 (base64) in ``x-amz-checksum-sha256``.

        Returns the answer's ``ETag`` and ``ChecksumSHA256`` (the service's echo,
        None without one), or None when the request is botocore's to send:
        nothing learnt yet, or the service redirected it. Raises what botocore's
        ``put_object`` would: :class:`ClientError` for an error answer, botocore's
        connection errors for the network's failures.
        """
        headers = {
            "Content-Length": str(len(body)),
            "x-amz-sdk-checksum-algorithm": "SHA256",
            "x-amz-checksum-sha256": checksum,
        }
        response = self._send("PutObject", "PUT", key, headers, body)
        if response is None:
            return None
        return {
            "ETag": response.headers.get("ETag"),
            "ChecksumSHA256": response.headers.get("x-amz-checksum-sha256"),
        }

    def get(self, key: str) -> dict[str, Any] | None:
        """GET the whole of ``key``: ``{"Body": StreamingBody, "ContentLength": n}``.

        ``n`` is None for an answer without a length (chunked), whose body is then
        read to its end unchecked, as botocore does. None when the request is
        botocore's to send (as for :meth:`put`); raises what botocore's
        ``get_object`` would. Close the body when done.
        """
        response = self._send("GetObject", "GET", key, {}, None)
        if response is None:
            return None
        announced = response.headers.get("Content-Length")
        length = None if announced is None else int(announced)
        return {"Body": StreamingBody(response.raw, length), "ContentLength": length}

    def _send(
        self, op: str, method: str, key: str, headers: dict[str, str], body: bytes | None
    ) -> Any:
        """The answer to a signed request, None if it is botocore's to send."""
        target = self._target
        if target is None:
            return None
        base, region = target
        request = AWSRequest(
            method=method,
            url=base + _key_path(key),
            data=body,
            headers={**headers, "User-Agent": self._config.user_agent},
            stream_output=method == "GET",
        )
        # The signer reads the payload-signing setting from the client's config.
        request.context["client_config"] = self._config
        S3SigV4Auth(self._credentials.get_frozen_credentials(), "s3", region).add_auth(request)
        prepared = request.prepare()
        events = self._events.emit(f"before-send.s3.{op}", request=prepared)
        response = first_non_none_response(events)
        if response is None:
            response = self._http.send(prepared)
        status = int(response.status_code)
        if 200 <= status < 300:
            return response
        parsed = create_parser("rest-xml").parse(
            {"status_code": status, "headers": response.headers, "body": response.content},
            self._outputs[op],
        )
        code = str(parsed.get("Error", {}).get("Code", ""))
        if status in _REDIRECTS or code in _REGION_CODES:
            self._target = None
            return None
        raise self._client.exceptions.from_code(code)(parsed, op)
