"""The one question asked before something that cannot be undone."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def ask_before(
    parent: QWidget,
    title: str,
    question: str,
    details: str,
    action: str,
    go: Callable[[], None],
    icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
) -> QMessageBox:
    """Open (without blocking) a box asking ``question``, with ``details`` below it,
    Cancel (the default) and a destructive button named ``action``; ``go()`` once that
    is clicked. The box deletes itself when it closes; it is returned for tests."""
    box = QMessageBox(icon, title, question, QMessageBox.StandardButton.Cancel, parent)
    if details:
        box.setInformativeText(details)
    yes = box.addButton(action, QMessageBox.ButtonRole.DestructiveRole)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.finished.connect(lambda _result: go() if box.clickedButton() is yes else None)
    box.open()
    return box
