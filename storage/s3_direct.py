"""Small single PUTs without botocore's per-request pipeline.

For a small file, most of an upload's CPU is botocore's pipeline around the
PUT: parameter validation and serialisation, endpoint resolution, some twenty
event handlers, and parsing the answer. Against a server that answers at
once, a 64 KiB ``put_object`` costs 1.2–1.5 ms of client CPU; signing the same
request with botocore's signer and sending it through the client's HTTP
session costs 0.8–1.0 ms. In a sync of 2,000 such files that is about a third
of the client's CPU, which on two cores shared with the service is taken
from the service.

So a :class:`DirectPut` sends a small in-memory body with the same parts
botocore would use: the same URL (learnt from a ``PutObject`` botocore sent
and the service accepted), the same credentials and signer (SigV4 with the
client's payload-signing setting), the same HTTP session (connection pool,
TLS, proxies, timeouts, and the translation of connection failures into
botocore's exceptions), and the same ``before-send`` event, so anything
watching the client's requests sees these too. An error answer is parsed by
botocore's parser into the same :class:`ClientError` botocore would raise.
What it does not do is left to botocore: until a first PUT has shown where
requests go, and again after the service answers with a redirect or names
another region (:meth:`DirectPut.put` then returns None and forgets the
URL), the caller sends through ``client.put_object``.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.hooks import first_non_none_response
from botocore.parsers import create_parser

EVENT = "before-send.s3.PutObject"
# Answers that mean the request went to the wrong place: botocore follows them.
_REDIRECTS = frozenset({301, 302, 307, 308})
_REGION_CODES = frozenset(
    {"PermanentRedirect", "TemporaryRedirect", "AuthorizationHeaderMalformed"}
)


def _key_path(key: str) -> str:
    """A key as botocore puts it in a URL's path."""
    return quote(key, safe="/~")


class DirectPut:
    """Single PUTs of in-memory bodies for one client, signed and sent as botocore would.

    Thread-safe. ``ready`` is False until :meth:`learn` has seen a PUT botocore
    sent, or when the client lacks the parts needed (credentials, HTTP session):
    then every PUT goes through botocore.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._events = client.meta.events
        self._config = client.meta.config
        # Private in botocore but stable for a decade; without them, botocore does it all.
        signer = getattr(client, "_request_signer", None)
        self._credentials: Any = getattr(signer, "_credentials", None)
        self._http: Any = getattr(getattr(client, "_endpoint", None), "http_session", None)
        self._output = client.meta.service_model.operation_model("PutObject").output_shape
        self._target: tuple[str, str] | None = None  # (URL up to the key, signing region)
        self._sent = threading.local()  # this thread's last PutObject request
        self._events.register(EVENT, self._remember, unique_id=f"mv-direct-put-{id(self)}")

    @property
    def ready(self) -> bool:
        return self._target is not None

    def _remember(self, request: Any, **_: Any) -> None:
        self._sent.request = request

    def learn(self, key: str) -> None:
        """Take the URL and signing region from this thread's last ``PutObject``.

        Call it once botocore's PUT of ``key`` has succeeded: that request went
        where the service wanted it (botocore follows region redirects).
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
        None without one), or None when the request is botocore's to send: not
        :attr:`ready`, or the service redirected it. Raises what botocore's
        ``put_object`` would: :class:`ClientError` for an error answer, botocore's
        connection errors for the network's failures.
        """
        target = self._target
        if target is None:
            return None
        base, region = target
        url = base + _key_path(key)
        request = AWSRequest(
            method="PUT",
            url=url,
            data=body,
            headers={
                "Content-Length": str(len(body)),
                "x-amz-sdk-checksum-algorithm": "SHA256",
                "x-amz-checksum-sha256": checksum,
                "User-Agent": self._config.user_agent,
            },
        )
        # The signer reads the payload-signing setting from the client's config.
        request.context["client_config"] = self._config
        S3SigV4Auth(self._credentials.get_frozen_credentials(), "s3", region).add_auth(request)
        prepared = request.prepare()
        response = first_non_none_response(self._events.emit(EVENT, request=prepared))
        if response is None:
            response = self._http.send(prepared)
        status = int(response.status_code)
        if 200 <= status < 300:
            return {
                "ETag": response.headers.get("ETag"),
                "ChecksumSHA256": response.headers.get("x-amz-checksum-sha256"),
            }
        parsed = create_parser("rest-xml").parse(
            {"status_code": status, "headers": response.headers, "body": response.content},
            self._output,
        )
        code = str(parsed.get("Error", {}).get("Code", ""))
        if status in _REDIRECTS or code in _REGION_CODES:
            self._target = None
            return None
        raise self._client.exceptions.from_code(code)(parsed, "PutObject")
