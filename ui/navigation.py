"""Where the user has been and where they are: back/forward history and the breadcrumb."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from app.browse import FolderNode, Source

HISTORY_LIMIT = 100

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
        self._parts: list[QWidget] = []
        self.trail: list[FolderNode] = []

    def set_trail(self, trail: list[FolderNode], vault_name: str = "Vault") -> None:
        """Show a folder's path (from :meth:`app.browse.BrowseOps.folder_trail`)."""
        self.trail = trail
        self._clear()
        for n, node in enumerate(trail):
            if n:
                self._add(self._separator())
            button = QToolButton(self)
            button.setText(vault_name if n == 0 else node.name)
            button.setAutoRaise(True)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setToolTip("/" + "/".join(x.name for x in trail[1 : n + 1]))
            if n == len(trail) - 1:
                font = button.font()
                font.setBold(True)
                button.setFont(font)
            button.clicked.connect(lambda _=False, folder=node.id: self.folder_clicked.emit(folder))
            self._add(button)
        self._layout.addStretch(1)

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
        return [w for w in self._parts if isinstance(w, QToolButton)]

    def _separator(self) -> QLabel:
        label = QLabel("›", self)
        label.setContentsMargins(2, 0, 2, 0)
        label.setEnabled(False)
        return label

    def _add(self, widget: QWidget) -> None:
        self._parts.append(widget)
        self._layout.addWidget(widget)

    def _clear(self) -> None:
        while self._layout.count():
            child = self._layout.takeAt(0)
            widget = child.widget() if child is not None else None
            if widget is not None:
                widget.deleteLater()
        self._parts = []

    def minimumSizeHint(self) -> QSize:
        return QSize(80, super().minimumSizeHint().height())
