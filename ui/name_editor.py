"""The inline name editor's delegate, shared by the tree and the file views.

A name the vault refused comes back in the editor as typed, to be corrected
rather than retyped; a file's name opens with only the part before its
extension selected, as in Finder and Dolphin.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QTimer
from PySide6.QtWidgets import QLineEdit, QStyledItemDelegate, QWidget

_Index = QModelIndex | QPersistentModelIndex
_FILLED = "mediavaultNameFilled"  # editor property: its text was set


class NameEditorDelegate(QStyledItemDelegate):
    """Opens the name editor with a refused name, or the current one."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._retry: tuple[QPersistentModelIndex, str] | None = None

    def edit_with(self, index: _Index, text: str) -> None:
        """Open the next editor on ``index`` with ``text`` instead of the current name."""
        self._retry = (QPersistentModelIndex(index), text)

    def selects_stem(self, index: _Index) -> bool:
        """Whether the editor on ``index`` selects the name without its extension."""
        return False

    def setEditorData(self, editor: QWidget, index: _Index) -> None:
        if not isinstance(editor, QLineEdit):
            super().setEditorData(editor, index)
            return
        # Once per editor: Qt calls this again whenever the row's cell changes (a
        # thumbnail arriving), which would replace what is being typed.
        if editor.property(_FILLED):
            return
        editor.setProperty(_FILLED, True)
        super().setEditorData(editor, index)
        retry, self._retry = self._retry, None
        if retry is not None and retry[0].isValid() and retry[0] == QPersistentModelIndex(index):
            editor.setText(retry[1])
        dot = editor.text().rfind(".") if self.selects_stem(index) else -1
        if dot > 0:
            # Qt selects all of the text once this returns: narrow it just after.
            QTimer.singleShot(0, editor, partial(editor.setSelection, 0, dot))
