"""Where a vault lives: MEDIAVAULT_HOME, an explicit home, or the platform's directories."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app.core import VaultBase
from app.paths import APP_NAME, HOME_ENV, vault_paths


def test_env_var_puts_everything_under_one_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "portable"
    monkeypatch.setenv(HOME_ENV, str(home))
    paths = vault_paths()
    assert paths.data == home
    assert paths.cache == home / "cache"
    assert paths.config == home / "config"
    assert paths.catalog == home / "catalog.sqlite3"
    assert paths.blobs == home / "blobs"
    assert not home.exists(), "vault_paths() must not create anything"


def test_explicit_home_wins_over_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "from-env"))
    paths = vault_paths(tmp_path / "explicit")
    assert paths.data == tmp_path / "explicit"
    assert paths.cache == tmp_path / "explicit" / "cache"
    assert paths.data != vault_paths().data


def test_explicit_home_as_str_is_expanded_and_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert vault_paths("~/Vault").data == tmp_path / "user" / "Vault"
    monkeypatch.chdir(tmp_path)
    relative = vault_paths("rel/vault")
    assert relative.data.is_absolute()
    assert relative.data == tmp_path / "rel" / "vault"


def test_empty_env_var_means_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, "")
    _point_platformdirs_at(tmp_path, monkeypatch)
    assert APP_NAME in str(vault_paths().data)


def _point_platformdirs_at(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG variables steer platformdirs on Linux")
def test_default_uses_platformdirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    _point_platformdirs_at(tmp_path, monkeypatch)
    paths = vault_paths()
    assert paths.data == tmp_path / "xdg-data" / APP_NAME
    assert paths.cache == tmp_path / "xdg-cache" / APP_NAME
    assert paths.config == tmp_path / "xdg-config" / APP_NAME
    assert len({paths.data, paths.cache, paths.config}) == 3
    for directory in (paths.data, paths.cache, paths.config):
        assert "MediaVault" in directory.parts


@pytest.mark.skipif(sys.platform != "linux", reason="the XDG variables steer platformdirs on Linux")
def test_default_vault_opens_in_platform_dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(HOME_ENV, raising=False)
    _point_platformdirs_at(tmp_path, monkeypatch)
    with VaultBase.open() as vault:
        assert vault.paths.catalog == tmp_path / "xdg-data" / APP_NAME / "catalog.sqlite3"
        assert vault.paths.catalog.is_file()
        assert (tmp_path / "xdg-cache" / APP_NAME / "CACHEDIR.TAG").is_file()
        assert (tmp_path / "xdg-config" / APP_NAME).is_dir()


def test_create_makes_directories_and_cachedir_tag(tmp_path: Path) -> None:
    paths = vault_paths(tmp_path / "v")
    paths.create()
    for directory in (paths.data, paths.cache, paths.config, paths.blobs):
        assert directory.is_dir()
    tag = paths.cache / "CACHEDIR.TAG"
    # The signature backup tools look for (https://bford.info/cachedir/) opens the file.
    assert tag.read_bytes().startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    assert not (paths.data / "CACHEDIR.TAG").exists()  # the data must be backed up
    tag.write_text(tag.read_text() + "# kept\n")
    paths.create()  # idempotent, and leaves an existing tag alone
    assert tag.read_text().endswith("# kept\n")


def test_open_uses_env_home(vault_home: Path) -> None:
    with VaultBase.open() as vault:
        assert vault.paths.data == vault_home
        assert (vault_home / "catalog.sqlite3").is_file()
        assert (vault_home / "cache" / "CACHEDIR.TAG").is_file()
