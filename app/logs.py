"""Where Media Vault's log goes: a rotating file in the vault, never the terminal.

Warnings about single files (a PDF that could not be read, a worker that was
restarted) belong in the log, and the user sees them as per-file messages in
reports. Tracebacks of bugs go there too, with a one-line pointer for the user.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from app.paths import VaultPaths

LOG_NAME = "mediavault.log"
_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(threadName)s] %(message)s"


def log_file(paths: VaultPaths) -> Path:
    """The log file of the vault at ``paths``."""
    return paths.data / "logs" / LOG_NAME


def setup_logging(paths: VaultPaths) -> Path | None:
    """Send this process's log records to the vault's log file; its path, or None.

    Idempotent. If the file cannot be written, records are dropped rather than
    printed: a terminal or a window is no place for them.
    """
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    path = log_file(paths)
    if any(getattr(h, "baseFilename", None) == str(path) for h in root.handlers):
        return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2 << 20, backupCount=3, encoding="utf-8"
        )
    except OSError:
        root.addHandler(logging.NullHandler())
        return None
    handler.setFormatter(logging.Formatter(_FORMAT))
    root.addHandler(handler)
    return path
