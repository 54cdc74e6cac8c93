"""The direction of dependencies: ui → app → storage, never upwards, and no Qt below ui/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
QT = ("PySide6", "shiboken6")


def _modules(package: str) -> list[Path]:
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) of every import in ``path``, including importlib calls."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _violations(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in _modules(package):
        for line, module in _imports(path):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(REPO)}:{line} imports {module}")
    return bad


def test_scanner_sees_every_import_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import PySide6.QtCore\n"
        "from shiboken6 import isValid\n"
        "import os, PySide6\n"
        "import importlib\n"
        "importlib.import_module('PySide6.QtGui')\n"
        "__import__('shiboken6')\n"
        "from . import sibling\n"
    )
    modules = [m for _line, m in _imports(sample)]
    assert [m for m in modules if m.split(".")[0] in QT] == [
        "PySide6.QtCore",
        "shiboken6",
        "PySide6",
        "PySide6.QtGui",
        "shiboken6",
    ]


@pytest.mark.parametrize("package", ["app", "storage"])
def test_no_qt_below_ui(package: str) -> None:
    assert _violations(package, QT) == []


def test_storage_never_imports_app_or_ui() -> None:
    assert _violations("storage", ("app", "ui")) == []


def _module_level_imports(path: Path) -> list[tuple[int, str]]:
    """Imports that run when the module is imported (not inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        stack.extend(ast.iter_child_nodes(node))
    return found


def test_app_never_imports_ui_at_module_level() -> None:
    """app/ must work without ui/; only the CLI's "no subcommand opens the window"
    entry point may reach up, lazily, inside the function that starts the window."""
    bad = [
        f"{path.relative_to(REPO)}:{line} imports {module}"
        for path in _modules("app")
        for line, module in _module_level_imports(path)
        if module.split(".")[0] == "ui"
    ]
    assert bad == []
    lazy = [
        f"{path.relative_to(REPO)}:{module}"
        for path in _modules("app")
        for _line, module in _imports(path)
        if module.split(".")[0] == "ui"
    ]
    assert set(lazy) <= {"app/cli.py:ui.app"}, lazy


def test_importing_every_app_module_loads_no_qt() -> None:
    """The same rule at run time: nothing pulls Qt in indirectly."""
    names = [
        ".".join(p.relative_to(REPO).with_suffix("").parts)
        for package in ("app", "storage")
        for p in _modules(package)
        if "migrations" not in p.parts and p.name != "__main__.py"
    ]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
