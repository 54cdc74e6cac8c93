"""The sync status in the window's status bar, with pause and resume.

:class:`SyncStatus` starts an :class:`app.autosync.AutoSync` for the window's
vault and shows what it reports. The reports come from the sync thread; a
queued signal carries them to the GUI thread, and the label is redrawn from
the newest one only (the sync sends at most ten a second).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget

from app.autosync import NO_REMOTE, PAUSED, STARTING, AutoSync, SyncState
from app.core import VaultBase
from app.sync import ERROR, OFFLINE, SYNCING, UP_TO_DATE
from ui.formatting import human_duration, human_size

NO_REMOTE_HINT = "Set a bucket in Settings (Remote) to back this vault up."


def describe(state: SyncState) -> tuple[str, str]:
    """The status bar text and its tooltip for ``state``."""
    progress = state.progress
    figures = ""
    if progress is not None and progress.files_total:
        figures = (
            f"{progress.files_done:,} of {progress.files_total:,} · "
            f"{human_size(progress.bytes_done)} of {human_size(progress.bytes_total)}"
        )
    if state.status == SYNCING:
        if not figures:
            return "Syncing…", state.message
        text = f"Syncing {figures}"
        if progress is not None and progress.rate_bytes_per_s >= 1:
            text += f" · {human_size(int(progress.rate_bytes_per_s))}/s"
            if progress.eta_seconds is not None:
                text += f" · {human_duration(progress.eta_seconds)} left"
        return text, state.message
    if state.status == UP_TO_DATE:
        when = state.last_synced
        tip = f"Last synced {when.astimezone().strftime('%H:%M')}" if when else ""
        return "Up to date", tip
    if state.status == PAUSED:
        return ("Sync paused" + (f" · {figures}" if figures else "")), "Resume to carry on."
    if state.status == OFFLINE:
        return "Offline" + _retry(state), state.message
    if state.status == ERROR:
        text = (
            f"Sync error: {state.failed:,} {'file' if state.failed == 1 else 'files'} not uploaded"
            if state.failed
            else "Sync error"
        )
        return text + _retry(state), state.message
    if state.status == NO_REMOTE:
        return "Not backed up", NO_REMOTE_HINT
    if state.status == STARTING:
        return "Sync starting…", ""
    return state.status.capitalize(), state.message


def _retry(state: SyncState) -> str:
    return f" · next try in {human_duration(state.retry_in)}" if state.retry_in else ""


class _Relay(QObject):
    """Lives on the GUI thread; emitting from the sync thread queues the call."""

    changed = Signal(object)


class SyncStatus(QWidget):
    """A label and a pause/resume button, driven by the vault's background sync.

    Signals:
        finished(): a sync run ended (blobs may have changed state).
        state_changed(SyncState): every new state, progress included (the Transfers
            panel shows uploads from it).

    Attributes:
        autosync: the background sync (started by :meth:`start`).
        label: the one-line status.
        button: pauses or resumes the sync.
    """

    finished = Signal()
    state_changed = Signal(object)

    def __init__(
        self, vault: VaultBase, parent: QWidget | None = None, *, autosync: AutoSync | None = None
    ) -> None:
        super().__init__(parent)
        self._relay = _Relay(self)
        self._relay.changed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self.autosync = autosync or AutoSync(vault, self._relay.changed.emit)
        self.label = QLabel(self)
        self.button = QToolButton(self)
        self.button.setAutoRaise(True)
        self.button.clicked.connect(self._toggle)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        self._running = False
        self._show(self.autosync.state)

    def start(self) -> None:
        """Start syncing in the background."""
        self.autosync.start()

    def sync_now(self) -> None:
        """Sync at once (after the remote changed, or Retry on a failed upload)."""
        self.autosync.sync_now()

    def shutdown(self) -> None:
        """Stop the sync (what is cut short resumes next time). Idempotent."""
        self.autosync.close()

    @Slot(object)
    def _show(self, state: SyncState) -> None:
        running = state.status in (SYNCING, PAUSED, STARTING)
        if self._running and not running:
            self.finished.emit()
        self._running = running
        text, tip = describe(state)
        self.label.setText(text)
        self.label.setToolTip(tip)
        self.button.setVisible(state.status != NO_REMOTE)
        if state.status == PAUSED:
            self.button.setText("Resume")
            self.button.setToolTip("Carry on syncing with the bucket")
        else:
            self.button.setText("Pause")
            self.button.setToolTip("Start no new uploads until resumed")
        self.state_changed.emit(state)

    def _toggle(self) -> None:
        # pause/resume only set flags and wake the sync thread: nothing here blocks.
        if self.autosync.paused:
            self.autosync.resume()
        else:
            self.autosync.pause()
