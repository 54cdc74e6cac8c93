"""Shared helpers: timing, statistics, machine facts, disk settling, realistic names."""

from __future__ import annotations

import os
import platform
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


@dataclass
class Row:
    """One line of a results table: ours next to a peer."""

    what: str
    ours: str
    peer: str
    ratio: str
    goal: str
    passed: bool | None  # None: informational, no goal


@dataclass
class Section:
    title: str
    intro: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def log(*args: object) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def drop_tree(path: Path) -> None:
    """Delete a tree; after a big one, wait for the disk to settle (ext4 with discard)."""
    if not path.exists():
        return
    count = sum(len(files) for _, _, files in os.walk(path))
    shutil.rmtree(path, ignore_errors=True)
    os.sync()
    if count >= 1000:
        settle()


_PROBES = [0]


def probe_dir() -> Path:
    return Path(os.environ.get("MV_BENCH_TMP", "/var/tmp")) / f"mv-bench-probe-{os.getpid()}"


def settle(limit: float = 150.0, quiet: float = 5.0) -> float:
    """Wait until creating small files runs at full speed again; returns seconds waited.

    Right after tens of thousands of deletions, creating files on these disks slows
    ~10× for up to a minute, starting a few seconds late (PERF-NOTES). The probe
    creates 400 small files per try (kept until the end: deleting them would
    disturb the disk again) and waits for two fast tries in a row after a quiet
    period.
    """
    start = time.monotonic()
    time.sleep(quiet)
    base = probe_dir()
    fast = 0
    while time.monotonic() - start < limit:
        d = base / f"p{_PROBES[0]}"
        _PROBES[0] += 1
        d.mkdir(parents=True)
        t = time.perf_counter()
        for i in range(400):
            fd = os.open(d / f"{i:04}.part", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
            os.write(fd, b"x" * 4096)
            os.close(fd)
        per = (time.perf_counter() - t) / 400
        fast = fast + 1 if per < 80e-6 else 0
        if fast >= 2:
            break
        time.sleep(2)
    waited = time.monotonic() - start
    log(f"disk settled after {waited:.0f} s")
    return waited


@contextmanager
def temp_dir(tag: str) -> Iterator[Path]:
    base = Path(os.environ.get("MV_BENCH_TMP", "/var/tmp"))
    path = base / f"mv-bench-{tag}-{os.getpid()}"
    drop_tree(path)
    path.mkdir(parents=True)
    try:
        yield path
    finally:
        drop_tree(path)


def machine_info() -> list[tuple[str, str]]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    flags = ""
    try:
        text = Path("/proc/cpuinfo").read_text()
        flags = "SHA-NI" if " sha_ni" in text else "no SHA-NI"
    except OSError:
        pass
    mem = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    fs = "?"
    try:
        out = subprocess.run(
            [
                "findmnt",
                "-n",
                "-o",
                "FSTYPE,OPTIONS",
                "-T",
                os.environ.get("MV_BENCH_TMP", "/var/tmp"),
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        fs = out or "?"
    except OSError:
        pass
    osname = platform.platform()
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                osname = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return [
        ("CPU", f"{cpu} ({os.cpu_count()} cores, {flags})"),
        ("Memory", mem),
        ("OS", f"{osname}, kernel {platform.release()}"),
        ("Bench disk", fs),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
    ]


# -- realistic names ----------------------------------------------------------

_WORDS = [
    "summer",
    "holiday",
    "beach",
    "party",
    "wedding",
    "birthday",
    "family",
    "trip",
    "mountain",
    "lake",
    "city",
    "night",
    "sunset",
    "garden",
    "concert",
    "school",
    "office",
    "budget",
    "invoice",
    "contract",
    "report",
    "meeting",
    "notes",
    "draft",
    "final",
    "review",
    "plan",
    "project",
    "proposal",
    "presentation",
    "receipt",
    "tax",
    "statement",
    "letter",
    "resume",
    "portfolio",
    "recipe",
    "travel",
    "paris",
    "london",
    "tokyo",
    "berlin",
    "rome",
    "madrid",
    "lisbon",
    "vienna",
    "prague",
    "oslo",
    "kitchen",
    "renovation",
    "house",
    "car",
    "insurance",
    "medical",
    "dentist",
    "passport",
    "visa",
    "ticket",
    "boarding",
    "itinerary",
    "christmas",
    "easter",
    "halloween",
    "graduation",
    "anniversary",
    "reunion",
    "picnic",
    "hiking",
    "skiing",
    "camping",
    "football",
    "tennis",
    "marathon",
    "piano",
    "guitar",
    "violin",
    "lesson",
    "homework",
    "thesis",
    "chapter",
    "lecture",
    "quarterly",
    "annual",
    "monthly",
    "weekly",
    "minutes",
    "agenda",
    "roadmap",
    "strategy",
    "marketing",
    "sales",
    "forecast",
    "payroll",
    "inventory",
    "catalogue",
    "brochure",
    "flyer",
    "poster",
    "logo",
    "mockup",
    "sketch",
    "screenshot",
    "scan",
    "backup",
    "archive",
    "export",
    "import",
    "dataset",
    "analysis",
    "summary",
    "overview",
]
_SONG_WORDS = [
    "love",
    "heart",
    "night",
    "dance",
    "fire",
    "rain",
    "blue",
    "golden",
    "river",
    "dream",
    "light",
    "shadow",
    "moon",
    "sun",
    "star",
    "road",
    "home",
    "wild",
    "young",
    "forever",
    "tonight",
    "midnight",
    "summer",
    "wind",
    "ocean",
    "city",
    "lonely",
    "electric",
    "broken",
    "silver",
    "morning",
    "paradise",
    "highway",
    "angel",
    "thunder",
    "echo",
    "gravity",
    "velvet",
    "neon",
]
_ARTISTS = [
    "The Midnight Owls",
    "Luna Park",
    "Velvet Echo",
    "Northern Lights",
    "Silver Lake",
    "Paper Kites",
    "Blue Harbor",
    "Neon Tigers",
    "Golden Hour",
    "Static Bloom",
    "Iron Maple",
    "Crystal Fox",
]
_EXT_DOC = ("pdf", "docx", "xlsx", "pptx", "txt", "odt", "md", "csv")


class NameGen:
    """Seeded generator of names people's files really have."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def _date(self) -> tuple[int, int, int, int, int, int]:
        r = self.r
        return (
            r.randint(2008, 2024),
            r.randint(1, 12),
            r.randint(1, 28),
            r.randint(0, 23),
            r.randint(0, 59),
            r.randint(0, 59),
        )

    def name(self) -> str:
        r = self.r
        kind = r.random()
        if kind < 0.22:
            y, mo, d, h, mi, s = self._date()
            return f"IMG_{y}{mo:02}{d:02}_{h:02}{mi:02}{s:02}.jpg"
        if kind < 0.34:
            return f"DSC{r.randint(0, 99999):05}.JPG"
        if kind < 0.42:
            return f"IMG_{r.randint(0, 9999):04}.{r.choice(('JPG', 'HEIC', 'PNG'))}"
        if kind < 0.50:
            y, mo, d, h, mi, s = self._date()
            return f"VID_{y}{mo:02}{d:02}_{h:02}{mi:02}{s:02}.mp4"
        if kind < 0.56:
            y, mo, d, h, mi, s = self._date()
            return f"Screenshot {y}-{mo:02}-{d:02} at {h:02}.{mi:02}.{s:02}.png"
        if kind < 0.70:
            words = [w.capitalize() for w in r.sample(_SONG_WORDS, r.randint(1, 3))]
            track = r.randint(1, 16)
            return f"{track:02} {r.choice(_ARTISTS)} - {' '.join(words)}.{r.choice(('mp3', 'flac', 'm4a'))}"
        if kind < 0.90:
            words = [
                w.capitalize() if r.random() < 0.6 else w for w in r.sample(_WORDS, r.randint(1, 3))
            ]
            sep = r.choice((" ", " ", "_", "-", ""))
            year = f"{sep or ' '}{r.randint(2010, 2024)}" if r.random() < 0.5 else ""
            ver = f" v{r.randint(1, 9)}" if r.random() < 0.15 else ""
            return f"{sep.join(words)}{year}{ver}.{r.choice(_EXT_DOC)}"
        words = [w.capitalize() for w in r.sample(_WORDS, 2)]
        return f"{''.join(words)}{r.randint(1, 999)}.{r.choice(_EXT_DOC + ('jpg', 'zip'))}"

    def unique(self, n: int) -> list[str]:
        """``n`` names, distinct ignoring case (as siblings in one folder must be)."""
        seen: set[str] = set()
        out: list[str] = []
        while len(out) < n:
            name = self.name()
            key = name.casefold()
            if key in seen:
                stem, _, ext = name.rpartition(".")
                k = 2
                while f"{stem} ({k}).{ext}".casefold() in seen:
                    k += 1
                name = f"{stem} ({k}).{ext}"
                key = name.casefold()
            seen.add(key)
            out.append(name)
        return out


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1000
    if ms < 1:
        return f"{ms:.3f} ms"
    if ms < 10:
        return f"{ms:.2f} ms"
    return f"{ms:.1f} ms"


def apt_install(package: str) -> None:
    """Install a Debian package for a peer tool; RuntimeError with the reason if it can't."""
    log(f"installing {package} with apt-get")
    done = None
    for cmd in (
        ["apt-get", "install", "-y", "-q", package],
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", package],
    ):
        done = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            check=False,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
        )
        if done.returncode == 0 and cmd[1] == "install":
            return
    stderr = done.stderr.strip()[-300:] if done is not None else ""
    raise RuntimeError(
        f"{package} is missing and `apt-get install -y {package}` failed "
        f"(run it as root, or install {package} yourself): {stderr}"
    )
