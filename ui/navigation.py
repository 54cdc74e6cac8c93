"""Where the user has been and where they are: back/forward history and the breadcrumb."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QSizePolicy, QToolButton, QWidget

from app.browse import FolderNode, Source

HISTORY_LIMIT = 100
SIZE_HINT_WIDTH = 240  # the breadcrumb's, in pixels

SOURCE_TITLES = {
    "all": "All files",
    "favorites": "Favorites",
    "recent": "Recent",
    "shared": "Shared",
    "trash": "Trash",
}


class History:
    """Back and forward over the sources shown, as a browser keeps them."""

    def __init__(self) -> None:
        self._entries: list[Source] = []
        self._at = -1

    @property
    def current(self) -> Source | None:
        return self._entries[self._at] if self._at >= 0 else None

    def visit(self, source: Source) -> None:
        """A new place: forward history is dropped; a repeat of the current one is not kept twice."""
        if self.current == source:
            return
        del self._entries[self._at + 1 :]
        self._entries.append(source)
        if len(self._entries) > HISTORY_LIMIT:
            del self._entries[0]
        self._at = len(self._entries) - 1

    def can_back(self) -> bool:
        return self._at > 0

    def can_forward(self) -> bool:
        return self._at < len(self._entries) - 1

    def back(self) -> Source | None:
        if not self.can_back():
            return None
        self._at -= 1
        return self._entries[self._at]

    def forward(self) -> Source | None:
        if not self.can_forward():
            return None
        self._at += 1
        return self._entries[self._at]

    def forget(self, source: Source) -> None:
        """Drop a place that no longer exists (a deleted folder) from the history."""
        current = self.current
        self._entries = [e for e in self._entries if e != source]
        self._at = (
            self._entries.index(current) if current in self._entries else len(self._entries) - 1
        )


class Breadcrumb(QWidget):
    """The path of the folder shown, one button per folder; a title for other places.

    When the path is wider than the room it has, the folders after the vault's
    go, from the outermost, behind a "…" button that lists them in a menu (as
    Dolphin's and Nautilus' paths do); the folder shown stays, its name elided
    if even then it does not fit.

    Signals:
        folder_clicked(int): a folder of the path was clicked.
    """

    folder_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(0)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        # Per folder: its button and the separator before it (None for the first).
        self._crumbs: list[tuple[QLabel | None, QToolButton, str]] = []
        self._overflow: tuple[QLabel, QToolButton] | None = None
        self.trail: list[FolderNode] = []

    def set_trail(self, trail: list[FolderNode], vault_name: str = "Vault") -> None:
        """Show a folder's path (from :meth:`app.browse.BrowseOps.folder_trail`)."""
        self.trail = trail
        self._clear()
        for n, node in enumerate(trail):
            separator = self._separator() if n else None
            if separator is not None:
                self._add(separator)
            name = vault_name if n == 0 else node.name
            button = QToolButton(self)
            button.setText(name)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setToolTip("/" + "/".join(x.name for x in trail[1 : n + 1]))
            if n == len(trail) - 1:
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            button.clicked.connect(lambda _=False, folder=node.id: self.folder_clicked.emit(folder))
            self._add(button)
            self._crumbs.append((separator, button, name))
            if n == 0 and len(trail) > 2:
                self._overflow = (self._separator(), self._overflow_button())
                for widget in self._overflow:
                    self._add(widget)
        self._layout.addStretch(1)
        self._fit()

    def set_title(self, title: str) -> None:
        """Show a place that is not a folder (All files, a tag, search results…)."""
        self.trail = []
        self._clear()
        label = QLabel(title, self)
        font = label.font()
        font.setBold(True)
        label.setFont(font)
        label.setContentsMargins(6, 0, 6, 0)
        self._add(label)
        self._layout.addStretch(1)

    def buttons(self) -> list[QToolButton]:
        """The folders' buttons, the vault's first, hidden ones included."""
        return [button for _, button, _ in self._crumbs]

    def hidden_folders(self) -> list[FolderNode]:
        """The folders of the path behind the "…" button, outermost first."""
        return [
            node
            for node, (_, button, _) in zip(self.trail, self._crumbs, strict=True)
            if button.isHidden()
        ]

    def _overflow_button(self) -> QToolButton:
        button = QToolButton(self)
        button.setText("…")
        button.setAutoRaise(True)
        button.setToolTip("More folders of the path")
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(button)
        menu.aboutToShow.connect(lambda: self._fill_overflow(menu))
        button.setMenu(menu)
        return button

    def _fill_overflow(self, menu: QMenu) -> None:
        menu.clear()
        for node in self.hidden_folders():
            action = menu.addAction(node.name)
            action.triggered.connect(
                lambda _=False, folder=node.id: self.folder_clicked.emit(folder)
            )

    def _fit(self) -> None:
        """Hide the outer folders behind "…" until the path fits; elide the last name
        if it still does not."""
        if not self._crumbs:
            return
        _, last, last_name = self._crumbs[-1]
        if last.text() != last_name:
            last.setText(last_name)  # measured whole, elided below if need be

        def width(widget: QWidget | None) -> int:
            return widget.sizeHint().width() if widget is not None else 0

        room = self.width()
        needed = sum(width(sep) + width(button) for sep, button, _ in self._crumbs)
        middle = self._crumbs[1:-1]
        hidden = 0
        if needed > room and self._overflow is not None:
            needed += sum(width(w) for w in self._overflow)
            while hidden < len(middle) and needed > room:
                separator, button, _ = middle[hidden]
                needed -= width(separator) + width(button)
                hidden += 1
        # Every crumb explicitly: a widget just added is shown later by the layout
        # unless it was hidden, and until then it counts as hidden.
        for n, (separator, button, _) in enumerate(self._crumbs):
            shown = not 0 < n <= hidden
            for widget in (separator, button):
                if widget is not None:
                    widget.setVisible(shown)
        if self._overflow is not None:
            for widget in self._overflow:
                widget.setVisible(hidden > 0)
        if needed > room:
            metrics = last.fontMetrics()
            text_room = metrics.horizontalAdvance(last_name) - (needed - room)
            last.setText(metrics.elidedText(last_name, Qt.TextElideMode.ElideMiddle, text_room))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def sizeHint(self) -> QSize:
        # Modest and fixed: the toolbar gives the breadcrumb all the room left (it
        # expands), and a hint that grew with the path would push the toolbar's
        # other buttons into its overflow menu instead.
        return QSize(SIZE_HINT_WIDTH, super().sizeHint().height())

    def _separator(self) -> QLabel:
        label = QLabel("›", self)
        label.setContentsMargins(2, 0, 2, 0)
        label.setEnabled(False)
        return label

    def _add(self, widget: QWidget) -> None:
        self._layout.addWidget(widget)

    def _clear(self) -> None:
        while self._layout.count():
            child = self._layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.deleteLater()
        self._crumbs = []
        self._overflow = None

    def minimumSizeHint(self) -> QSize:
        return QSize(80, super().minimumSizeHint().height())
