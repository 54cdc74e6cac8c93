"""The vault's remote: settings, keys in the keyring, the connection check and the CLI.

Runs against a real S3 endpoint (moto's server, started once for the module; see
``tests/s3server.py``). moto's server accepts any access keys, so wrong keys cannot be
produced there: the credentials case is covered by :func:`app.remote.classify` with the
error codes AWS, MinIO and R2 send (InvalidAccessKeyId, SignatureDoesNotMatch).
No test touches the real OS keyring: an in-memory backend is installed for each one.
"""

from __future__ import annotations

import json
import logging
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.errors
import pytest
from botocore.exceptions import ClientError

from app import credentials, remote
from app.cli import SECRET_ENV
from app.errors import StorageError, VaultError
from app.logs import log_file
from app.paths import vault_paths
from app.remote import (
    CheckResult,
    InvalidRemote,
    RemoteConfig,
    check_remote,
    classify,
    load_remote,
    remote_config,
    remove_remote,
    save_remote,
)
from storage.s3_client import Credentials, RemoteSpec, make_client
from tests.conftest import MemoryKeyring
from tests.helpers.cli import Runner
from tests.s3server import S3Endpoint, free_port

pytestmark = pytest.mark.usefixtures("memory_keyring")


@pytest.fixture(autouse=True)
def aws_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, s3: S3Endpoint) -> dict[str, str]:
    """An AWS chain that sees only the test endpoint's keys, never the developer's files."""
    env = {
        "AWS_ACCESS_KEY_ID": s3.access_key,
        "AWS_SECRET_ACCESS_KEY": s3.secret_key,
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", SECRET_ENV):
        monkeypatch.delenv(name, raising=False)
    return env


def _raw_client(s3: S3Endpoint) -> Any:
    spec = RemoteSpec("unused", endpoint_url=s3.url, region=s3.region, addressing_style="path")
    return make_client(spec, Credentials(s3.access_key, s3.secret_key))


@pytest.fixture
def bucket(s3: S3Endpoint) -> str:
    """A new, empty bucket on the endpoint."""
    name = "mv-test-" + secrets.token_hex(6)
    _raw_client(s3).create_bucket(Bucket=name)
    return name


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "v"


@pytest.fixture
def run(home: Path, capsys: pytest.CaptureFixture[str]) -> Runner:
    return Runner(home, capsys)


def _set_args(s3: S3Endpoint, bucket: str, *extra: str) -> list[str]:
    return [
        "remote",
        "set",
        "--bucket",
        bucket,
        "--endpoint",
        s3.url,
        "--region",
        s3.region,
        "--addressing",
        "path",
        *extra,
    ]


# -- settings --------------------------------------------------------------------------


def test_remote_help_has_examples(run: Runner) -> None:
    for args in (["remote"], ["remote", "set"], ["remote", "test"]):
        run(*args, "--help")
        assert run.code == 0
        assert "examples:" in run.out
        assert "mediavault remote" in run.out


def test_set_show_unset_round_trip(run: Runner, home: Path, s3: S3Endpoint) -> None:
    assert run.json("remote", "show") == {"remote": None}
    run(*_set_args(s3, "photos-bucket", "--prefix", "/media//vault/"))
    assert run.code == 0, run.err
    assert "photos-bucket" in run.out

    saved = json.loads((vault_paths(home).config / "remote.json").read_text())
    assert saved == {
        "bucket": "photos-bucket",
        "endpoint_url": s3.url,
        "region": s3.region,
        "prefix": "media/vault",
        "addressing_style": "path",
        "verify_tls": True,
        "ca_bundle": "",
        "profile": "",
        "credentials": "chain",
    }
    shown = run.json("remote", "show")
    assert shown["remote"] == saved
    assert "AWS credential chain" in shown["keys_from"]
    run("remote", "show")
    assert "Bucket" in run.out and "media/vault" in run.out

    assert run.json("remote", "unset") == {"removed": True, "keys_forgotten": False}
    assert not (vault_paths(home).config / "remote.json").exists()
    assert run.json("remote", "show") == {"remote": None}
    run("remote", "unset")
    assert run.code == 0 and "No remote" in run.out


def test_save_is_atomic_and_loads_back(tmp_path: Path) -> None:
    paths = vault_paths(tmp_path / "v")
    config = remote_config("abc", endpoint_url="https://s3.example.com/", prefix="a/b")
    save_remote(paths, config)
    save_remote(paths, config)
    assert [p.name for p in paths.config.iterdir()] == ["remote.json"]
    assert load_remote(paths) == config
    assert config.spec.endpoint_url == "https://s3.example.com"
    assert remove_remote(paths) is True
    assert load_remote(paths) is None
    assert remove_remote(paths) is False


def test_damaged_file_is_a_known_error(tmp_path: Path) -> None:
    paths = vault_paths(tmp_path / "v")
    paths.config.mkdir(parents=True)
    (paths.config / "remote.json").write_text("{not json")
    with pytest.raises(StorageError, match="remote set"):
        load_remote(paths)
    (paths.config / "remote.json").write_text('{"bucket": "ok-bucket", "verify_tls": 1, "x": 2}')
    assert load_remote(paths) == RemoteConfig(RemoteSpec("ok-bucket", verify_tls=True))
    (paths.config / "remote.json").write_text('{"bucket": "Bad_Bucket"}')
    with pytest.raises(InvalidRemote, match="lowercase"):
        load_remote(paths)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bucket": "ab"}, "3 to 63 characters"),
        ({"bucket": "a" * 64}, "3 to 63 characters"),
        ({"bucket": "My_Bucket"}, "lowercase letters, digits, dots and hyphens"),
        ({"bucket": "-abc"}, "start and end with a letter or digit"),
        ({"bucket": "a..b"}, "two dots"),
        ({"bucket": "192.168.1.1"}, "IP address"),
        ({"endpoint_url": "ftp://example.com"}, "http:// or https://"),
        ({"endpoint_url": "example.com:9000"}, "http:// or https://"),
        ({"endpoint_url": "https://user:pw@example.com"}, "user name or password"),
        ({"endpoint_url": "http://host:notaport"}, "not a valid URL"),
        ({"prefix": "a/../b"}, "'..'"),
        ({"prefix": "a\\b"}, "backslashes"),
        ({"addressing_style": "dns"}, "path, virtual, auto"),
        ({"ca_bundle": "/nonexistent/ca.pem"}, "does not exist"),
        ({"region": "US East"}, "region name"),
        ({"credentials": "plaintext"}, "chain, keyring"),
        ({"credentials": "keyring", "profile": "p"}, "profile"),
    ],
)
def test_validation_messages(kwargs: dict[str, Any], message: str) -> None:
    args = {"bucket": "good-bucket", **kwargs}
    with pytest.raises(InvalidRemote) as info:
        remote_config(args.pop("bucket"), **args)
    assert message in info.value.message


def test_prefix_is_normalised_and_ca_bundle_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert remote_config("abc", prefix="//a//b/c/").spec.prefix == "a/b/c"
    assert remote_config("abc", prefix="/").spec.prefix == ""
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.chdir(tmp_path)
    assert remote_config("abc", ca_bundle="ca.pem").spec.ca_bundle == str(tmp_path / "ca.pem")
    with pytest.raises(InvalidRemote, match="contradict"):
        remote_config("abc", ca_bundle="ca.pem", verify_tls=False)


def test_cli_validation_errors(run: Runner, home: Path) -> None:
    run("remote", "set", "--bucket", "Bad_Bucket")
    assert run.code == 1
    assert "mediavault: error: Bucket name 'Bad_Bucket'" in run.err
    run("remote", "set", "--bucket", "good-bucket", "--endpoint", "s3.example.com")
    assert run.code == 1
    assert "hint:" in run.err
    run("remote", "set", "--bucket", "good-bucket", "--addressing", "dns")
    assert run.code == 1 and "path, virtual, auto" in run.err
    run("remote", "set", "--bucket", "good-bucket", "--access-key-id", "AKIA")
    assert run.code == 2 and "--keyring" in run.err
    run("remote", "set", "--bucket", "good-bucket", "--keyring")
    assert run.code == 2 and "--access-key-id" in run.err
    assert not (vault_paths(home).config / "remote.json").exists()


def test_keyring_secret_is_never_read_from_argv(run: Runner, home: Path) -> None:
    # Without $MEDIAVAULT_SECRET_ACCESS_KEY and without a terminal there is no way to give it.
    run("remote", "set", "--bucket", "good-bucket", "--keyring", "--access-key-id", "AKIA")
    assert run.code == 2
    assert SECRET_ENV in run.err
    assert not (vault_paths(home).config / "remote.json").exists()


# -- keyring ---------------------------------------------------------------------------


def test_keyring_round_trip(memory_keyring: MemoryKeyring) -> None:
    config = remote_config("abc", endpoint_url="http://nas:9000", credentials="keyring")
    keys = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", "token")
    credentials.store_keys(config, keys)
    assert list(memory_keyring.entries) == [("mediavault", "http://nas:9000/abc")]
    assert credentials.load_keys(config) == keys
    assert credentials.forget_keys(config) is True
    assert credentials.forget_keys(config) is False
    with pytest.raises(VaultError, match="no keys for http://nas:9000/abc"):
        credentials.load_keys(config)
    aws = remote_config("abc", credentials="keyring")
    assert credentials.keyring_user(aws) == "s3.amazonaws.com/abc"


def test_chain_has_no_keyring_keys(memory_keyring: MemoryKeyring) -> None:
    config = remote_config("abc")
    assert credentials.load_keys(config) is None
    assert credentials.forget_keys(config) is False


def test_damaged_keyring_entry_does_not_quote_it(memory_keyring: MemoryKeyring) -> None:
    config = remote_config("abc", credentials="keyring")
    memory_keyring.entries[("mediavault", "s3.amazonaws.com/abc")] = "plain-old-secret"
    with pytest.raises(VaultError) as info:
        credentials.load_keys(config)
    assert "damaged" in info.value.message
    assert "plain-old-secret" not in str(info.value)


def test_no_keyring_backend_says_what_to_do_instead() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    config = remote_config("abc", credentials="keyring")
    for call in (
        lambda: credentials.store_keys(config, Credentials("a", "b")),
        lambda: credentials.load_keys(config),
        lambda: credentials.forget_keys(config),
    ):
        with pytest.raises(credentials.KeyringUnavailable) as info:
            call()
        assert "no OS keyring" in info.value.message
        assert "AWS_ACCESS_KEY_ID" in info.value.hint
        assert "--profile" in info.value.hint


def test_cli_without_keyring_backend(run: Runner, monkeypatch: pytest.MonkeyPatch) -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # type: ignore[no-untyped-call]
    monkeypatch.setenv(SECRET_ENV, "some-secret-value")
    run("remote", "set", "--bucket", "good-bucket", "--keyring", "--access-key-id", "AKIA")
    assert run.code == 1
    assert "no OS keyring" in run.err
    assert "hint:" in run.err and "AWS_SECRET_ACCESS_KEY" in run.err
    assert "some-secret-value" not in run.err + run.out


# -- the check -------------------------------------------------------------------------


def _steps(results: list[CheckResult]) -> list[tuple[str, bool, str]]:
    return [(r.step, r.ok, r.reason) for r in results]


def test_check_all_ok_and_probe_removed(s3: S3Endpoint, bucket: str) -> None:
    config = remote_config(
        bucket, endpoint_url=s3.url, region=s3.region, prefix="vault/one", addressing_style="path"
    )
    results = check_remote(config, None)  # keys from the (test) AWS chain
    assert _steps(results) == [
        ("list", True, ""),
        ("put", True, ""),
        ("get", True, ""),
        ("delete", True, ""),
    ]
    listed = _raw_client(s3).list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0


def test_cli_test_all_ok(run: Runner, s3: S3Endpoint, bucket: str) -> None:
    run(*_set_args(s3, bucket))
    assert run.code == 0, run.err
    run("remote", "test")
    assert run.code == 0, run.err
    assert [line[:8] for line in run.out.splitlines()[:4]] == [
        "✓ list  ",
        "✓ put   ",
        "✓ get   ",
        "✓ delete",
    ]
    data = run.json("remote", "test")
    assert data["ok"] is True
    assert [s["step"] for s in data["steps"]] == ["list", "put", "get", "delete"]


def test_missing_bucket(run: Runner, s3: S3Endpoint) -> None:
    run(*_set_args(s3, "no-such-bucket-" + secrets.token_hex(4)))
    run("remote", "test")
    assert run.code == 1
    assert "✗ list   no-bucket: The bucket" in run.out
    assert "hint: Create it" in run.out
    assert "put" not in run.out  # nothing after a missing bucket


def test_unreachable_endpoint(run: Runner) -> None:
    run("remote", "set", "--bucket", "abc", "--endpoint", f"http://127.0.0.1:{free_port()}")
    run("remote", "test", "--json")
    assert run.code == 1
    steps = json.loads(run.out)["steps"]
    assert [(s["step"], s["reason"]) for s in steps] == [("list", "unreachable")]
    assert "Cannot connect to http://127.0.0.1:" in steps[0]["message"]


def test_tls_failure(s3: S3Endpoint, bucket: str) -> None:
    https = s3.url.replace("http://", "https://")
    results = check_remote(remote_config(bucket, endpoint_url=https), None)
    assert _steps(results) == [("list", False, "tls")]
    assert "--ca-bundle" in results[0].hint


def test_check_uses_short_timeouts(
    monkeypatch: pytest.MonkeyPatch, s3: S3Endpoint, bucket: str
) -> None:
    seen: dict[str, Any] = {}

    def spy(spec: RemoteSpec, creds: Credentials | None, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return make_client(spec, creds, **kwargs)

    monkeypatch.setattr(remote, "make_client", spy)
    check_remote(remote_config(bucket, endpoint_url=s3.url), None)
    assert seen["connect_timeout"] == 5 and seen["read_timeout"] == 10


def _client_error(code: str, status: int, operation: str = "PutObject") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "server words"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    return ClientError(response, operation)


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("InvalidAccessKeyId", 403, "credentials"),
        ("SignatureDoesNotMatch", 403, "credentials"),
        ("ExpiredToken", 400, "credentials"),
        ("NoSuchBucket", 404, "no-bucket"),
        ("AccessDenied", 403, "access-denied"),
        ("", 403, "access-denied"),
        ("RequestTimeTooSkewed", 403, "clock-skew"),
        ("PermanentRedirect", 301, "wrong-region"),
        ("InternalError", 500, "error"),
    ],
)
def test_classify(code: str, status: int, reason: str) -> None:
    spec = RemoteSpec("abc", prefix="p")
    got, message, hint = classify(_client_error(code, status), "put", spec)
    assert got == reason
    assert message and "server words" not in message
    if reason == "access-denied":
        assert "upload" in message and "s3:PutObject" in hint and "'p'" in hint


class _FakeClient:
    """Fails the named operations with a ClientError."""

    def __init__(self, failures: dict[str, ClientError]) -> None:
        self.failures = failures
        self.stored = b""

    def _maybe_fail(self, name: str) -> None:
        if name in self.failures:
            raise self.failures[name]

    def list_objects_v2(self, **kwargs: Any) -> None:
        self._maybe_fail("list")

    def put_object(self, **kwargs: Any) -> None:
        self._maybe_fail("put")
        self.stored = kwargs["Body"]

    def get_object(self, **kwargs: Any) -> Any:
        self._maybe_fail("get")
        body = self.stored if "mismatch" not in self.failures else b"other"

        class _Body:
            def read(self) -> bytes:
                return body

        return {"Body": _Body()}

    def delete_object(self, **kwargs: Any) -> None:
        self._maybe_fail("delete")


@pytest.mark.parametrize(
    ("failures", "expected"),
    [
        (
            {"put": _client_error("AccessDenied", 403)},
            [("list", True, ""), ("put", False, "access-denied")],
        ),
        (
            {"get": _client_error("AccessDenied", 403)},
            [("list", True, ""), ("put", True, ""), ("get", False, "access-denied"), ("delete", True, "")],
        ),
        (
            {"mismatch": _client_error("x", 500)},
            [("list", True, ""), ("put", True, ""), ("get", False, "mismatch"), ("delete", True, "")],
        ),
        (
            {"list": _client_error("AccessDenied", 403)},
            [("list", False, "access-denied"), ("put", True, ""), ("get", True, ""), ("delete", True, "")],
        ),
        (
            {"list": _client_error("InvalidAccessKeyId", 403)},
            [("list", False, "credentials")],
        ),
        (
            {"list": _client_error("RequestTimeTooSkewed", 403)},
            [("list", False, "clock-skew")],
        ),
    ],
)  # fmt: skip
def test_check_steps_and_stops(
    monkeypatch: pytest.MonkeyPatch,
    failures: dict[str, ClientError],
    expected: list[tuple[str, bool, str]],
) -> None:
    monkeypatch.setattr(remote, "make_client", lambda *a, **k: _FakeClient(failures))
    assert _steps(check_remote(remote_config("abc"), None)) == expected


# -- the secret ------------------------------------------------------------------------


def test_secret_never_leaves_the_keyring(
    run: Runner,
    home: Path,
    s3: S3Endpoint,
    bucket: str,
    memory_keyring: MemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = "Sekr3t/" + secrets.token_urlsafe(24)
    # The chain has other keys, so nothing can work by accident through it.
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv(SECRET_ENV, secret)
    for name in ("", "app", "mediavault", "botocore", "boto3", "urllib3", "s3transfer", "keyring"):
        caplog.set_level(logging.DEBUG, logger=name or None)

    run(*_set_args(s3, bucket, "--keyring", "--access-key-id", "AKIDVAULTTEST"))
    assert run.code == 0, run.err
    monkeypatch.delenv(SECRET_ENV)
    assert credentials.load_keys(load_remote(vault_paths(home)) or remote_config("x")) == (
        Credentials("AKIDVAULTTEST", secret)
    )
    shown = run.json("remote", "show")
    assert shown["access_key_id"] == "*********TEST"
    assert "keyring" in shown["keys_from"]
    run("remote", "show")
    run("remote", "test")
    assert run.code == 0, run.out + run.err
    run("remote", "test", "--json")
    assert run.code == 0
    # A failing check: the same keys against a bucket that is not there.
    run(*_set_args(s3, bucket + "-gone", "--keyring", "--access-key-id", "AKIDVAULTTEST"))
    assert run.code == 2  # no secret in the environment any more, none on argv
    monkeypatch.setenv(SECRET_ENV, secret)
    run(*_set_args(s3, bucket + "-gone", "--keyring", "--access-key-id", "AKIDVAULTTEST"))
    monkeypatch.delenv(SECRET_ENV)
    assert run.code == 0, run.err
    assert len(memory_keyring.entries) == 1  # the old remote's keys were forgotten
    run("remote", "test")
    assert run.code == 1 and "no-bucket" in run.out
    run("remote", "unset")
    assert run.code == 0
    assert memory_keyring.entries == {}

    assert log_file(vault_paths(home)).exists()
    assert any(r.name.startswith("botocore") for r in caplog.records)  # DEBUG was on
    texts = {"transcript": "\n".join(run.transcript), "caplog": caplog.text}
    texts["records"] = "\n".join(str(r.__dict__) for r in caplog.records)
    paths = vault_paths(home)
    for root in {paths.data, paths.cache, paths.config}:
        for path in root.rglob("*"):
            if path.is_file():
                texts[str(path)] = path.read_bytes().decode("utf-8", "replace")
    leaks = [where for where, text in texts.items() if secret in text]
    assert leaks == []
    assert any("mediavault.log" in where for where in texts)


def test_cli_loads_boto3_and_keyring_only_for_remote_commands() -> None:
    code = "import sys, app.cli; print(sorted({'boto3', 'keyring'} & set(sys.modules)))"
    repo = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_switching_to_the_chain_forgets_keyring_keys(
    run: Runner, memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "a-secret")
    run("remote", "set", "--bucket", "abc", "--keyring", "--access-key-id", "AKIA")
    assert run.code == 0, run.err
    assert list(memory_keyring.entries) == [("mediavault", "s3.amazonaws.com/abc")]
    run("remote", "set", "--bucket", "abc", "--keyring", "--access-key-id", "AKIB")
    assert run.code == 0 and len(memory_keyring.entries) == 1  # replaced, still there
    run("remote", "set", "--bucket", "abc")
    assert run.code == 0, run.err
    assert memory_keyring.entries == {}
