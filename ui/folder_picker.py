"""Choosing a folder of the vault, for Move to… and Copy to…."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app.vault import Vault
from ui.folder_tree import FolderTree, FolderTreeModel, NodeKind, TreeRole
from ui.tasks import TaskManager

_FOLDERS = (NodeKind.VAULT, NodeKind.FOLDER)


class FolderPicker(QDialog):
    """The vault's folders alone (no places or tags); OK once one is selected.

    Attributes:
        tree: the folder tree shown (new folders can be made in it with Ctrl+N).
    """

    def __init__(
        self,
        vault: Vault,
        tasks: TaskManager,
        title: str,
        prompt: str,
        parent: QWidget | None = None,
        exclude: frozenset[int] = frozenset(),
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._exclude = exclude
        # No Qt parent: listings still under way when the dialog is closed and deleted
        # arrive on ``tasks`` (the window's) later, and must find their model alive. The
        # pending callbacks keep it referenced; it goes once they have run.
        model = FolderTreeModel(vault, tasks)
        self._model = model
        self.tree = FolderTree(model, self)
        for kind in NodeKind:
            if kind not in _FOLDERS:
                index = model.place_index(kind)
                if index.isValid():
                    self.tree.setRowHidden(index.row(), index.parent(), True)
        self._buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self._buttons.accepted.connect(self.accept)
        self._buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(prompt, self))
        layout.addWidget(self.tree, 1)
        layout.addWidget(self._buttons)
        self.tree.selectionModel().currentChanged.connect(self._update)
        self.tree.setCurrentIndex(model.place_index(NodeKind.VAULT))
        self._update(self.tree.currentIndex())
        self.resize(self.fontMetrics().averageCharWidth() * 50, self.fontMetrics().height() * 24)

    def folder_id(self) -> int | None:
        """The folder chosen; None if the selection is not a folder (or is excluded)."""
        index = self.tree.currentIndex()
        if index.data(TreeRole.KIND) not in _FOLDERS:
            return None
        folder = index.data(TreeRole.FOLDER_ID)
        return None if folder is None or folder in self._exclude else int(folder)

    def _update(self, _current: QModelIndex) -> None:
        ok = self._buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(self.folder_id() is not None)
