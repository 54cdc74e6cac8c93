"""Where a vault keeps its data, cache and configuration.

This is the only module that asks platformdirs. ``MEDIAVAULT_HOME`` (or the
CLI's ``--vault DIR``) puts everything under one directory instead, for
portable use and for tests.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "MediaVault"
HOME_ENV = "MEDIAVAULT_HOME"

_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file marks Media Vault's thumbnail and preview cache.\n"
    "# Backup tools can skip this directory: it is rebuilt on demand.\n"
)


@dataclass(frozen=True)
class VaultPaths:
    """The directories of one vault.

    Attributes:
        data: holds the catalog and the blobs; the part that must be kept.
        cache: thumbnails and other things that can be rebuilt.
        config: settings.
    """

    data: Path
    cache: Path
    config: Path

    @property
    def catalog(self) -> Path:
        """The SQLite catalog file."""
        return self.data / "catalog.sqlite3"

    @property
    def blobs(self) -> Path:
        """The content-addressed blob directory (``blobs/ab/<sha256>``)."""
        return self.data / "blobs"

    def create(self) -> None:
        """Create the directories (idempotent) and tag the cache for backup tools."""
        for directory in (self.data, self.cache, self.config, self.blobs):
            directory.mkdir(parents=True, exist_ok=True)
        tag = self.cache / "CACHEDIR.TAG"
        if not tag.exists():
            tag.write_text(_CACHEDIR_TAG, encoding="ascii")


def vault_paths(home: Path | str | None = None) -> VaultPaths:
    """The paths of the vault at ``home``, else ``$MEDIAVAULT_HOME``, else the user's default.

    Nothing is created; call :meth:`VaultPaths.create` for that.
    """
    chosen = home if home is not None else os.environ.get(HOME_ENV) or None
    if chosen is not None:
        root = Path(chosen).expanduser().absolute()
        return VaultPaths(data=root, cache=root / "cache", config=root / "config")
    return VaultPaths(
        data=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        cache=Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)),
        config=Path(platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )
