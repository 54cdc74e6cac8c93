"""The Settings dialog: the vault's remote bucket, thumbnails, the cache, the space budget
and how many old versions of a file are kept.

The remote part edits what ``mediavault remote set|show|test|unset`` manage
(:mod:`app.remote`, keys in the OS keyring through :mod:`app.credentials`);
the Versions tab edits the vault's retention policy (:mod:`app.versions`, stored
in the catalog, as ``mediavault versions policy`` does) and applies it on demand;
the rest are the :class:`app.settings.Preferences` the window and the CLI share.
Everything that touches the disk, the keyring or the network — loading the
settings, saving them, "Test connection", measuring and clearing the cache,
counting local bytes — runs on the dialog's :class:`ui.tasks.TaskManager`; the
callables there get plain values (a :class:`RemoteForm`, paths) and touch no widget.

The secret access key is typed into a password field, handed to the keyring
and never put back into the form, a label or the log; left empty, the stored
one is kept.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, Signal, Slot
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.errors import VaultError
from app.paths import VaultPaths
from app.remote import (
    CheckResult,
    InvalidRemote,
    RemoteConfig,
    normalize_prefix,
    remote_config,
    validate_bucket,
    validate_endpoint,
)
from app.settings import (
    CACHE_MAX,
    CACHE_MIN,
    GB,
    MB,
    THUMBNAIL_MAX,
    THUMBNAIL_MIN,
    InvalidPreference,
    Preferences,
    RemoteSettings,
    apply_remote,
    cache_usage,
    check_remote_form,
    clear_cache,
    load_preferences,
    read_remote_settings,
    save_preferences,
    unset_remote,
    validate_preferences,
)
from app.vault import Vault
from app.versions import (
    KEEP_ALL,
    KEEP_BY_AGE,
    KEEP_LAST,
    MAX_DAYS,
    MAX_KEEP_LAST,
    MAX_WEEKS,
    PruneReport,
    RetentionPolicy,
)
from ui.confirm import ask_before
from ui.formatting import human_size
from ui.tasks import Task, TaskManager

log = logging.getLogger(__name__)

# Where the keys come from, as the form offers it; "profile" is the AWS chain with a name.
CHAIN, PROFILE, KEYRING = "chain", "profile", "keyring"

STEP_WORDS = {
    "list": "List the bucket",
    "put": "Upload a test object",
    "get": "Download it again",
    "delete": "Delete it",
}


@dataclass(frozen=True)
class RemoteForm:
    """What the remote part of the form holds, as plain values (safe to hand to a pool thread).

    Attributes:
        bucket, endpoint_url, region, prefix, addressing_style, verify_tls, ca_bundle:
            as in :class:`storage.s3_client.RemoteSpec`, as typed.
        source: "chain", "profile" or "keyring".
        profile: the AWS profile's name (used with "profile" only).
        access_key_id: the key id typed or shown (used with "keyring" only).
        secret: the secret typed, "" to keep the stored one. Never in ``repr``.
    """

    bucket: str = ""
    endpoint_url: str = ""
    region: str = ""
    prefix: str = ""
    addressing_style: str = "auto"
    verify_tls: bool = True
    ca_bundle: str = ""
    source: str = CHAIN
    profile: str = ""
    access_key_id: str = ""
    secret: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, settings: RemoteSettings) -> RemoteForm:
        """The form as it shows the saved remote (an empty form when none is set)."""
        config = settings.config
        if config is None:
            return cls()
        spec = config.spec
        source = KEYRING if config.credentials == "keyring" else PROFILE if spec.profile else CHAIN
        return cls(
            bucket=spec.bucket,
            endpoint_url=spec.endpoint_url,
            region=spec.region,
            prefix=spec.prefix,
            addressing_style=spec.addressing_style,
            verify_tls=spec.verify_tls,
            ca_bundle=spec.ca_bundle,
            source=source,
            profile=spec.profile,
            access_key_id=settings.access_key_id,
        )

    def field_errors(self) -> dict[str, str]:
        """Per-field messages for what breaks a rule, checked without the disk.

        Keys: "bucket", "endpoint_url", "prefix", "profile", "access_key_id" and
        "" for rules that span fields (region, combinations). Empty when all is well.
        """
        errors: dict[str, str] = {}
        checks: list[tuple[str, Callable[[], object]]] = [
            ("bucket", lambda: validate_bucket(self.bucket.strip())),
            ("endpoint_url", lambda: validate_endpoint(self.endpoint_url)),
            ("prefix", lambda: normalize_prefix(self.prefix)),
        ]
        for name, check in checks:
            try:
                check()
            except InvalidRemote as exc:
                errors[name] = _words(exc)
        if not self.bucket.strip():
            errors["bucket"] = "Enter the bucket's name."
        if self.source == PROFILE and not self.profile.strip():
            errors["profile"] = "Enter the name of a profile in ~/.aws/credentials."
        if self.source == KEYRING and not self.access_key_id.strip():
            errors["access_key_id"] = "Enter the access key ID."
        if not errors:
            try:
                self._config(ca_bundle="")
            except InvalidRemote as exc:
                errors[""] = _words(exc)
        return errors

    def config(self) -> RemoteConfig:
        """The validated :class:`RemoteConfig`. Checks that the CA bundle exists (the disk):
        call it off the GUI thread. Raises :class:`InvalidRemote`."""
        return self._config(ca_bundle=self.ca_bundle.strip() if self.verify_tls else "")

    def _config(self, ca_bundle: str) -> RemoteConfig:
        return remote_config(
            self.bucket.strip(),
            endpoint_url=self.endpoint_url,
            region=self.region,
            prefix=self.prefix,
            addressing_style=self.addressing_style,
            verify_tls=self.verify_tls,
            ca_bundle=ca_bundle,
            profile=self.profile if self.source == PROFILE else "",
            credentials="keyring" if self.source == KEYRING else "chain",
        )

    def is_empty(self) -> bool:
        """True when nothing was typed (no remote is being set up)."""
        return self == RemoteForm(addressing_style=self.addressing_style, source=self.source)


def _words(error: VaultError) -> str:
    return f"{error.message} {error.hint}" if error.hint else error.message


def describe_check(results: list[CheckResult]) -> tuple[bool, str]:
    """Whether the remote works, and :func:`app.remote.check_remote`'s steps in words."""
    ok = bool(results) and all(r.ok for r in results)
    lines = [
        "The connection works: the bucket can be listed, written, read and cleaned up."
        if ok
        else "The connection does not work."
    ]
    for r in results:
        words = STEP_WORDS.get(r.step, r.step)
        if r.ok:
            lines.append(f"✓ {words} ({r.seconds:.2f} s)")
        else:
            lines.append(f"✗ {words}: {r.message}")
            if r.hint:
                lines.append(f"    What to do: {r.hint}")
    return ok, "\n".join(lines)


@dataclass(frozen=True)
class _Saved:
    """What a save did (built on a pool thread)."""

    prefs: Preferences | None
    remote: RemoteSettings | None
    warnings: list[str]
    remote_error: VaultError | None = None
    retention: RetentionPolicy | None = None


def _save(
    paths: VaultPaths,
    prefs: Preferences | None,
    form: RemoteForm | None,
    vault: Vault | None = None,
    retention: RetentionPolicy | None = None,
) -> _Saved:  # runs on a pool thread: no widgets
    """Save the preferences and the retention policy, then the remote; a remote that
    fails does not undo the former."""
    if prefs is not None:
        save_preferences(paths, prefs)
    if retention is not None and vault is not None:
        retention = vault.set_retention(retention)
    if form is None:
        return _Saved(prefs, None, [], retention=retention)
    try:
        warnings = apply_remote(paths, form.config(), form.access_key_id, form.secret)
    except VaultError as exc:
        return _Saved(prefs, None, [], exc, retention=retention)
    return _Saved(prefs, read_remote_settings(paths), warnings, retention=retention)


def _load(paths: VaultPaths) -> tuple[Preferences, RemoteSettings]:  # runs on a pool thread
    return load_preferences(paths), read_remote_settings(paths)


def _load_all(
    vault: Vault,
) -> tuple[Preferences, RemoteSettings, RetentionPolicy]:  # runs on a pool thread
    return (*_load(vault.paths), vault.get_retention())


def describe_prune(report: PruneReport) -> str:
    """What applying the retention policy did (or, in a dry run, would do), in a sentence."""
    if not report.versions_removed:
        return "Nothing to remove: this policy keeps every version there is."
    versions = f"{report.versions_removed} old version" + (
        "" if report.versions_removed == 1 else "s"
    )
    files = f"{len(report.files)} file" + ("" if len(report.files) == 1 else "s")
    freed = human_size(report.freed_bytes)
    if report.dry_run:
        return f"{versions} of {files} would be removed, freeing {freed} on this computer."
    return f"Removed {versions} of {files}; {freed} freed on this computer."


class _Scrolling(QScrollArea):
    """A page in a frameless scroll area: on a small screen at 200% it scrolls, not squeezes.

    Its size hint is the page's, so the dialog opens big enough when there is room.
    """

    def __init__(self, page: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(page)

    def sizeHint(self) -> QSize:
        widget = self.widget()
        if widget is None:
            return super().sizeHint()
        page = widget.sizeHint()
        bar = self.verticalScrollBar().sizeHint().width()
        return QSize(page.width() + bar, page.height())


class _ErrorLabel(QLabel):
    """A message under a field, in a red that reads on light and dark palettes alike."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._message = ""
        self.hide()

    @property
    def message(self) -> str:
        """The message shown, as plain text ("" when hidden)."""
        return self._message

    def show_message(self, message: str) -> None:
        """Show ``message`` (plain text), or hide the label for ""."""
        self._message = message
        self._render()
        self.setVisible(bool(message))

    def _render(self) -> None:
        dark = self.palette().window().color().lightness() < 128
        color = "#ff8a80" if dark else "#b3261e"
        self.setText(f'<span style="color:{color}">{html.escape(self._message)}</span>')

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange and self._message:
            self._render()  # setText changes no palette: no loop
        super().changeEvent(event)


class SettingsDialog(QDialog):
    """Settings: the remote (with Test connection and Remove), thumbnails, cache, space budget,
    and the versions kept (with Apply now).

    Non-modal-friendly: show it with :meth:`open`. Loading and saving run off the
    GUI thread; until the saved settings are read the form is disabled. OK saves
    and closes when the save is done; Apply saves and stays open.

    Signals:
        preferences_changed(object): new :class:`~app.settings.Preferences` were saved.
        remote_changed(): the remote was saved or removed (restart the background sync).
        versions_pruned(object): "Apply now" removed old versions; the
            :class:`~app.rows.Changes` says which files (refresh their views).

    Attributes:
        vault: the vault whose settings these are.
        tasks: runs the loading, saving, testing and measuring.
        preferences: the saved preferences (defaults until loaded).
        remote: the saved remote as last read (no remote until loaded).
        retention: the saved version retention policy (keep all until loaded).
        prune_box: the "Apply now" question while it is open, or None.
        last_prune: the report of the last "Apply now" (or its dry run), or None.
    """

    preferences_changed = Signal(object)
    remote_changed = Signal()
    versions_pruned = Signal(object)

    def __init__(self, vault: Vault, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.vault = vault
        self.tasks = TaskManager(self, max_threads=2, name="settings")
        self.preferences = Preferences()
        self.remote = RemoteSettings(None)
        self.retention = RetentionPolicy.keep_all()
        self.prune_box: QMessageBox | None = None
        self.last_prune: PruneReport | None = None
        self._pruning = False
        self._loaded = False
        self._saving = False
        self._close_after_save = False
        self._test_task: Task[Any] | None = None
        self._usage_task: Task[Any] | None = None
        self.remove_box: QMessageBox | None = None

        self.tabs = QTabWidget(self)
        self.tabs.addTab(_Scrolling(self._build_remote_tab()), "Remote")
        self.tabs.addTab(_Scrolling(self._build_storage_tab()), "Thumbnails and space")
        self.tabs.addTab(_Scrolling(self._build_versions_tab()), "Versions")

        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.Apply,
            self,
        )
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)
        self.buttons.clicked.connect(self._on_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)

        self._set_busy("Loading the settings…")
        self.tasks.run(lambda: _load_all(vault), self._on_loaded, self._on_load_failed)

    # -- building ---------------------------------------------------------------------

    def _build_remote_tab(self) -> QWidget:
        page = QWidget(self)
        self.errors: dict[str, _ErrorLabel] = {}
        self._holders: dict[str, QWidget] = {}

        self.endpoint = QLineEdit(page)
        self.endpoint.setPlaceholderText("Empty for AWS S3, e.g. https://s3.example.com")
        self.region = QLineEdit(page)
        self.region.setPlaceholderText("e.g. us-east-1 (empty: the service decides)")
        self.bucket = QLineEdit(page)
        self.bucket.setPlaceholderText("my-media-vault")
        self.prefix = QLineEdit(page)
        self.prefix.setPlaceholderText("Optional, e.g. vault/home")
        self.addressing = QComboBox(page)
        for text, style in (
            ("Automatic", "auto"),
            ("Path (https://host/bucket)", "path"),
            ("Virtual host (https://bucket.host)", "virtual"),
        ):
            self.addressing.addItem(text, style)
        self.verify_tls = QCheckBox("Check the server's TLS certificate", page)
        self.verify_tls.setChecked(True)
        self.verify_tls.toggled.connect(self._update_rows)
        self.ca_bundle = QLineEdit(page)
        self.ca_bundle.setPlaceholderText("Optional: a CA bundle to trust instead of the system's")
        self.ca_browse = QPushButton("Browse…", page)
        self.ca_browse.clicked.connect(self._browse_ca)
        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(self.ca_browse)
        self._ca_field = QWidget(page)
        self._ca_field.setLayout(ca_row)
        self._ca_field.setFocusProxy(self.ca_bundle)

        self.source = QComboBox(page)
        self.source.addItem("Standard AWS credential chain", CHAIN)
        self.source.addItem("A profile in the AWS credentials file", PROFILE)
        self.source.addItem("Access key stored in the OS keyring", KEYRING)
        self.source.currentIndexChanged.connect(self._update_rows)
        self.profile = QLineEdit(page)
        self.profile.setPlaceholderText("Profile name, e.g. backup")
        self.access_key_id = QLineEdit(page)
        self.secret = QLineEdit(page)
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setInputMethodHints(
            Qt.InputMethodHint.ImhHiddenText
            | Qt.InputMethodHint.ImhSensitiveData
            | Qt.InputMethodHint.ImhNoPredictiveText
        )

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self._form = form
        form.addRow("&Endpoint URL:", self._with_error("endpoint_url", self.endpoint))
        form.addRow("&Region:", self.region)
        form.addRow("&Bucket:", self._with_error("bucket", self.bucket))
        form.addRow("Key &prefix:", self._with_error("prefix", self.prefix))
        form.addRow("&Addressing:", self.addressing)
        form.addRow("", self.verify_tls)
        form.addRow("&CA bundle:", self._ca_field)
        form.addRow("&Keys from:", self.source)
        form.addRow("Pro&file:", self._with_error("profile", self.profile))
        form.addRow("Access key &ID:", self._with_error("access_key_id", self.access_key_id))
        form.addRow("&Secret access key:", self.secret)
        self.errors[""] = _ErrorLabel(page)

        self.test_button = QPushButton("&Test connection", page)
        self.test_button.setToolTip(
            "List, write, read and delete a small test object with the values above, "
            "without saving them"
        )
        self.test_button.clicked.connect(self.test_connection)
        self.remove_button = QPushButton("Remo&ve remote…", page)
        self.remove_button.setToolTip("Forget this bucket and its keys (the bucket is not touched)")
        self.remove_button.clicked.connect(self.ask_remove_remote)
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.remove_button)

        self.test_result = QLabel(page)
        self.test_result.setWordWrap(True)
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(page)
        layout.addLayout(form)
        layout.addWidget(self.errors[""])
        layout.addLayout(actions)
        layout.addWidget(self.test_result)
        layout.addStretch(1)
        self._update_rows()
        return page

    def _with_error(self, name: str, edit: QLineEdit) -> QWidget:
        """``edit`` with its error label underneath; typing clears the error."""
        holder = QWidget(edit.parentWidget())
        box = QVBoxLayout(holder)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        edit.setParent(holder)
        holder.setFocusProxy(edit)  # so that the row label's shortcut lands in the field
        box.addWidget(edit)
        label = _ErrorLabel(holder)
        box.addWidget(label)
        self.errors[name] = label
        self._holders[name] = holder
        edit.textEdited.connect(lambda _text: label.show_message(""))
        return holder

    def _build_storage_tab(self) -> QWidget:
        page = QWidget(self)

        thumbs = QGroupBox("Thumbnails", page)
        self.thumb_slider = QSlider(Qt.Orientation.Horizontal, thumbs)
        self.thumb_slider.setRange(THUMBNAIL_MIN, THUMBNAIL_MAX)
        self.thumb_slider.setSingleStep(16)
        self.thumb_slider.setPageStep(64)
        self.thumb_size = QSpinBox(thumbs)
        self.thumb_size.setRange(THUMBNAIL_MIN, THUMBNAIL_MAX)
        self.thumb_size.setSingleStep(16)
        self.thumb_size.setSuffix(" px")
        self.thumb_slider.valueChanged.connect(self.thumb_size.setValue)
        self.thumb_size.valueChanged.connect(self.thumb_slider.setValue)
        row = QHBoxLayout()
        row.addWidget(self.thumb_slider, 1)
        row.addWidget(self.thumb_size)
        thumbs_form = QFormLayout(thumbs)
        size_label = QLabel("Grid cell &size:", thumbs)
        size_label.setBuddy(self.thumb_size)
        thumbs_form.addRow(size_label, row)

        cache = QGroupBox("Thumbnail and preview cache", page)
        self.cache_size = QSpinBox(cache)
        self.cache_size.setRange(CACHE_MIN // MB, CACHE_MAX // MB)
        self.cache_size.setSingleStep(100)
        self.cache_size.setSuffix(" MB")
        self.cache_size.setGroupSeparatorShown(True)
        self.cache_usage = QLabel(cache)
        self.clear_cache_button = QPushButton("&Clear cache", cache)
        self.clear_cache_button.setToolTip("Thumbnails and previews are made again when needed")
        self.clear_cache_button.clicked.connect(self.clear_cache)
        usage_row = QHBoxLayout()
        usage_row.addWidget(self.cache_usage, 1)
        usage_row.addWidget(self.clear_cache_button)
        cache_form = QFormLayout(cache)
        cache_form.addRow("&Limit:", self.cache_size)
        cache_form.addRow("In use:", usage_row)

        space = QGroupBox("Space on this computer", page)
        self.budget_enabled = QCheckBox("Keep at &most", space)
        self.budget = QDoubleSpinBox(space)
        self.budget.setRange(0.1, 1_000_000.0)
        self.budget.setDecimals(1)
        self.budget.setSingleStep(1.0)
        self.budget.setSuffix(" GB")
        self.budget.setValue(20.0)
        self.budget.setGroupSeparatorShown(True)
        self.budget_enabled.toggled.connect(self.budget.setEnabled)
        self.budget.setEnabled(False)
        budget_row = QHBoxLayout()
        budget_row.addWidget(self.budget_enabled)
        budget_row.addWidget(self.budget, 1)
        self.local_usage = QLabel(space)
        explain = QLabel(
            "Beyond this, content that is safely in the bucket is removed from this "
            "computer and downloads again when opened. Without a limit everything stays.",
            space,
        )
        explain.setWordWrap(True)
        space_form = QFormLayout(space)
        space_form.addRow("Budget:", budget_row)  # the check box has its own shortcut
        space_form.addRow("On this computer:", self.local_usage)
        space_form.addRow(explain)

        self.preference_error = _ErrorLabel(page)
        layout = QVBoxLayout(page)
        layout.addWidget(thumbs)
        layout.addWidget(cache)
        layout.addWidget(space)
        layout.addWidget(self.preference_error)
        layout.addStretch(1)
        return page

    def _build_versions_tab(self) -> QWidget:
        page = QWidget(self)
        box = QGroupBox("Old versions", page)
        explain = QLabel(
            "A file gets a new version whenever its content changes (a new upload, a file "
            "dropped onto it, a restore). Choose how many old ones to keep. The current "
            "version, and versions shared by a link that is still active, are always kept.",
            box,
        )
        explain.setWordWrap(True)
        self.keep_all = QRadioButton("Keep &every version", box)
        self.keep_last = QRadioButton("Keep the &last", box)
        self.keep_last_count = QSpinBox(box)
        self.keep_last_count.setRange(1, MAX_KEEP_LAST)
        self.keep_last_count.setValue(10)
        self.keep_last_count.setSuffix(" versions of each file")
        self.keep_last_count.setAccessibleName("Versions to keep of each file")
        self.keep_by_age = QRadioButton("Keep every version for", box)
        self.keep_days = QSpinBox(box)
        self.keep_days.setRange(0, MAX_DAYS)
        self.keep_days.setValue(7)
        self.keep_days.setSuffix(" days")
        self.keep_days.setAccessibleName("Days to keep every version")
        self.keep_weeks = QSpinBox(box)
        self.keep_weeks.setRange(0, MAX_WEEKS)
        self.keep_weeks.setValue(4)
        self.keep_weeks.setPrefix("then one per day for ")
        self.keep_weeks.setSuffix(" weeks")
        self.keep_weeks.setAccessibleName("Weeks to keep one version a day")
        self.keep_weeks.setToolTip("Older versions than that are removed")
        last_row = QHBoxLayout()
        last_row.addWidget(self.keep_last)
        last_row.addWidget(self.keep_last_count)
        last_row.addStretch(1)
        age_row = QHBoxLayout()
        age_row.addWidget(self.keep_by_age)
        age_row.addWidget(self.keep_days)
        age_row.addWidget(self.keep_weeks)
        age_row.addStretch(1)
        when = QLabel(
            "The choice applies to a file each time it gets a new version; Apply now applies "
            "it to every file at once. Content no version uses any more is removed from this "
            "computer; the bucket's copy goes at the next cleanup, and not while a catalog "
            "backup in the bucket still refers to it.",
            box,
        )
        when.setWordWrap(True)
        self.prune_button = QPushButton("Apply n&ow…", box)
        self.prune_button.setToolTip(
            "Remove the old versions the choice above does not keep, in every file "
            "(you are asked first, with what would go)"
        )
        self.prune_button.clicked.connect(self.prune_now)
        self.keep_all.setChecked(True)
        for radio in (self.keep_all, self.keep_last, self.keep_by_age):
            radio.toggled.connect(self._update_retention_rows)
        self.prune_result = QLabel(box)
        self.prune_result.setWordWrap(True)
        self.prune_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prune_result.setAccessibleName("What Apply now did")
        prune_row = QHBoxLayout()
        prune_row.addWidget(self.prune_button)
        prune_row.addWidget(self.prune_result, 1)
        layout = QVBoxLayout(box)
        layout.addWidget(explain)
        layout.addWidget(self.keep_all)
        layout.addLayout(last_row)
        layout.addLayout(age_row)
        layout.addWidget(when)
        layout.addLayout(prune_row)
        outer = QVBoxLayout(page)
        outer.addWidget(box)
        outer.addStretch(1)
        self._update_retention_rows()
        return page

    # -- the form ---------------------------------------------------------------------

    def form_retention(self) -> RetentionPolicy:
        """The retention policy as the Versions tab stands now."""
        if self.keep_last.isChecked():
            return RetentionPolicy.last(self.keep_last_count.value())
        if self.keep_by_age.isChecked():
            return RetentionPolicy.by_age(self.keep_days.value(), self.keep_weeks.value())
        return RetentionPolicy.keep_all()

    def _show_retention(self, policy: RetentionPolicy) -> None:
        self.retention = policy
        self.keep_last_count.setValue(policy.keep_last)
        self.keep_days.setValue(policy.days)
        self.keep_weeks.setValue(policy.weeks)
        radio = {KEEP_LAST: self.keep_last, KEEP_BY_AGE: self.keep_by_age}.get(
            policy.mode, self.keep_all
        )
        radio.setChecked(True)
        self._update_retention_rows()

    @Slot()
    def _update_retention_rows(self) -> None:
        self.keep_last_count.setEnabled(self.keep_last.isChecked())
        self.keep_days.setEnabled(self.keep_by_age.isChecked())
        self.keep_weeks.setEnabled(self.keep_by_age.isChecked())
        self.prune_button.setEnabled(not self.keep_all.isChecked() and not self._pruning)

    def remote_form(self) -> RemoteForm:
        """The remote part of the form as it stands now."""
        # Hidden rows keep their text (switching back restores it) but mean nothing.
        source = str(self.source.currentData())
        keyring = source == KEYRING
        return RemoteForm(
            bucket=self.bucket.text(),
            endpoint_url=self.endpoint.text(),
            region=self.region.text(),
            prefix=self.prefix.text(),
            addressing_style=str(self.addressing.currentData()),
            verify_tls=self.verify_tls.isChecked(),
            ca_bundle=self.ca_bundle.text() if self.verify_tls.isChecked() else "",
            source=source,
            profile=self.profile.text() if source == PROFILE else "",
            access_key_id=self.access_key_id.text() if keyring else "",
            secret=self.secret.text() if keyring else "",
        )

    def form_preferences(self) -> Preferences:
        """The preferences as the form stands now (not yet validated)."""
        budget = round(self.budget.value() * GB) if self.budget_enabled.isChecked() else None
        return Preferences(
            thumbnail_size=self.thumb_size.value(),
            cache_bytes=self.cache_size.value() * MB,
            space_budget=budget,
        )

    def _show_remote(self, settings: RemoteSettings) -> None:
        self.remote = settings
        form = RemoteForm.from_settings(settings)
        self.endpoint.setText(form.endpoint_url)
        self.region.setText(form.region)
        self.bucket.setText(form.bucket)
        self.prefix.setText(form.prefix)
        self.addressing.setCurrentIndex(max(self.addressing.findData(form.addressing_style), 0))
        self.verify_tls.setChecked(form.verify_tls)
        self.ca_bundle.setText(form.ca_bundle)
        self.source.setCurrentIndex(max(self.source.findData(form.source), 0))
        self.profile.setText(form.profile)
        self.access_key_id.setText(form.access_key_id)
        self.secret.clear()
        self.secret.setPlaceholderText(
            "Stored in the keyring; leave empty to keep it"
            if settings.has_secret
            else "Stored in the OS keyring, never shown again"
        )
        self.remove_button.setEnabled(settings.config is not None)
        for label in self.errors.values():
            label.show_message("")
        if settings.problem:
            self.errors[""].show_message(settings.problem)

    def _show_preferences(self, prefs: Preferences) -> None:
        self.preferences = prefs
        self.thumb_size.setValue(prefs.thumbnail_size)
        self.cache_size.setValue(max(prefs.cache_bytes // MB, CACHE_MIN // MB))
        self.budget_enabled.setChecked(prefs.space_budget is not None)
        if prefs.space_budget is not None:
            self.budget.setValue(max(prefs.space_budget / GB, self.budget.minimum()))
        self.preference_error.show_message("")

    @Slot()
    def _update_rows(self) -> None:
        source = self.source.currentData()
        self._form.setRowVisible(self._holders["profile"], source == PROFILE)
        self._form.setRowVisible(self._holders["access_key_id"], source == KEYRING)
        self._form.setRowVisible(self.secret, source == KEYRING)
        self._ca_field.setEnabled(self.verify_tls.isChecked())

    @Slot()
    def _browse_ca(self) -> None:
        dialog = QFileDialog(self, "Choose a CA bundle")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setNameFilters(["Certificates (*.pem *.crt *.cer)", "All files (*)"])
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.fileSelected.connect(self.ca_bundle.setText)
        dialog.open()

    def _remote_errors(self, form: RemoteForm) -> bool:
        """Show ``form``'s field errors in place; True if there were any."""
        errors = form.field_errors()
        for name, label in self.errors.items():
            label.show_message(errors.get(name, ""))
        if errors:
            self.tabs.setCurrentIndex(0)
        return bool(errors)

    # -- busy state -------------------------------------------------------------------

    def _set_busy(self, message: str) -> None:
        self.tabs.setEnabled(False)
        for button in (
            QDialogButtonBox.StandardButton.Ok,
            QDialogButtonBox.StandardButton.Apply,
        ):
            self.buttons.button(button).setEnabled(False)
        self.status.setText(message)

    def _set_idle(self, message: str = "") -> None:
        self.tabs.setEnabled(True)
        for button in (
            QDialogButtonBox.StandardButton.Ok,
            QDialogButtonBox.StandardButton.Apply,
        ):
            self.buttons.button(button).setEnabled(True)
        self.status.setText(message)

    @property
    def busy(self) -> bool:
        """True while the settings are being loaded or saved."""
        return not self._loaded or self._saving

    @property
    def testing(self) -> bool:
        """True while Test connection is running."""
        return self._test_task is not None

    # -- loading ----------------------------------------------------------------------

    def _on_loaded(self, loaded: tuple[Preferences, RemoteSettings, RetentionPolicy]) -> None:
        prefs, remote, retention = loaded
        self._loaded = True
        self._show_preferences(prefs)
        self._show_remote(remote)
        self._show_retention(retention)
        self._set_idle()
        self.refresh_usage()

    def _on_load_failed(self, exc: BaseException) -> None:
        # Both readers turn known problems into values; this is a bug.
        log.error("loading the settings failed", exc_info=(type(exc), exc, exc.__traceback__))
        self._loaded = True
        self._set_idle("The saved settings could not be read; the log has details.")

    def refresh_usage(self) -> None:
        """Measure the cache and the local content again (off the GUI thread)."""
        if self._usage_task is not None:
            self._usage_task.cancel()
        self.cache_usage.setText("Measuring…")
        self.local_usage.setText("Counting…")
        vault = self.vault

        def measure() -> tuple[int, int]:  # pool thread
            return cache_usage(vault.paths), vault.local_bytes()

        self._usage_task = self.tasks.run(measure, self._on_usage, self._on_usage_failed)

    def _on_usage(self, usage: tuple[int, int]) -> None:
        self._usage_task = None
        cache, local = usage
        self.cache_usage.setText(human_size(cache))
        self.local_usage.setText(f"{human_size(local)} of content")

    def _on_usage_failed(self, exc: BaseException) -> None:
        self._usage_task = None
        if not isinstance(exc, VaultError):
            log.error("measuring the cache failed", exc_info=(type(exc), exc, exc.__traceback__))
        self.cache_usage.setText("Unknown")
        self.local_usage.setText("Unknown")
        self.status.setText(
            exc.message if isinstance(exc, VaultError) else "Could not measure the space used."
        )

    # -- cache ------------------------------------------------------------------------

    @Slot()
    def clear_cache(self) -> None:
        """Delete the cached thumbnails and previews (off the GUI thread), then re-measure."""
        self.clear_cache_button.setEnabled(False)
        self.cache_usage.setText("Clearing…")
        paths = self.vault.paths
        self.tasks.run(lambda: clear_cache(paths), self._on_cache_cleared, self._on_clear_failed)

    def _on_cache_cleared(self, freed: int) -> None:
        self.clear_cache_button.setEnabled(True)
        self.status.setText(f"Cache cleared: {human_size(freed)} freed.")
        self.refresh_usage()

    def _on_clear_failed(self, exc: BaseException) -> None:
        self.clear_cache_button.setEnabled(True)
        if isinstance(exc, VaultError):
            self.status.setText(_words(exc))
        else:
            log.error("clearing the cache failed", exc_info=(type(exc), exc, exc.__traceback__))
            self.status.setText("The cache could not be cleared; the log has details.")
        self.refresh_usage()

    # -- test connection --------------------------------------------------------------

    @Slot()
    def test_connection(self) -> None:
        """Run the remote check on the form's values (not saved), off the GUI thread."""
        if self.testing:
            return
        form = self.remote_form()
        if self._remote_errors(form):
            self.test_result.setText("Fix the fields marked above, then test again.")
            return
        self.test_button.setEnabled(False)
        self.test_button.setText("Testing…")
        where = form.endpoint_url.strip() or "AWS S3"
        self.test_result.setText(f"Testing the connection to {where}…")
        paths = self.vault.paths

        def check() -> list[CheckResult]:  # pool thread
            return check_remote_form(paths, form.config(), form.access_key_id, form.secret)

        self._test_task = self.tasks.run(check, self._on_tested, self._on_test_failed)

    def _tested(self) -> None:
        self._test_task = None
        self.test_button.setEnabled(True)
        self.test_button.setText("&Test connection")

    def _on_tested(self, results: list[CheckResult]) -> None:
        self._tested()
        _ok, text = describe_check(results)
        self.test_result.setText(text)

    def _on_test_failed(self, exc: BaseException) -> None:
        self._tested()
        if isinstance(exc, VaultError):
            text = f"The connection could not be tested: {exc.message}"
            if exc.hint:
                text += f"\n    What to do: {exc.hint}"
        else:
            log.error("the connection test failed", exc_info=(type(exc), exc, exc.__traceback__))
            text = "The connection test failed unexpectedly; the log has details."
        self.test_result.setText(text)

    # -- remove -----------------------------------------------------------------------

    @Slot()
    def ask_remove_remote(self) -> QMessageBox:
        """Ask whether to forget the remote (without blocking); Yes removes it. Returns the box.

        The dialog makes the box once and keeps it: a box that deleted itself on
        closing would go while this dialog (and its answer slot) still held it.
        """
        config = self.remote.config
        bucket = config.spec.bucket if config is not None else ""
        box = self.remove_box
        if box is None:
            box = QMessageBox(
                QMessageBox.Icon.Question,
                "Remove remote",
                "",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                self,
            )
            box.setInformativeText(
                "The bucket and what is in it are not touched; keys stored in the keyring for "
                "it are forgotten. Files whose content is only in the bucket cannot be opened "
                "until a remote is set again."
            )
            box.button(QMessageBox.StandardButton.Yes).setText("Remove")
            box.finished.connect(self._on_remove_answer)
            self.remove_box = box
        box.setText(f"Stop backing this vault up to the bucket “{bucket}”?")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.open()
        return box

    @Slot(int)
    def _on_remove_answer(self, _result: int) -> None:
        box = self.remove_box
        if box is None or box.standardButton(box.clickedButton()) != QMessageBox.StandardButton.Yes:
            return
        self._saving = True
        self._set_busy("Removing the remote…")
        paths = self.vault.paths
        self.tasks.run(lambda: unset_remote(paths), self._on_removed, self._on_save_failed)

    def _on_removed(self, outcome: tuple[bool, bool, list[str]]) -> None:
        self._saving = False
        _removed, _forgot, warnings = outcome
        self._show_remote(RemoteSettings(None))
        self.test_result.clear()
        self._set_idle(" ".join(["Remote removed; the bucket was not touched.", *warnings]))
        self.remote_changed.emit()

    # -- saving -----------------------------------------------------------------------

    def _remote_to_save(self) -> tuple[bool, RemoteForm | None]:
        """(form is fine, the form to save or None when the remote is unchanged)."""
        form = self.remote_form()
        saved = RemoteForm.from_settings(self.remote)
        if form == saved:
            return True, None
        if self.remote.config is None and form.is_empty():
            return True, None
        if self._remote_errors(form):
            return False, None
        return True, form

    def apply(self, close_after: bool = False) -> bool:
        """Save what changed (off the GUI thread); False if the form has errors or is busy."""
        if self.busy:
            return False
        prefs = self.form_preferences()
        try:
            validate_preferences(prefs)
        except InvalidPreference as exc:
            self.preference_error.show_message(_words(exc))
            self.tabs.setCurrentIndex(1)
            return False
        self.preference_error.show_message("")
        ok, form = self._remote_to_save()
        if not ok:
            return False
        changed_prefs = prefs if prefs != self.preferences else None
        retention = self.form_retention()
        changed_retention = retention if retention != self.retention else None
        if changed_prefs is None and form is None and changed_retention is None:
            if close_after:
                self.accept()
            return True
        self._saving = True
        self._close_after_save = close_after
        self._set_busy("Saving…")
        paths, vault = self.vault.paths, self.vault
        self.tasks.run(
            lambda: _save(paths, changed_prefs, form, vault, changed_retention),
            self._on_saved,
            self._on_save_failed,
        )
        return True

    def _on_saved(self, saved: _Saved) -> None:
        self._saving = False
        if saved.retention is not None:
            self.retention = saved.retention
        if saved.prefs is not None:
            self.preferences = saved.prefs
            self.preferences_changed.emit(saved.prefs)
        if saved.remote_error is not None:
            self._close_after_save = False
            self.errors[""].show_message(_words(saved.remote_error))
            self.tabs.setCurrentIndex(0)
            self._set_idle(
                "The remote was not saved."
                if saved.prefs is None
                else ("The preferences were saved; the remote was not.")
            )
            return
        if saved.remote is not None:
            self._show_remote(saved.remote)
            self.remote_changed.emit()
        self._set_idle(" ".join(["Settings saved.", *saved.warnings]))
        if self._close_after_save:
            self._close_after_save = False
            self.accept()

    def _on_save_failed(self, exc: BaseException) -> None:
        self._saving = False
        self._close_after_save = False
        if isinstance(exc, VaultError):
            self._set_idle(_words(exc))
        else:
            log.error("saving the settings failed", exc_info=(type(exc), exc, exc.__traceback__))
            self._set_idle("The settings could not be saved; the log has details.")

    @Slot()
    def _on_ok(self) -> None:
        self.apply(close_after=True)

    @Slot(QAbstractButton)
    def _on_button(self, button: QAbstractButton) -> None:
        if self.buttons.buttonRole(button) == QDialogButtonBox.ButtonRole.ApplyRole:
            self.apply()

    # -- versions: apply now ----------------------------------------------------------

    @Slot()
    def prune_now(self) -> None:
        """Work out what the chosen policy would remove (off the GUI thread), then ask."""
        if self._pruning or self.busy:
            return
        policy = self.form_retention()
        if policy.mode == KEEP_ALL:
            return
        self._set_pruning(True, "Looking for old versions…")
        vault = self.vault
        self.tasks.run(
            lambda: vault.prune(dry_run=True, policy=policy),
            lambda report: self._on_prune_preview(policy, report),
            self._on_prune_failed,
        )

    def _set_pruning(self, pruning: bool, message: str | None = None) -> None:
        self._pruning = pruning
        if message is not None:
            self.prune_result.setText(message)
        self._update_retention_rows()

    def _on_prune_preview(self, policy: RetentionPolicy, report: PruneReport) -> None:
        self.last_prune = report
        if not report.versions_removed:
            self._set_pruning(False, describe_prune(report))
            return
        self._set_pruning(False, "")
        box = ask_before(
            self,
            "Remove old versions",
            describe_prune(report),
            f"{policy.describe()}. The choice is saved too. Removed versions cannot be "
            "brought back.",
            "Remove Old Versions",
            lambda: self._prune(policy),
        )
        self.prune_box = box

        def closed(_result: int) -> None:
            self.prune_box = None

        box.finished.connect(closed)

    def _prune(self, policy: RetentionPolicy) -> None:  # the user said yes
        self._set_pruning(True, "Removing old versions…")
        vault = self.vault

        def prune() -> tuple[RetentionPolicy, PruneReport]:  # pool thread
            stored = vault.set_retention(policy)
            return stored, vault.prune()

        self.tasks.run(prune, self._on_pruned, self._on_prune_failed)

    def _on_pruned(self, outcome: tuple[RetentionPolicy, PruneReport]) -> None:
        policy, report = outcome
        self.retention = policy
        self.last_prune = report
        self._set_pruning(False, describe_prune(report))
        if report.files:
            self.versions_pruned.emit(report.changes)

    def _on_prune_failed(self, exc: BaseException) -> None:
        if isinstance(exc, VaultError):
            self._set_pruning(False, _words(exc))
        else:
            log.error("applying the retention failed", exc_info=(type(exc), exc, exc.__traceback__))
            self._set_pruning(False, "Old versions could not be removed; the log has details.")

    # -- Qt overrides -----------------------------------------------------------------

    def done(self, result: int) -> None:
        # A save finishes first (the buttons are disabled meanwhile; this guards Escape),
        # so that remote_changed is never lost. A running test or measurement is dropped.
        if self._saving:
            return
        for task in (self._test_task, self._usage_task):
            if task is not None:
                task.cancel()
        if self._test_task is not None:
            self._tested()
        self._usage_task = None
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._saving:
            event.ignore()
            return
        super().closeEvent(event)
