"""Everything a user can do to files and folders from the window: the right-click
menus, their shortcuts, and carrying each action out.

:class:`FileActions` owns the QActions (so a shortcut works whether or not a
menu is open) and builds the context menu for what is selected and where:
files, folders, the Trash, or the empty area of a folder. Quick changes run on
the window's task manager and refresh what they touched; long ones (import,
export, downloads) go to the transfer manager with progress. Versions, tags
and sharing open their own dialogs (one per file for versions and sharing, so
asking again brings the open one forward).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelectionModel, QMimeData, QObject, QPoint, Qt, QUrl
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QDialog, QFileDialog, QMenu, QMessageBox

from app.credentials import NoRemote, open_remote
from app.errors import VaultError
from app.logs import log_file
from app.space import SpaceReport
from ui.confirm import ask_before
from ui.folder_picker import FolderPicker
from ui.folder_tree import ITEMS_MIME, decode_items, items_mime_data, local_paths
from ui.item_model import Item
from ui.settings_dialog import SettingsDialog

if TYPE_CHECKING:
    from ui.main_window import MainWindow

log = logging.getLogger(__name__)

NO_REMOTE_HINT = "Set a bucket in Settings… (Remote) first."
DRAG_OUT_LIMIT = 2_000  # files linked for a drag to the file manager; more: use Export…


class FileActions(QObject):
    """The window's actions on its selection, with their shortcuts and menus.

    The shortcuts live on the grid and the list and fire only while one of them
    has the focus itself (not the inline rename editor or the search field).

    Attributes:
        window: the main window acted for.
        open, open_external, rename, move_to, copy_to, add_favorite, remove_favorite,
        new_version, export, free_up, keep, delete, properties, new_folder, import_here,
        import_folder_here, select_all, copy, cut, paste, restore, delete_forever,
        empty_trash, quick_look: the QActions (trigger one to act on the selection).
        last_box: the last confirmation opened (non-blocking), or None.
        settings_dialog: the Settings dialog once opened.
    """

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.settings_dialog: SettingsDialog | None = None
        w = window

        def action(
            text: str,
            slot: Callable[[], Any],
            shortcut: str | QKeySequence | QKeySequence.StandardKey | None = None,
        ) -> QAction:
            made = QAction(text, w)
            if shortcut is not None:
                made.setShortcut(QKeySequence(shortcut))
                # Only while a view itself has the focus: the search field and the inline
                # rename editor (a child of the view) keep their own keys.
                made.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            made.triggered.connect(lambda _=False: slot())
            return made

        self.open = action("Open", self.open_selected, "Return")
        self.open_enter = action("Open", self.open_selected, "Enter")
        self.quick_look = action("Quick preview", self.toggle_quick_look, "Space")
        self.open_external = action("Open with Default Application", self.open_externally)
        self.rename = action("Rename", self.rename_selected, "F2")
        self.move_to = action("Move to…", self.move_selected_to)
        self.copy_to = action("Copy to…", self.copy_selected_to)
        self.add_favorite = action("Add to Favorites", lambda: self._favorite_selected(True))
        self.remove_favorite = action(
            "Remove from Favorites", lambda: self._favorite_selected(False)
        )
        self.new_version = action("Upload New Version…", self.upload_new_version)
        self.versions = action("Versions…", self.show_versions, "Ctrl+Shift+H")
        self.share = action("Share…", self.share_selected, "Ctrl+Shift+L")
        self.request_files = action("Request Files…", self.request_files_here)
        self.tags = action("Tags…", self.edit_tags, "Ctrl+T")
        self.manage_links = action("Manage Shared Links…", self.open_shared_view)
        self.export = action("Export…", self.export_selected)
        self.free_up = action("Free Up Space", self.free_up_selected)
        self.keep = action("Keep on This Device", self.keep_selected)
        self.keep.setCheckable(True)
        self.delete = action("Move to Trash", self.delete_selected, QKeySequence.StandardKey.Delete)
        self.properties = action("Properties", self.show_properties, "Alt+Return")
        self.new_folder = action("New Folder", self.make_folder, QKeySequence.StandardKey.New)
        self.import_here = action("Import Files Here…", self.import_files_here)
        self.import_folder_here = action("Import Folder Here…", self.import_folder_here_)
        self.select_all = action(
            "Select All", self.select_all_items, QKeySequence.StandardKey.SelectAll
        )
        self.copy = action("Copy", self.copy_selected, QKeySequence.StandardKey.Copy)
        self.cut = action("Cut", self.cut_selected, QKeySequence.StandardKey.Cut)
        self.paste = action("Paste", self.paste_clipboard, QKeySequence.StandardKey.Paste)
        self.restore = action("Restore", self.restore_selected)
        self.delete_forever = action("Delete Forever", self.delete_forever_selected, "Shift+Del")
        self.empty_trash = action("Empty Trash", self.empty_the_trash)
        for view in (w.grid, w.view):
            view.addActions(self.shortcut_actions())
        self._quick: Any = None
        self._dialogs: dict[tuple[str, int], QDialog] = {}
        self.last_box: QMessageBox | None = None
        # An open quick preview follows the selection, as Quick Look does.
        w.view.selectionModel().selectionChanged.connect(self._quick_follow)

    def shortcut_actions(self) -> list[QAction]:
        return [
            self.open,
            self.open_enter,
            self.quick_look,
            self.rename,
            self.delete,
            self.properties,
            self.new_folder,
            self.select_all,
            self.copy,
            self.cut,
            self.paste,
            self.delete_forever,
            self.versions,
            self.share,
            self.tags,
        ]

    # -- the menu ---------------------------------------------------------------------

    def show_context_menu(self, view: QAbstractItemView, pos: QPoint) -> QMenu:
        """Build and show the right-click menu for what is under the cursor."""
        index = view.indexAt(pos)
        if index.isValid() and not view.selectionModel().isSelected(index):
            # Exactly this row, whatever modifier keys Qt believes are held.
            view.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
        elif not index.isValid():
            view.clearSelection()
        menu = self.context_menu()
        menu.popup(view.viewport().mapToGlobal(pos))
        return menu

    def context_menu(self) -> QMenu:
        """The menu for the current selection and place (built fresh each time)."""
        w = self.window
        menu = QMenu(w)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        items = w.selected_items()
        source = w.model.source
        in_trash = source is not None and source.kind == "trash"
        if in_trash:
            if items:
                menu.addActions([self.restore, self.delete_forever])
                menu.addSeparator()
            menu.addAction(self.empty_trash)
            return menu
        if not items:
            if source is not None and source.kind == "shared":
                menu.addAction(self.manage_links)
            if w.model.folder_id is not None:
                menu.addActions([self.new_folder, self.import_here, self.import_folder_here])
                menu.addAction(self.request_files)
                menu.addSeparator()
                menu.addAction(self.paste)
            menu.addAction(self.select_all)
            return menu
        files = [i for i in items if not i.is_folder]
        folders = [i for i in items if i.is_folder]
        if files and not folders:
            menu.addAction(self.open)
            if len(files) == 1:
                menu.addAction(self.open_external)
            menu.addSeparator()
            if len(files) == 1:
                menu.addAction(self.rename)
            menu.addActions([self.move_to, self.copy_to])
            if any(not f.is_favorite for f in files):
                menu.addAction(self.add_favorite)
            if any(f.is_favorite for f in files):
                menu.addAction(self.remove_favorite)
            menu.addAction(self.tags)
            menu.addSeparator()
            if len(files) == 1:
                menu.addActions([self.versions, self.new_version, self.share])
            menu.addAction(self.export)
            if any(f.sync == "Backed up" for f in files):
                menu.addAction(self.free_up)
            if any(f.kept or f.sync in ("Backed up", "Only in bucket") for f in files):
                # Checked when every selected file is kept; choosing it then stops keeping.
                self.keep.setChecked(all(f.kept for f in files))
                menu.addAction(self.keep)
            menu.addSeparator()
            menu.addActions([self.copy, self.cut])
            menu.addSeparator()
            menu.addAction(self.delete)
            menu.addSeparator()
            menu.addAction(self.properties)
        elif folders and not files:
            if len(folders) == 1:
                menu.addActions([self.open, self.new_folder, self.import_here])
                menu.addSeparator()
                menu.addAction(self.rename)
            menu.addActions([self.move_to, self.copy_to, self.export])
            if len(folders) == 1:
                menu.addActions([self.share, self.request_files])
            menu.addSeparator()
            menu.addActions([self.copy, self.cut])
            menu.addSeparator()
            menu.addAction(self.delete)
            if len(folders) == 1:
                menu.addSeparator()
                menu.addAction(self.properties)
        else:  # files and folders together
            menu.addActions([self.move_to, self.copy_to, self.export])
            menu.addSeparator()
            menu.addActions([self.copy, self.cut])
            menu.addSeparator()
            menu.addAction(self.delete)
        return menu

    # -- helpers -------------------------------------------------------------------------

    def _selection(self) -> tuple[list[int], list[int]]:
        items = self.window.selected_items()
        live = [i for i in items if i.trash_entry_id is None]
        return [i.id for i in live if not i.is_folder], [i.id for i in live if i.is_folder]

    def _run(
        self,
        label: str,
        work: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
        *,
        refresh: bool = True,
    ) -> None:
        """Run a quick vault change off the GUI thread; refresh and report when it ends."""
        w = self.window

        def finished(result: Any) -> None:
            if done is not None:
                done(result)
            if refresh:
                w.refresh()

        w.tasks.run(work, finished, lambda exc: self.report(exc, label), name=label)

    def report(self, exc: BaseException, what: str) -> None:
        """An error as a short message (a dialog for known errors), never a traceback."""
        w = self.window
        if isinstance(exc, NoRemote):
            from ui.main_window import show_error

            show_error(w, VaultError(exc.message, NO_REMOTE_HINT))
        elif isinstance(exc, VaultError):
            from ui.main_window import show_error

            show_error(w, exc)
        else:
            log.error("%s failed", what, exc_info=(type(exc), exc, exc.__traceback__))
            w.notify(f"Could not {what}; details are in {log_file(w.vault.paths)}.", 15_000)
        w.refresh()

    def _pick_folder(
        self, title: str, prompt: str, exclude: frozenset[int] = frozenset()
    ) -> int | None:
        picker = FolderPicker(
            self.window.vault, self.window.tasks, title, prompt, self.window, exclude
        )
        try:
            return picker.folder_id() if picker.exec() else None
        finally:
            picker.deleteLater()

    # -- opening -------------------------------------------------------------------------

    def open_selected(self) -> None:
        items = self.window.selected_items()
        if len(items) == 1:
            row = self.window.model.row_of(items[0].id, items[0].is_folder)
            if row is not None:
                self.window._activate(self.window.model.index(row, 0))
        elif items:
            for item in items:
                if not item.is_folder:
                    self.open_item(item)
                    break

    def open_item(self, item: Item) -> None:
        """Open a file: its preview in the pane (the viewers come with previews)."""
        w = self.window
        w.preview.show_file(item.id)
        w.preview.setVisible(True)

    def open_file_id(self, file_id: int) -> None:
        self.open_externally_id(file_id)

    def toggle_quick_look(self) -> None:
        """Space: a larger preview of the selected file in its own window; Space again closes it."""
        from ui.preview_pane import PreviewPane

        w = self.window
        if self._quick is not None and self._quick.isVisible():
            self._quick.close()
            return
        files = [i for i in w.selected_items() if not i.is_folder and i.trash_entry_id is None]
        if not files:
            return
        if self._quick is None:
            from PySide6.QtWidgets import QDialog, QVBoxLayout

            dialog = QDialog(w)
            dialog.setWindowTitle("Quick preview")
            pane = PreviewPane(w.vault, w.tasks, w.thumbnails, dialog)
            layout = QVBoxLayout(dialog)
            layout.setContentsMargins(0, 0, 0, 0)
            layout.addWidget(pane)
            close = QAction(dialog)
            close.setShortcut(QKeySequence("Space"))
            close.triggered.connect(dialog.close)
            dialog.addAction(close)
            dialog.resize(w.width() // 2, w.height() * 3 // 4)
            dialog.pane = pane  # type: ignore[attr-defined]
            self._quick = dialog
        self._quick.setWindowTitle(files[0].name)
        self._quick.pane.show_file(files[0].id)
        self._quick.show()
        self._quick.raise_()

    def _quick_follow(self) -> None:
        if self._quick is None or not self._quick.isVisible():
            return
        files = [i for i in self.window.selected_items() if not i.is_folder]
        if len(files) == 1 and files[0].trash_entry_id is None:
            self._quick.setWindowTitle(files[0].name)
            self._quick.pane.show_file(files[0].id)

    def open_externally(self) -> None:
        files = [i for i in self.window.selected_items() if not i.is_folder]
        if files:
            self.open_externally_id(files[0].id)

    def open_externally_id(self, file_id: int) -> None:
        """Write the file into the cache (fetching it if evicted) and hand it to the desktop."""
        w = self.window
        vault = w.vault
        target = vault.paths.cache / "open" / str(file_id)

        def export() -> Path:
            for old in target.glob("*") if target.exists() else []:
                old.unlink(missing_ok=True)
            return vault.export_file(file_id, target)

        def opened(path: Path) -> None:
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
                w.notify(f"No application opens {path.name} on this computer.")

        w.notify("Opening…", 3000)
        self._run("open the file", export, opened, refresh=False)

    def show_properties(self) -> None:
        w = self.window
        sizes = w.splitter.sizes()
        if sizes[2] == 0:
            w.splitter.setSizes([sizes[0], max(sizes[1] - 320, 200), 320])
        w.preview.setVisible(True)
        w._on_selection(None, None)  # type: ignore[arg-type]

    # -- renaming, new folders -------------------------------------------------------------

    def rename_selected(self) -> None:
        w = self.window
        view = w.current_view()
        index = view.currentIndex()
        if index.isValid() and w.model.item(index.row()).trash_entry_id is None:
            view.edit(w.model.index(index.row(), 0))

    def make_folder(self) -> None:
        w = self.window
        parent = w.model.folder_id
        if parent is None:
            w.notify("New folders go in a folder: open one first.")
            return
        vault = w.vault

        def create() -> int:
            return vault.new_folder(parent).created[0]

        def created(folder_id: int) -> None:
            def edit() -> None:
                if w.select_item(folder_id, True):
                    row = w.model.row_of(folder_id, True)
                    if row is not None:
                        w.current_view().edit(w.model.index(row, 0))
                w.model.loaded.disconnect(edit)

            w.model.loaded.connect(edit)

        self._run("make a folder", create, created)

    # -- favorites -------------------------------------------------------------------------

    def _favorite_selected(self, favorite: bool) -> None:
        files, _ = self._selection()
        self.set_favorite(files, favorite)

    def set_favorite(self, file_ids: list[int], favorite: bool) -> None:
        if not file_ids:
            return
        vault = self.window.vault
        self._run("change Favorites", lambda: vault.set_favorite(file_ids, favorite))

    # -- moving and copying ------------------------------------------------------------------

    def move_selected_to(self) -> None:
        files, folders = self._selection()
        if not files and not folders:
            return
        target = self._pick_folder("Move to", "Move the selected items into:", frozenset(folders))
        if target is not None:
            self.move_items(files, folders, target)

    def copy_selected_to(self) -> None:
        files, folders = self._selection()
        if not files and not folders:
            return
        target = self._pick_folder("Copy to", "Copy the selected items into:")
        if target is not None:
            self.copy_items(files, folders, target)

    def move_items(self, file_ids: list[int], folder_ids: list[int], target: int) -> None:
        vault = self.window.vault
        n = len(file_ids) + len(folder_ids)

        def move() -> list[str]:
            return _each(folder_ids, lambda f: vault.move_folder(f, target)) + _each(
                file_ids, lambda f: vault.move_file(f, target)
            )

        self._run("move", move, lambda problems: self._summary("Moved", n, problems))

    def copy_items(self, file_ids: list[int], folder_ids: list[int], target: int) -> None:
        vault = self.window.vault
        n = len(file_ids) + len(folder_ids)

        def copy() -> list[str]:
            return _each(folder_ids, lambda f: vault.copy_folder(f, target)) + _each(
                file_ids, lambda f: vault.copy_file(f, target)
            )

        self._run("copy", copy, lambda problems: self._summary("Copied", n, problems))

    def _summary(self, verb: str, n: int, problems: list[str], where: str = "") -> None:
        """A status message when all ``n`` went through ("Moved 3 items."); a dialog with
        the first reason when some did not ("Moved 2 of 3 items.")."""
        w = self.window
        done = n - len(problems)
        if not problems:
            w.notify(f"{verb} {done} {'item' if done == 1 else 'items'}{where}.")
            return
        from ui.main_window import show_error

        if n == 1:
            show_error(w, VaultError(problems[0]))
            return
        first = problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
        show_error(w, VaultError(f"{verb} {done} of {n} items{where}.", first))

    # -- clipboard ----------------------------------------------------------------------------

    def copy_selected(self, cut: bool = False) -> None:
        files, folders = self._selection()
        if not files and not folders:
            return
        data = items_mime_data(file_ids=files, folder_ids=folders)
        data.setData("application/x-mediavault-cut", b"1" if cut else b"0")
        QGuiApplication.clipboard().setMimeData(data)
        n = len(files) + len(folders)
        self.window.notify(
            f"{'Cut' if cut else 'Copied'} {n} item{'s' if n != 1 else ''}; paste them in another folder."
        )

    def cut_selected(self) -> None:
        self.copy_selected(cut=True)

    def paste_clipboard(self) -> None:
        """Ctrl+V: vault items copied (or cut) are copied (or moved) here; files from the
        file manager are imported."""
        w = self.window
        target = w.model.folder_id
        if target is None:
            w.notify("Paste into a folder: open one first.")
            return
        data: QMimeData | None = QGuiApplication.clipboard().mimeData()
        if data is None:
            return
        if data.hasFormat(ITEMS_MIME):
            items = decode_items(data)
            if items is None:
                return
            files, folders = list(items[0]), list(items[1])
            if bytes(data.data("application/x-mediavault-cut").data()) == b"1":
                self.move_items(files, folders, target)
                QGuiApplication.clipboard().clear()
            else:
                self.copy_items(files, folders, target)
            return
        paths = local_paths(data)
        if paths:
            w.transfers.start_import(list(paths), target)

    def select_all_items(self) -> None:
        view = self.window.current_view()
        view.selectAll()

    # -- import, export, new version --------------------------------------------------------

    def import_files_here(self) -> None:
        w = self.window
        target = self._import_target()
        if target is None:
            return
        paths, _ = QFileDialog.getOpenFileNames(w, "Import Files", str(Path.home()))
        if paths:
            w.transfers.start_import([Path(p) for p in paths], target)

    def import_folder_here_(self) -> None:
        w = self.window
        target = self._import_target()
        if target is None:
            return
        path = QFileDialog.getExistingDirectory(w, "Import Folder", str(Path.home()))
        if path:
            w.transfers.start_import([Path(path)], target)

    def _import_target(self) -> int | None:
        w = self.window
        items = w.selected_items()
        if len(items) == 1 and items[0].is_folder and items[0].trash_entry_id is None:
            return items[0].id
        if w.model.folder_id is None:
            w.notify("Import into a folder: open one first.")
        return w.model.folder_id

    def export_selected(self) -> None:
        w = self.window
        files, folders = self._selection()
        if not files and not folders:
            return
        path = QFileDialog.getExistingDirectory(w, "Export to", str(Path.home()))
        if path:
            w.transfers.start_export(files, folders, Path(path))

    def upload_new_version(self) -> None:
        w = self.window
        files, _ = self._selection()
        if len(files) != 1:
            return
        path, _ = QFileDialog.getOpenFileName(w, "Upload New Version", str(Path.home()))
        if path:
            w.transfers.start_version(files[0], Path(path))

    # -- versions and sharing ------------------------------------------------------------

    def _one_open(self, key: tuple[str, int], make: Callable[[], QDialog]) -> QDialog:
        """The dialog open for ``key``, brought forward, or a new one (forgotten when it
        closes)."""
        dialog = self._dialogs.get(key)
        if dialog is None:
            dialog = make()
            dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            dialog.destroyed.connect(lambda _=None, key=key: self._dialogs.pop(key, None))
            self._dialogs[key] = dialog
            dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        return dialog

    def show_versions(self) -> None:
        files, _ = self._selection()
        if len(files) == 1:
            self.open_versions(files[0])

    def open_versions(self, file_id: int) -> QDialog:
        """The Versions dialog of ``file_id``."""
        from ui.versions_dialog import VersionsDialog

        w = self.window

        def make() -> QDialog:
            dialog = VersionsDialog(w.vault, w.tasks, file_id, w, thumbnails=w.thumbnails)
            dialog.changed.connect(lambda _changes: w.refresh())
            # Results still on their way when it closes are dropped: refresh anyway.
            dialog.finished.connect(lambda _result: w.refresh())
            return dialog

        return self._one_open(("versions", file_id), make)

    def share_selected(self) -> None:
        files, folders = self._selection()
        if len(files) + len(folders) != 1:
            return
        self.open_share(files[0] if files else None, folders[0] if folders else None)

    def open_share(self, file_id: int | None, folder_id: int | None) -> QDialog:
        """The Share dialog of one file or one folder."""
        from ui.share_dialog import ShareDialog

        w = self.window

        def make() -> QDialog:
            dialog = ShareDialog(w.vault, w.tasks, file_id=file_id, folder_id=folder_id, parent=w)
            dialog.settings_requested.connect(self.open_settings)
            dialog.shares_changed.connect(lambda _changes: w.refresh())
            return dialog

        key = ("share-file", file_id) if file_id is not None else ("share-folder", folder_id or 0)
        return self._one_open(key, make)

    def edit_tags(self) -> None:
        """The tag editor for the selected files (one at a time: it is modal)."""
        from ui.tag_editor import TagEditor

        w = self.window
        files, _ = self._selection()
        if not files:
            return
        editor = TagEditor(w.vault, w.tasks, files, w)
        editor.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        editor.tags_changed.connect(w.on_tags_changed)
        editor.open()

    def request_files_here(self) -> None:
        """An upload request into the selected folder, else the folder shown."""
        _, folders = self._selection()
        folder = folders[0] if len(folders) == 1 else self.window.model.folder_id
        if folder is not None:
            self.open_upload_request(folder)

    def open_upload_request(self, folder_id: int) -> QDialog:
        from ui.share_dialog import UploadRequestDialog

        w = self.window

        def make() -> QDialog:
            dialog = UploadRequestDialog(w.vault, w.tasks, folder_id, w)
            dialog.settings_requested.connect(self.open_settings)
            dialog.shares_changed.connect(lambda _changes: w.refresh())
            return dialog

        return self._one_open(("request", folder_id), make)

    def open_shared_view(self) -> QDialog:
        """Every active link and upload request of the vault."""
        from ui.shares_view import SharesView

        w = self.window

        def make() -> QDialog:
            dialog = SharesView(w.vault, w.tasks, w)
            dialog.show_file.connect(w.show_file)
            dialog.show_folder.connect(w.open_folder)
            dialog.shares_changed.connect(lambda _changes: w.refresh())
            return dialog

        return self._one_open(("shared", 0), make)

    # -- space -------------------------------------------------------------------------------

    def free_up_selected(self) -> None:
        files, _ = self._selection()
        if not files:
            return
        vault = self.window.vault

        def free() -> SpaceReport:
            store, _keys = open_remote(vault.paths)
            return vault.free_up_space(store, file_ids=files)

        self._run("free up space", free, self._freed)

    def _freed(self, report: SpaceReport) -> None:
        """Say what Free Up Space did, and why anything stayed."""
        w = self.window
        freed = f"Freed {_size(report.freed_bytes)} on this computer."
        if report.error:
            from ui.main_window import show_error

            show_error(w, VaultError(f"{freed} The rest stays here for now.", report.error))
            return
        kept = [
            (report.kept_pinned, "kept on this device"),
            (report.kept_not_uploaded, "not backed up yet"),
            (report.kept_unconfirmed, "not confirmed by the bucket"),
        ]
        reasons = "; ".join(
            f"{n} {'file is' if n == 1 else 'files are'} {why}" for n, why in kept if n
        )
        if not report.evicted:
            w.notify(f"Nothing to free up: {reasons}." if reasons else "Nothing to free up.")
        else:
            w.notify(f"{freed} Kept: {reasons}." if reasons else freed)

    def keep_selected(self) -> None:
        """Keep the selected files on this device (fetching what is only in the bucket),
        or, when the action is unchecked, let Free Up Space take them again."""
        files, _ = self._selection()
        if not files:
            return
        if self.keep.isChecked():
            self.window.transfers.start_download(files, keep=True)
            return
        vault = self.window.vault
        n = len(files)
        self._run(
            "stop keeping files on this device",
            lambda: vault.keep_on_device(files, False),
            lambda _fetched: self.window.notify(
                f"{n} file{'s' if n != 1 else ''} may be freed up again to save space."
            ),
        )

    # -- deleting and the Trash --------------------------------------------------------------

    def delete_selected(self) -> None:
        w = self.window
        if w.model.source is not None and w.model.source.kind == "trash":
            self.delete_forever_selected()
            return
        files, folders = self._selection()
        self.delete_items(files, folders)

    def delete_items(self, file_ids: list[int], folder_ids: list[int]) -> None:
        if not file_ids and not folder_ids:
            return
        vault = self.window.vault
        n = len(file_ids) + len(folder_ids)

        def delete() -> list[str]:
            return _each(folder_ids, vault.delete_folder) + _each(file_ids, vault.delete_file)

        def done(problems: list[str]) -> None:
            if problems:
                self._summary("Moved", n, problems, " to the Trash")
            else:
                noun = "item" if n == 1 else "items"
                self.window.notify(f"Moved {n} {noun} to the Trash. Restore them from the Trash.")

        self._run("move to the Trash", delete, done)

    def _trash_entries(self) -> list[int]:
        return [
            i.trash_entry_id for i in self.window.selected_items() if i.trash_entry_id is not None
        ]

    def restore_selected(self) -> None:
        entries = self._trash_entries()
        if not entries:
            return
        vault = self.window.vault

        self._run(
            "restore from the Trash",
            lambda: _each(entries, vault.restore),
            lambda problems: self._summary("Restored", len(entries), problems),
        )

    def delete_forever_selected(self) -> None:
        entries = self._trash_entries()
        if not entries:
            return
        n = len(entries)
        vault = self.window.vault
        self._confirm(
            "Delete Forever",
            f"Delete {n} item{'s' if n != 1 else ''} forever?",
            lambda: self._run(
                "delete forever",
                lambda: _each(entries, vault.purge),
                lambda problems: self._summary("Deleted", n, problems, " forever"),
            ),
        )

    def empty_the_trash(self) -> None:
        vault = self.window.vault
        self._confirm(
            "Empty Trash",
            "Delete everything in the Trash forever?",
            lambda: self._run(
                "empty the Trash",
                vault.empty_trash,
                lambda _changes: self.window.notify("The Trash is empty."),
            ),
        )

    def _confirm(self, title: str, question: str, go: Callable[[], None]) -> None:
        """Ask before something that cannot be undone (without blocking); ``go`` if yes.

        The box is :attr:`last_box` until it closes; Cancel is the default button.
        """
        self.last_box = ask_before(
            self.window, title, question, "This cannot be undone.", title, go
        )

    # -- dragging out --------------------------------------------------------------------------

    def prepare_drag_out(self, items: list[Item], then: Callable[[list[QUrl]], bool]) -> None:
        """Local files for a drag to the file manager, made off the GUI thread; then
        ``then(urls)`` here, which drags and says whether the drop was in another
        application. Each file's content is linked under its own name in the cache
        (:meth:`~app.vault.Vault.drag_links`), so the file manager copies real names.
        Folders and files only in the bucket are left out (Export… fetches them), as
        is everything past :data:`DRAG_OUT_LIMIT` files: a drop outside says so."""
        w = self.window
        files = [i for i in items if not i.is_folder and i.blob_hash and i.sync != "Only in bucket"]
        too_many = len(files) > DRAG_OUT_LIMIT
        if too_many:
            files = []

        def drag(urls: list[QUrl]) -> None:
            if not then(urls) or len(urls) == len(items):
                return
            w.notify(
                f"At most {DRAG_OUT_LIMIT:,} files are dragged out of the window at once;"
                " use Export… for more."
                if too_many
                else "Folders and files only in the bucket are not dragged out of the window;"
                " use Export… for them."
            )

        if not files:
            drag([])
            return
        wanted = [(i.id, i.name, str(i.blob_hash)) for i in files]

        def done(links: list[Path]) -> None:
            drag([QUrl.fromLocalFile(str(link)) for link in links])

        def failed(exc: BaseException) -> None:
            log.warning("cannot prepare a drag: %s", exc)
            drag([])

        w.tasks.run(lambda: w.vault.drag_links(wanted), done, failed, name="prepare a drag")

    # -- settings -----------------------------------------------------------------------------

    def open_settings(self) -> None:
        w = self.window
        if self.settings_dialog is None:
            dialog = SettingsDialog(w.vault, w)
            dialog.preferences_changed.connect(w.apply_preferences)
            dialog.remote_changed.connect(w.sync_status.sync_now)
            dialog.remote_changed.connect(w.refresh_welcome)
            dialog.versions_pruned.connect(lambda _changes: w.refresh())
            self.settings_dialog = dialog
        self.settings_dialog.open()


def _each(ids: list[int], change: Callable[[int], object]) -> list[str]:
    """Apply ``change`` to each id (pool thread); the known errors' messages, one per failure."""
    problems: list[str] = []
    for item_id in ids:
        try:
            change(item_id)
        except VaultError as exc:
            problems.append(exc.message)
    return problems


def _size(n: int) -> str:
    from ui.formatting import human_size

    return human_size(n)
