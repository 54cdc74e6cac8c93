"""The desktop menu entry: icons at every size, an Exec line that starts this install."""

from __future__ import annotations

import configparser
from pathlib import Path

import pytest
from PIL import Image

from app.cli import main
from app.desktop import _exec_quote, desktop_entry, install_desktop_entry, launch_command
from app.resources import ICON_SIZES, app_icon_files, resource_path


def test_the_icon_exists_at_every_usual_size() -> None:
    files = dict(app_icon_files())
    assert sorted(files) == sorted(ICON_SIZES)
    for size, png in files.items():
        with Image.open(png) as image:
            assert image.size == (size, size)
            assert image.mode == "RGBA"
    with Image.open(resource_path("mediavault.ico")) as ico:
        assert (256, 256) in ico.info["sizes"] and (16, 16) in ico.info["sizes"]
    with Image.open(resource_path("mediavault.icns")) as icns:
        assert icns.size[0] >= 512


def test_install_writes_a_valid_entry_and_the_icons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    assert main(["--install-desktop-entry"]) == 0
    assert "mediavault.desktop" in capsys.readouterr().out
    desktop = tmp_path / "share" / "applications" / "mediavault.desktop"
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment,method-assign]
    entry.read(desktop, encoding="utf-8")
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Icon"] == "mediavault"
    assert section["Exec"].endswith(" %F")  # files dropped on the launcher come along
    assert section["Exec"].startswith(_exec_quote(launch_command()[0]))
    hicolor = tmp_path / "share" / "icons" / "hicolor"
    for size in ICON_SIZES:
        assert (hicolor / f"{size}x{size}" / "apps" / "mediavault.png").is_file()
    assert (hicolor / "scalable" / "apps" / "mediavault.svg").is_file()
    # Again: same result, nothing breaks.
    assert install_desktop_entry(tmp_path / "share").desktop_file == desktop


def test_exec_line_quotes_awkward_paths() -> None:
    line = desktop_entry(["/opt/My Apps/media$vault", "-m", "app"]).split("Exec=")[1].split("\n")[0]
    assert line == '"/opt/My Apps/media\\$vault" -m app %F'


def test_an_unwritable_place_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "share"
    blocked.write_text("a file where a folder should be")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocked))
    assert main(["--install-desktop-entry"]) == 1
    err = capsys.readouterr().err
    assert "Could not write the menu entry" in err and "Traceback" not in err
