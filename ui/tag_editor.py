"""Editing tags: the tag editor for selected files, and the small dialogs the tree's
Tags menu opens.

:class:`TagEditor` shows every tag as a checkbox with its colour, for one or
many files: checked when all of them carry it, unchecked when none does, and
mixed (partially checked) when some do. A click on a mixed tag goes to checked
(all files get it), then unchecked (none has it), then back to mixed (each file
keeps what it has); a tag left as it was is not touched. The filter field
narrows the list as one types (Enter checks or unchecks the one tag left);
when what is typed names no tag, "Create tag “…”" (or Enter) adds it (checked) with the palette's next colour, which the swatch
button beside it changes. Nothing is written until Apply, which makes one
:meth:`app.vault.Vault.tag_files` call (new tags included) on the task
manager's pool; reading the tags' state runs there too.

:class:`NewTagDialog` asks for a new tag's name and colour; :class:`ColorChoice`
is its row of palette swatches with "Other…" (a :class:`QColorDialog`). Both
open non-blocking (``open()``) and report through signals.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.errors import VaultError
from app.naming import name_key
from app.rows import TagChanges, TagState
from app.tags import PALETTE, tag_problems
from app.vault import Vault
from ui.tag_chips import swatch_icon
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

TAG_ID_ROLE = Qt.ItemDataRole.UserRole + 1  # int for an existing tag, None for a new one
NEW_TAG_ROLE = Qt.ItemDataRole.UserRole + 2  # (name, colour) of a tag to create
ORIGINAL_ROLE = Qt.ItemDataRole.UserRole + 3  # the check state the selection has now
PREVIOUS_ROLE = Qt.ItemDataRole.UserRole + 4  # the check state before the last click

_STATES = {
    "all": Qt.CheckState.Checked,
    "some": Qt.CheckState.PartiallyChecked,
    "none": Qt.CheckState.Unchecked,
}


def next_palette_color(used: Iterable[str]) -> str:
    """The palette colour used least by ``used`` colours (the first such, in palette order)."""
    counts: dict[str, int] = {}
    for color in used:
        counts[color.lower()] = counts.get(color.lower(), 0) + 1
    return min((c for _n, c in PALETTE), key=lambda c: counts.get(c, 0))


def pick_other_color(
    parent: QWidget, initial: str, on_color: Callable[[str], None]
) -> QColorDialog:
    """Open a :class:`QColorDialog` (non-blocking) and call ``on_color("#rrggbb")`` on OK."""
    dialog = QColorDialog(QColor(initial) if initial else QColor(PALETTE[0][1]), parent)
    dialog.setWindowTitle("Tag Colour")
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.colorSelected.connect(lambda color: on_color(color.name()))
    dialog.open()
    return dialog


def color_menu(parent: QWidget, on_color: Callable[[str], None], current: str = "") -> QMenu:
    """A menu of the palette's colours (with their swatches) and "Other…"."""
    menu = QMenu(parent)
    for name, color in PALETTE:
        action = menu.addAction(swatch_icon(color), name.capitalize())
        action.setCheckable(True)
        action.setChecked(color == current)
        action.triggered.connect(lambda _=False, c=color: on_color(c))
    menu.addSeparator()
    other = menu.addAction("Other…")
    other.triggered.connect(lambda: pick_other_color(parent, current, on_color))
    return menu


class ColorChoice(QWidget):
    """The palette's colours as round swatch buttons, plus "Other…" for any colour.

    Arrow keys and Tab move between swatches; Space picks one.

    Signals:
        color_changed(str): the chosen colour, ``#rrggbb``.
    """

    color_changed = Signal(str)

    def __init__(self, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._color = color
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        self._buttons: dict[str, QToolButton] = {}
        for name, value in PALETTE:
            button = QToolButton(self)
            button.setIcon(swatch_icon(value, 20))
            button.setCheckable(True)
            button.setAutoRaise(True)
            button.setToolTip(name.capitalize())
            button.setAccessibleName(name.capitalize())
            button.clicked.connect(lambda _=False, c=value: self.set_color(c))
            self._group.addButton(button)
            self._buttons[value] = button
            row.addWidget(button)
        self.other = QPushButton("Other…", self)
        self.other.setToolTip("Choose any colour")
        self.other.clicked.connect(lambda: pick_other_color(self, self._color, self.set_color))
        row.addWidget(self.other)
        row.addStretch(1)
        self.set_color(color)

    @property
    def color(self) -> str:
        """The colour chosen, ``#rrggbb``."""
        return self._color

    def set_color(self, color: str) -> None:
        """Choose ``color`` (a palette colour checks its swatch; another shows on "Other…")."""
        self._color = color.lower()
        button = self._buttons.get(self._color)
        if button is not None:
            button.setChecked(True)
            self.other.setIcon(QIcon())
        else:
            checked = self._group.checkedButton()
            if checked is not None:
                self._group.setExclusive(False)
                checked.setChecked(False)
                self._group.setExclusive(True)
            self.other.setIcon(swatch_icon(self._color))
        self.color_changed.emit(self._color)


class NewTagDialog(QDialog):
    """Asks for a new tag's name and colour; OK is offered only for a valid, unused name.

    Open with ``open()``; on OK, :attr:`chosen` gives ``(name, colour)``.

    Signals:
        chosen(str, str): the name (trimmed) and colour, when the user pressed Create.
    """

    chosen = Signal(str, str)

    def __init__(self, existing: Iterable[str], color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New Tag")
        self._taken = {name_key(n) for n in existing}
        form = QFormLayout()
        self.name_edit = QLineEdit(self)
        self.name_edit.setPlaceholderText("e.g. Holidays")
        self.name_edit.setAccessibleName("Tag name")
        self.name_edit.textChanged.connect(self._check)
        form.addRow("&Name:", self.name_edit)
        self.colors = ColorChoice(color, self)
        self.colors.setAccessibleName("Tag colour")
        form.addRow("Colour:", self.colors)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setObjectName("problem")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.create_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText("Create")
        self.buttons.accepted.connect(self._create)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self._check()

    def _problem(self) -> str:
        text = self.name_edit.text()
        if not text.strip():
            return ""
        found = tag_problems(text)
        if found:
            return found[0]
        if name_key(text.strip()) in self._taken:
            return f"There is already a tag named “{text.strip()}”."
        return ""

    def _check(self) -> None:
        problem = self._problem()
        self.problem.setText(problem)
        self.problem.setVisible(bool(problem))
        self.create_button.setEnabled(bool(self.name_edit.text().strip()) and not problem)

    def _create(self) -> None:
        if not self.create_button.isEnabled():
            return
        self.chosen.emit(self.name_edit.text().strip(), self.colors.color)
        self.accept()


class TagEditor(QDialog):
    """Check and uncheck the tags of one or many files; Apply writes them in one go.

    Create on the GUI thread; open with ``open()`` or ``show()``. The tags'
    state is read on ``tasks``' pool when the dialog is made; until then the
    list is disabled.

    Attributes:
        file_ids: the files edited.
        filter_edit: the filter field (typing a new name offers to create it).
        tag_list: one checkable row per tag (tri-state for a mixed selection).
        create_button: "Create tag “…”", shown when the filter names no tag.
        color_button: the swatch button choosing the colour of a tag being created.
        status: loading, error and summary messages.

    Signals:
        tags_changed(TagChanges): Apply went through; what changed.
        loaded(): the tags' state arrived and the list is filled.
    """

    tags_changed = Signal(object)
    loaded = Signal()

    def __init__(
        self,
        vault: Vault,
        tasks: TaskManager,
        file_ids: Sequence[int],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._vault = vault
        self._tasks = tasks
        self.file_ids = tuple(dict.fromkeys(file_ids))
        self._states: list[TagState] = []
        self._busy = False
        count = len(self.file_ids)
        self.setWindowTitle("Tags" if count == 1 else f"Tags of {count} Files")
        self.resize(360, 440)

        intro = QLabel(
            "Check the tags this file should have."
            if count == 1
            else f"Check the tags all {count} files should have. A tag shown as mixed leaves "
            "each file as it is.",
            self,
        )
        intro.setWordWrap(True)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter, or type a new tag")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setAccessibleName("Filter tags")
        self.filter_edit.setToolTip("Type to find a tag; Enter creates it when there is none")
        self.filter_edit.textChanged.connect(self._filter)
        self.filter_edit.installEventFilter(self)

        self.create_button = QPushButton(self)
        self.create_button.setObjectName("create_tag")
        self.create_button.setAccessibleName("Create tag")
        self.create_button.clicked.connect(self.create_from_filter)
        self._new_color = PALETTE[0][1]
        self.color_button = QToolButton(self)
        self.color_button.setObjectName("new_tag_color")
        self.color_button.setAccessibleName("Colour of the new tag")
        self.color_button.setToolTip("Colour of the new tag")
        self.color_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.color_button.setMenu(color_menu(self, self._set_new_color, self._new_color))
        create_row = QHBoxLayout()
        create_row.setContentsMargins(0, 0, 0, 0)
        create_row.addWidget(self.create_button, 1)
        create_row.addWidget(self.color_button)

        self.tag_list = QListWidget(self)
        self.tag_list.setAccessibleName("Tags")
        self.tag_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tag_list.itemChanged.connect(self._item_changed)
        self.tag_list.setEnabled(False)

        self.status = QLabel("Loading tags…", self)
        self.status.setObjectName("status")
        self.status.setWordWrap(True)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Apply | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.apply_button.setDefault(False)
        self.apply_button.setAutoDefault(False)
        self.apply_button.setEnabled(False)
        self.apply_button.clicked.connect(self.apply)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.filter_edit)
        layout.addLayout(create_row)
        layout.addWidget(self.tag_list, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._update_create()
        self._load()

    # -- loading -------------------------------------------------------------------

    def _load(self) -> None:
        vault, ids = self._vault, list(self.file_ids)

        def read() -> list[TagState]:
            return vault.tag_state(ids)  # pool thread: the catalog only, no Qt objects

        self._tasks.run(read, self._fill, self._load_failed, name="tag editor: load", owner=self)

    def _fill(self, states: list[TagState]) -> None:
        self._states = states
        self.tag_list.blockSignals(True)
        self.tag_list.clear()
        for state in states:
            item = QListWidgetItem(swatch_icon(state.color), state.name)
            item.setFlags(
                Qt.ItemFlag.ItemIsEnabled
                | Qt.ItemFlag.ItemIsUserCheckable
                | Qt.ItemFlag.ItemIsSelectable
            )
            check = _STATES[state.state]
            item.setCheckState(check)
            item.setData(TAG_ID_ROLE, state.id)
            item.setData(ORIGINAL_ROLE, check)
            item.setData(PREVIOUS_ROLE, check)
            files = "file" if state.total == 1 else "files"
            tip = f"{state.name}: on {state.total:,} {files}"
            if state.state == "some":
                tip += f"; {state.files} of the {len(self.file_ids)} selected"
            item.setToolTip(tip)
            self.tag_list.addItem(item)
        self.tag_list.blockSignals(False)
        self._new_color = next_palette_color(s.color for s in states)
        self._set_new_color(self._new_color)
        self.tag_list.setEnabled(True)
        self.status.setText("" if states else "No tags yet: type a name above to create one.")
        self._filter(self.filter_edit.text())
        self._update_apply()
        self.loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        if isinstance(exc, VaultError):
            self.status.setText(exc.message)
        else:
            log.error("tag editor: reading tags failed", exc_info=exc)
            self.status.setText("The tags could not be read; the log has details.")

    # -- the list ------------------------------------------------------------------

    def items(self) -> list[QListWidgetItem]:
        """Every row, in order (hidden ones included)."""
        return [self.tag_list.item(i) for i in range(self.tag_list.count())]

    def item_named(self, name: str) -> QListWidgetItem | None:
        """The row of the tag called ``name`` (ignoring case), or None."""
        key = name_key(name.strip())
        return next((i for i in self.items() if name_key(i.text()) == key), None)

    def _item_changed(self, item: QListWidgetItem) -> None:
        previous = item.data(PREVIOUS_ROLE)
        state = item.checkState()
        # A mixed tag cycles mixed → checked → unchecked → mixed, so that a click too
        # many can be taken back; Qt's own cycle never returns to mixed.
        if (
            item.data(ORIGINAL_ROLE) == Qt.CheckState.PartiallyChecked
            and previous == Qt.CheckState.Unchecked
            and state == Qt.CheckState.Checked
        ):
            state = Qt.CheckState.PartiallyChecked
            self.tag_list.blockSignals(True)
            item.setCheckState(state)
            self.tag_list.blockSignals(False)
        item.setData(PREVIOUS_ROLE, state)
        self._update_apply()

    def _filter(self, text: str) -> None:
        key = name_key(text.strip())
        for item in self.items():
            item.setHidden(bool(key) and key not in name_key(item.text()))
        self._update_create()

    def _update_create(self) -> None:
        text = self.filter_edit.text().strip()
        offer = (
            bool(text)
            and self.tag_list.isEnabled()
            and not tag_problems(text)
            and self.item_named(text) is None
        )
        self.create_button.setText(f"Create tag “{text}”" if offer else "Create tag")
        self.create_button.setVisible(offer)
        self.color_button.setVisible(offer)
        problems = tag_problems(text) if text else []
        if problems and self.tag_list.isEnabled():
            self.status.setText(problems[0])
        elif self.tag_list.isEnabled() and self.status.text().startswith("A tag"):
            self.status.setText("")

    def _set_new_color(self, color: str) -> None:
        self._new_color = color
        self.color_button.setIcon(swatch_icon(color))
        self.color_button.setMenu(color_menu(self, self._set_new_color, color))

    def create_from_filter(self) -> QListWidgetItem | None:
        """Add the tag typed in the filter field, checked, to be created on Apply."""
        text = self.filter_edit.text().strip()
        if not text or tag_problems(text) or self.item_named(text) is not None:
            return None
        item = QListWidgetItem(swatch_icon(self._new_color), text)
        item.setFlags(
            Qt.ItemFlag.ItemIsEnabled
            | Qt.ItemFlag.ItemIsUserCheckable
            | Qt.ItemFlag.ItemIsSelectable
        )
        self.tag_list.blockSignals(True)
        item.setCheckState(Qt.CheckState.Checked)
        item.setData(TAG_ID_ROLE, None)
        item.setData(NEW_TAG_ROLE, (text, self._new_color))
        item.setData(ORIGINAL_ROLE, Qt.CheckState.Unchecked)
        item.setData(PREVIOUS_ROLE, Qt.CheckState.Checked)
        item.setToolTip(f"{text}: new, created when you apply")
        self.tag_list.insertItem(0, item)
        self.tag_list.blockSignals(False)
        used = [s.color for s in self._states] + [
            i.data(NEW_TAG_ROLE)[1] for i in self.items() if i.data(NEW_TAG_ROLE)
        ]
        self._set_new_color(next_palette_color(used))
        self.filter_edit.clear()
        self.tag_list.setCurrentItem(item)
        self._update_apply()
        return item

    def pending(self) -> tuple[list[int | str], list[int], dict[str, str]]:
        """What Apply would do: tags to add (ids, and names of new ones), tags to remove,
        and the new tags' colours by name."""
        add: list[int | str] = []
        remove: list[int] = []
        colors: dict[str, str] = {}
        for item in self.items():
            state = item.checkState()
            new = item.data(NEW_TAG_ROLE)
            if new:
                if state == Qt.CheckState.Checked:
                    add.append(new[0])
                    colors[new[0]] = new[1]
                continue
            if state == item.data(ORIGINAL_ROLE):
                continue
            tag_id = int(item.data(TAG_ID_ROLE))
            if state == Qt.CheckState.Checked:
                add.append(tag_id)
            elif state == Qt.CheckState.Unchecked:
                remove.append(tag_id)
        return add, remove, colors

    def _update_apply(self) -> None:
        add, remove, _colors = self.pending()
        self.apply_button.setEnabled(not self._busy and bool(add or remove))

    # -- applying ------------------------------------------------------------------

    def apply(self) -> None:
        """Write the changes (in the background); the dialog closes when they are in."""
        add, remove, colors = self.pending()
        if self._busy or not (add or remove):
            return
        self._busy = True
        self._update_apply()
        self.tag_list.setEnabled(False)
        self.status.setText("Saving…")
        vault, ids = self._vault, list(self.file_ids)

        def write() -> TagChanges:
            # Pool thread: one transaction in the catalog, no Qt objects.
            return vault.tag_files(ids, add=add, remove=remove, create=True, colors=colors)

        self._tasks.run(
            write, self._applied, self._apply_failed, name="tag editor: apply", owner=self
        )

    def _applied(self, changes: TagChanges) -> None:
        self._busy = False
        self.tags_changed.emit(changes)
        self.accept()

    def _apply_failed(self, exc: BaseException) -> None:
        self._busy = False
        self.tag_list.setEnabled(True)
        if isinstance(exc, VaultError):
            self.status.setText(f"{exc.message} {exc.hint}".strip())
        else:
            log.error("tag editor: applying failed", exc_info=exc)
            self.status.setText("The tags could not be saved; the log has details.")
        self._update_apply()

    # -- keys ----------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Enter in the filter: create the tag typed, or toggle the one tag it shows;
        # Down moves into the list.
        if (
            watched is self.filter_edit
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
        ):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self._enter_in_filter()
                return True
            if event.key() == Qt.Key.Key_Down:
                self.tag_list.setFocus()
                visible = [i for i in self.items() if not i.isHidden()]
                if visible:
                    self.tag_list.setCurrentItem(visible[0])
                return True
        return super().eventFilter(watched, event)

    def _enter_in_filter(self) -> None:
        text = self.filter_edit.text().strip()
        if not text:
            return
        # The one tag the filter leaves is what Enter means; the Create button stays
        # for a new name that is part of an existing one ("Birth" beside "Birthday").
        visible = [i for i in self.items() if not i.isHidden()]
        if len(visible) == 1:
            item = visible[0]
            checked = item.checkState() == Qt.CheckState.Checked
            item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
            self.filter_edit.clear()
        elif self.create_button.isVisible():
            self.create_from_filter()
