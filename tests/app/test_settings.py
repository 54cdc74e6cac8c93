"""Preferences (saved, validated, forgiving on read), the cache, and the remote as a form sets it."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest

from app import credentials
from app.errors import StorageError
from app.paths import vault_paths
from app.remote import InvalidRemote, load_remote, remote_config, save_remote
from app.settings import (
    CACHE_DEFAULT,
    CACHE_MIN,
    GB,
    MB,
    THUMBNAIL_DEFAULT,
    InvalidPreference,
    Preferences,
    apply_remote,
    cache_usage,
    check_remote_form,
    clear_cache,
    load_preferences,
    preferences_file,
    read_remote_settings,
    resolve_keys,
    save_preferences,
    trim_cache,
    unset_remote,
    validate_preferences,
)
from app.vault import Vault
from storage.s3_client import Credentials, RemoteSpec
from tests.conftest import MemoryKeyring
from tests.s3server import S3Endpoint

SECRET = "settings-secret-that-must-not-leak"


def test_defaults_without_a_file(vault: Vault) -> None:
    assert not preferences_file(vault.paths).exists()
    prefs = load_preferences(vault.paths)
    assert prefs == Preferences(THUMBNAIL_DEFAULT, CACHE_DEFAULT, None)


def test_round_trip(vault: Vault) -> None:
    prefs = Preferences(thumbnail_size=320, cache_bytes=250 * MB, space_budget=20 * GB)
    save_preferences(vault.paths, prefs)
    assert load_preferences(vault.paths) == prefs
    saved = json.loads(preferences_file(vault.paths).read_text(encoding="utf-8"))
    assert saved == {"thumbnail_size": 320, "cache_bytes": 250 * MB, "space_budget": 20 * GB}
    # Written atomically: no temp file is left beside it.
    assert sorted(p.name for p in vault.paths.config.iterdir()) == ["preferences.json"]

    save_preferences(vault.paths, Preferences(space_budget=None))
    assert load_preferences(vault.paths) == Preferences()


@pytest.mark.parametrize(
    ("prefs", "words"),
    [
        (Preferences(thumbnail_size=63), "thumbnail size"),
        (Preferences(thumbnail_size=513), "thumbnail size"),
        (Preferences(thumbnail_size=True), "thumbnail size"),
        (Preferences(thumbnail_size=128.5), "thumbnail size"),  # type: ignore[arg-type]
        (Preferences(cache_bytes=CACHE_MIN - 1), "cache size"),
        (Preferences(cache_bytes=-1), "cache size"),
        (Preferences(space_budget=0), "space budget"),
        (Preferences(space_budget=-5), "space budget"),
        (Preferences(space_budget="20G"), "space budget"),  # type: ignore[arg-type]
    ],
)
def test_bad_values_are_rejected_and_not_saved(
    vault: Vault, prefs: Preferences, words: str
) -> None:
    with pytest.raises(InvalidPreference) as info:
        save_preferences(vault.paths, prefs)
    assert words in info.value.message
    assert not preferences_file(vault.paths).exists()
    with pytest.raises(InvalidPreference):
        validate_preferences(prefs)


def test_a_damaged_file_means_defaults(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    path = preferences_file(vault.paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert load_preferences(vault.paths) == Preferences()
    assert "using the defaults" in caplog.text

    path.write_text("[1, 2]", encoding="utf-8")
    assert load_preferences(vault.paths) == Preferences()


def test_one_bad_value_keeps_the_others(vault: Vault, caplog: pytest.LogCaptureFixture) -> None:
    path = preferences_file(vault.paths)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {"thumbnail_size": 9999, "cache_bytes": 64 * MB, "space_budget": 5 * GB, "x": 1}
        ),
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        prefs = load_preferences(vault.paths)
    assert prefs == Preferences(THUMBNAIL_DEFAULT, 64 * MB, 5 * GB)
    assert "thumbnail size" in caplog.text


def test_cache_usage_and_clear(vault: Vault) -> None:
    cache = vault.paths.cache
    (cache / "thumbs" / "ab").mkdir(parents=True)
    (cache / "thumbs" / "ab" / "abc.png").write_bytes(b"t" * 3000)
    (cache / "previews").mkdir()
    (cache / "previews" / "p.bin").write_bytes(b"p" * 1000)
    (cache / "loose.bin").write_bytes(b"l" * 500)
    # Scratch files of a sync or cleanup under way belong to that work: kept.
    (cache / ".catalog-123.sqlite3").write_bytes(b"s" * 700)
    assert (cache / "CACHEDIR.TAG").is_file()

    assert cache_usage(vault.paths) == 4500
    assert clear_cache(vault.paths) == 4500
    assert sorted(p.name for p in cache.iterdir()) == [".catalog-123.sqlite3", "CACHEDIR.TAG"]
    assert cache_usage(vault.paths) == 0
    assert clear_cache(vault.paths) == 0


def test_clear_cache_without_a_cache_dir(tmp_path: Path) -> None:
    from app.paths import VaultPaths

    paths = VaultPaths(tmp_path / "d", tmp_path / "no-cache", tmp_path / "c")
    assert cache_usage(paths) == 0
    assert clear_cache(paths) == 0


def test_clear_cache_reports_what_it_could_not_delete(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    (vault.paths.cache / "stuck").mkdir()
    (vault.paths.cache / "stuck" / "f").write_bytes(b"x")
    (vault.paths.cache / "gone.bin").write_bytes(b"y" * 10)

    def refuse(path: Path) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("app.settings.shutil.rmtree", refuse)
    with pytest.raises(StorageError) as info:
        clear_cache(vault.paths)
    assert "stuck" in info.value.message and "Permission denied" in info.value.message
    assert not (vault.paths.cache / "gone.bin").exists()


# -- the remote from a form ------------------------------------------------------------


def test_apply_remote_with_typed_keys(
    vault: Vault, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    config = remote_config("media-bucket", endpoint_url=s3.url, credentials="keyring")
    assert apply_remote(vault.paths, config, "AKIDTYPED", SECRET) == []
    assert load_remote(vault.paths) == config
    assert credentials.load_keys(config) == Credentials("AKIDTYPED", SECRET)
    settings = read_remote_settings(vault.paths)
    assert settings.config == config
    assert settings.access_key_id == "AKIDTYPED" and settings.has_secret
    assert SECRET not in repr(settings)
    for path in vault.paths.data.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path


def test_empty_secret_keeps_the_stored_keys(
    vault: Vault, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    old = remote_config("old-bucket", endpoint_url=s3.url, credentials="keyring")
    apply_remote(vault.paths, old, "AKIDKEEP", SECRET)

    # Same remote: the stored keys, with or without the key id repeated.
    assert resolve_keys(vault.paths, old, "", "") == Credentials("AKIDKEEP", SECRET)
    assert resolve_keys(vault.paths, old, "AKIDKEEP", "") == Credentials("AKIDKEEP", SECRET)
    with pytest.raises(InvalidRemote, match="needs its secret"):
        resolve_keys(vault.paths, old, "AKIDNEW", "")

    # Another bucket: the saved remote's keys move to the new entry; the old one goes.
    new = remote_config("new-bucket", endpoint_url=s3.url, credentials="keyring")
    apply_remote(vault.paths, new, "AKIDKEEP", "")
    assert credentials.load_keys(new) == Credentials("AKIDKEEP", SECRET)
    assert list(memory_keyring.entries) == [("mediavault", f"{s3.url}/new-bucket")]

    # Back to the AWS chain: the keys are forgotten.
    chain = remote_config("new-bucket", endpoint_url=s3.url)
    assert resolve_keys(vault.paths, chain, "ignored", "ignored") is None
    apply_remote(vault.paths, chain)
    assert memory_keyring.entries == {}
    assert load_remote(vault.paths) == chain


def test_keyring_without_any_secret_is_refused(vault: Vault, memory_keyring: MemoryKeyring) -> None:
    config = remote_config("media-bucket", credentials="keyring")
    with pytest.raises(InvalidRemote, match="Enter the secret access key"):
        apply_remote(vault.paths, config, "AKIDNOSECRET", "")
    with pytest.raises(InvalidRemote, match="access key ID"):
        apply_remote(vault.paths, config, "", SECRET)
    assert load_remote(vault.paths) is None
    assert memory_keyring.entries == {}


def test_check_remote_form_uses_typed_keys_and_saves_nothing(
    vault: Vault, spec: RemoteSpec, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    config = remote_config(
        spec.bucket,
        endpoint_url=spec.endpoint_url,
        region=spec.region,
        prefix="vault",
        addressing_style="path",
        credentials="keyring",
    )
    results = check_remote_form(vault.paths, config, s3.access_key, s3.secret_key)
    assert [(r.step, r.ok) for r in results] == [
        ("list", True),
        ("put", True),
        ("get", True),
        ("delete", True),
    ]
    assert load_remote(vault.paths) is None
    assert memory_keyring.entries == {}


def test_unset_remote_forgets_the_keys(
    vault: Vault, s3: S3Endpoint, memory_keyring: MemoryKeyring
) -> None:
    config = remote_config("media-bucket", endpoint_url=s3.url, credentials="keyring")
    apply_remote(vault.paths, config, "AKIDGONE", SECRET)
    assert unset_remote(vault.paths) == (True, True, [])
    assert load_remote(vault.paths) is None
    assert memory_keyring.entries == {}
    assert unset_remote(vault.paths) == (False, False, [])


def test_unset_removes_a_damaged_remote_file(vault: Vault) -> None:
    path = vault.paths.config / "remote.json"
    path.write_text("{damaged", encoding="utf-8")
    settings = read_remote_settings(vault.paths)
    assert settings.config is None and "Cannot read the remote settings" in settings.problem
    assert unset_remote(vault.paths) == (True, False, [])
    assert not path.exists()


def test_read_remote_settings_reports_missing_keys(
    vault: Vault, memory_keyring: MemoryKeyring
) -> None:
    config = remote_config("media-bucket", credentials="keyring")
    save_remote(vault.paths, config)
    settings = read_remote_settings(vault.paths)
    assert settings.config == config
    assert not settings.has_secret and settings.access_key_id == ""
    assert "has no keys" in settings.problem


def test_the_cache_is_trimmed_oldest_first(tmp_path: Path) -> None:
    paths = vault_paths(tmp_path / "vault")
    paths.create()
    folder = paths.cache / "thumbnails" / "128" / "ab"
    folder.mkdir(parents=True)
    for n in range(10):
        path = folder / f"{n}.jpg"
        path.write_bytes(b"x" * 1000)
        os.utime(path, (1_000_000 + n, 1_000_000 + n))
    assert trim_cache(paths, 10_000) == 0
    assert trim_cache(paths, 4_500) == 6000
    assert sorted(p.name for p in folder.iterdir()) == ["6.jpg", "7.jpg", "8.jpg", "9.jpg"]
    assert (paths.cache / "CACHEDIR.TAG").exists()
