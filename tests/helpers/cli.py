"""Running ``mediavault`` in-process in tests, with its output captured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.cli import main


class Runner:
    """Runs ``mediavault --vault <home> ...`` in-process and captures its output.

    Attributes:
        code, out, err: the last run's exit status, stdout and stderr.
        transcript: everything every run printed, for tests that grep all output.
    """

    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self.capsys = capsys
        self.code = 0
        self.out = ""
        self.err = ""
        self.transcript: list[str] = []

    def __call__(self, *args: str) -> Runner:
        self.capsys.readouterr()
        self.code = main(["--vault", str(self.home), *args])
        captured = self.capsys.readouterr()
        self.out, self.err = captured.out, captured.err
        self.transcript += [self.out, self.err]
        return self

    def json(self, *args: str) -> Any:
        self(*args, "--json")
        assert self.code == 0, self.err
        return json.loads(self.out)

    def ok(self, *args: str) -> str:
        self(*args)
        assert self.code == 0, self.err
        return self.out
