"""Sync to and from an S3 endpoint (moto's server) next to ``aws s3 cp --recursive`` and ``rclone copy``.

Ours: ``Syncer.run(snapshot=False)`` of a vault holding the files (upload), and
``restore_vault(fetch_all=True)`` (``mediavault restore --all``: every blob through
``SpaceOps.fetch_many``, verified, durable per batch) into a new directory (download). Peers, in the same run
against the same server: the AWS CLI (``aws s3 cp --recursive``, from PyPI, in its own
venv: it pins botocore) and rclone (``rclone copy``, the Debian package), both with
their default settings. ``curl`` times one pre-signed PUT and GET of a single big file,
which is the most the server can take or give in one stream. The peers are installed
when missing (rclone and curl with apt-get, the AWS CLI with pip into
``~/.cache/mediavault-bench/awscli`` or ``$MV_BENCH_AWSCLI``).
"""

from __future__ import annotations

import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.remote import RemoteConfig
from app.restore import RestoreProgress, restore_vault
from app.sync import Syncer
from app.vault import Vault
from bench.bench_import import make_big, make_small
from bench.common import ROOT, Row, Section, apt_install, log, median, settle, temp_dir
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials, RemoteSpec, make_client
from tests.s3server import moto_server as start_moto

MIB = 1 << 20
KEY, SECRET, REGION = "bench-key", "bench-secret", "us-east-1"
AWS_VENV = Path(
    os.environ.get("MV_BENCH_AWSCLI", Path.home() / ".cache" / "mediavault-bench" / "awscli")
)


# -- tools ------------------------------------------------------------------------


def ensure_tools() -> dict[str, str]:
    """Paths of rclone, curl and aws, installing whichever is missing; RuntimeError if it can't."""
    tools: dict[str, str] = {}
    for name in ("rclone", "curl"):
        if shutil.which(name) is None:
            apt_install(name)
        found = shutil.which(name)
        if found is None:
            raise RuntimeError(f"{name} is still not on PATH after installing it")
        tools[name] = found
    aws = AWS_VENV / "bin" / "aws"
    if not aws.exists():
        log(f"sync: installing the AWS CLI into {AWS_VENV}")
        # Its own venv: awscli pins botocore, which would clash with the project's boto3.
        for cmd in (
            [sys.executable, "-m", "venv", str(AWS_VENV)],
            [str(AWS_VENV / "bin" / "pip"), "install", "-q", "awscli"],
        ):
            done = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                raise RuntimeError(
                    f"could not install the AWS CLI ({' '.join(cmd[:3])} failed): "
                    f"{done.stderr.strip()[-300:]}"
                )
    tools["aws"] = str(aws)
    return tools


def tool_versions(tools: dict[str, str]) -> dict[str, str]:
    def first_line(cmd: list[str]) -> str:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    return {
        "rclone": first_line([tools["rclone"], "version"]),
        "aws": first_line([tools["aws"], "--version"]).split(" Python")[0],
        "curl": first_line([tools["curl"], "--version"]).split(" (")[0],
    }


# -- the server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Server:
    url: str
    pid: int


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds used so far by (this process and its finished children, process ``pid``)."""
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    server = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime, server


@contextmanager
def moto_server() -> Iterator[Server]:
    """moto's S3 server on a free loopback port, started as the tests start theirs."""
    with start_moto() as (url, process):
        yield Server(url, process.pid)


def reset_server(url: str) -> None:
    """Forget every bucket (frees the server's memory and temp files between runs)."""
    request = urllib.request.Request(url + "/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=60).close()


@dataclass(frozen=True)
class Bucket:
    url: str
    name: str

    @property
    def spec(self) -> RemoteSpec:
        return RemoteSpec(self.name, endpoint_url=self.url, region=REGION, addressing_style="path")

    def client(self) -> Any:
        return make_client(self.spec, Credentials(KEY, SECRET))


def new_bucket(url: str, name: str) -> Bucket:
    bucket = Bucket(url, name)
    bucket.client().create_bucket(Bucket=name)
    return bucket


def peer_env(work: Path, url: str) -> dict[str, str]:
    """Environment for aws and rclone: the bench's keys only, no user config."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "RCLONE_")) and k != "HTTPS_PROXY"
    }
    (work / "rclone.conf").touch()
    env.update(
        AWS_ACCESS_KEY_ID=KEY,
        AWS_SECRET_ACCESS_KEY=SECRET,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(work / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(work / "no-aws-credentials"),
        RCLONE_CONFIG=str(work / "rclone.conf"),
        # An env-var remote "mv:"; every other rclone setting stays at its default.
        RCLONE_CONFIG_MV_TYPE="s3",
        RCLONE_CONFIG_MV_PROVIDER="Other",
        RCLONE_CONFIG_MV_ENDPOINT=url,
        RCLONE_CONFIG_MV_REGION=REGION,
        RCLONE_CONFIG_MV_ACCESS_KEY_ID=KEY,
        RCLONE_CONFIG_MV_SECRET_ACCESS_KEY=SECRET,
    )
    return env


@dataclass
class Timing:
    """Wall seconds and CPU seconds of the client (us or the peer) and of the server."""

    wall: float
    client: float
    server: float


class Stopwatch:
    """Wall time and CPU of client and server from :meth:`start` to :meth:`stop`."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.begun = (0.0, 0.0, 0.0)

    def start(self) -> None:
        self.begun = (time.perf_counter(), *cpu_seconds(self.pid))

    def stop(self) -> Timing:
        wall, (client, server) = time.perf_counter(), cpu_seconds(self.pid)
        return Timing(wall - self.begun[0], client - self.begun[1], server - self.begun[2])


def run_timed(cmd: list[str], env: dict[str, str], pid: int) -> Timing:
    watch = Stopwatch(pid)
    watch.start()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    took = watch.stop()
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed ({done.returncode}): {done.stderr[-500:]}")
    return took


def count_files(path: Path) -> tuple[int, int]:
    n = size = 0
    for top, _, files in os.walk(path):
        for name in files:
            n += 1
            size += os.path.getsize(os.path.join(top, name))
    return n, size


# -- ours -------------------------------------------------------------------------


def import_vault(src: Path, home: Path) -> None:
    with Vault.open(home) as vault:
        report = vault.import_paths([src])
    if not report.ok or report.failed:
        raise RuntimeError(f"import failed: {report.failed[:3]}")


def mark_pending(home: Path) -> None:
    """Make every blob wait for upload again (the bucket is new for each run)."""
    conn = sqlite3.connect(home / "catalog.sqlite3")
    try:
        with conn:
            conn.execute(
                "UPDATE blob SET remote_state = 'pending', upload_id = NULL,"
                " attempts = 0, last_error = NULL"
            )
    finally:
        conn.close()


def ours_up(home: Path, bucket: Bucket, n: int, pid: int) -> Timing:
    """``Syncer.run(snapshot=False)``, timed; then a snapshot (untimed) for the restore."""
    with Vault.open(home) as vault:
        syncer = Syncer(vault, S3BlobStore(bucket.spec, Credentials(KEY, SECRET)))
        watch = Stopwatch(pid)
        watch.start()
        report = syncer.run(snapshot=False)
        took = watch.stop()
        if not report.ok or report.uploaded != n:
            raise RuntimeError(
                f"sync: {report.status}, {report.uploaded} of {n}: {report.failed[:2]}"
            )
        syncer.snapshot(force=True)
    return took


def ours_down(home: Path, bucket: Bucket, n: int, pid: int) -> tuple[Timing, float]:
    """Fetching every blob (``restore --all`` after its catalog), timed; seconds for the catalog."""
    watch = Stopwatch(pid)
    started: list[float] = []

    def progress(p: RestoreProgress) -> None:
        if not started:
            started.append(time.perf_counter())
            watch.start()

    start = time.perf_counter()
    report = restore_vault(
        home, RemoteConfig(bucket.spec), Credentials(KEY, SECRET), fetch_all=True, progress=progress
    )
    took = watch.stop()
    if not report.ok or report.fetched != n:
        raise RuntimeError(f"restore: fetched {report.fetched} of {n}: {report.failed[:2]}")
    return took, started[0] - start


# -- resumed multipart --------------------------------------------------------------

_CHILD = f"""
import sys
from app.sync import Syncer
from app.vault import Vault
from storage.s3 import S3BlobStore
from storage.s3_client import Credentials, RemoteSpec
home, url, bucket = sys.argv[1:4]
spec = RemoteSpec(bucket, endpoint_url=url, region="us-east-1", addressing_style="path")
with Vault.open(home) as vault:
    Syncer(vault, S3BlobStore(spec, Credentials({KEY!r}, {SECRET!r}))).run(snapshot=False)
"""


@dataclass
class Resume:
    parts: int  # parts of the upload
    held: int  # parts the server held when the sync was killed
    sent: int  # parts the resumed sync sent
    took: float  # seconds for the resumed sync
    verified: bool  # the object downloads and hashes to its name


def resumed_upload(home: Path, bucket: Bucket, size: int) -> Resume:
    """Kill a sync (SIGKILL) once a third of the parts are up, resume it, count parts sent."""
    client = bucket.client()
    store = S3BlobStore(bucket.spec, Credentials(KEY, SECRET))
    parts = -(-size // store._part_size(size))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(home), bucket.url, bucket.name],
        cwd=ROOT,
        stderr=subprocess.PIPE,
    )
    held = 0
    key = ""
    upload_id = None
    try:
        while child.poll() is None and held < max(1, parts // 3):
            time.sleep(0.01)
            conn = sqlite3.connect(home / "catalog.sqlite3")
            try:
                row = conn.execute(
                    "SELECT hash, upload_id FROM blob WHERE upload_id IS NOT NULL"
                ).fetchone()
            finally:
                conn.close()
            if row is None:
                continue
            key, upload_id = store.key(row[0]), row[1]
            held = len(
                client.list_parts(Bucket=bucket.name, Key=key, UploadId=upload_id).get("Parts", [])
            )
    finally:
        if child.poll() is None:
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
    if upload_id is None or child.returncode != -signal.SIGKILL:
        raise RuntimeError(f"the sync finished before it could be killed ({child.returncode})")
    time.sleep(0.5)  # a part that was in flight may still land
    held = len(client.list_parts(Bucket=bucket.name, Key=key, UploadId=upload_id).get("Parts", []))
    sent: list[int] = []
    store.client.meta.events.register("before-send.s3.UploadPart", lambda **_: sent.append(1))
    with Vault.open(home) as vault:
        start = time.perf_counter()
        report = Syncer(vault, store).run(snapshot=False)
        took = time.perf_counter() - start
        verified = False
        if report.ok and report.uploaded == 1:
            blob_hash = key.rsplit("/", 1)[1]
            target = home / "check.bin"
            store.download(blob_hash, target)  # raises unless it hashes to its name
            verified = target.stat().st_size == size
            target.unlink()
    return Resume(parts, held, len(sent), took, verified)


# -- the benchmark -------------------------------------------------------------------


@dataclass
class Figures:
    """Timings per run for each tool and direction."""

    up: dict[str, list[Timing]]
    down: dict[str, list[Timing]]
    catalog: list[float]  # seconds restoring the catalog before our downloads


def bench_set(
    label: str,
    src: Path,
    work: Path,
    server: Server,
    tools: dict[str, str],
    n: int,
    total: int,
    runs: int,
) -> Figures:
    """Alternating runs of ours, the AWS CLI and rclone, up then down, on one data set."""
    url, pid = server.url, server.pid
    env = peer_env(work, url)
    home = work / f"{label}-vault"
    import_vault(src, home)
    os.sync()
    figs = Figures({"ours": [], "aws": [], "rclone": []}, {"ours": [], "aws": [], "rclone": []}, [])
    big = label == "big"
    for i in range(runs):
        log(f"sync {label}: run {i + 1}/{runs}")
        reset_server(url)
        bucket = new_bucket(url, f"{label}-{i}")
        mark_pending(home)
        order: list[str] = ["ours", "aws", "rclone"]
        order = order[i % 3 :] + order[: i % 3]  # nobody always goes first
        for tool in order:
            down = work / f"{label}-{tool}-down-{i}"
            if tool == "ours":
                figs.up[tool].append(ours_up(home, bucket, n, pid))
                fetch, catalog = ours_down(down, bucket, n, pid)
                figs.down[tool].append(fetch)
                figs.catalog.append(catalog)
                got = count_files(down / "blobs")
            else:
                remote_aws = f"s3://{bucket.name}/{tool}-{i}/"
                remote_rclone = f"mv:{bucket.name}/{tool}-{i}"
                if tool == "aws":
                    base = [
                        tools["aws"],
                        "s3",
                        "cp",
                        "--recursive",
                        "--only-show-errors",
                        "--endpoint-url",
                        url,
                    ]
                    up_cmd = [*base, str(src), remote_aws]
                    down_cmd = [*base, remote_aws, str(down)]
                else:
                    # --s3-no-head: moto answers rclone's HEAD after an upload with 400 (PERF-NOTES).
                    base = [tools["rclone"], "copy", "--s3-no-head"]
                    up_cmd = [*base, str(src), remote_rclone]
                    down_cmd = [*base, remote_rclone, str(down)]
                figs.up[tool].append(run_timed(up_cmd, env, pid))
                figs.down[tool].append(run_timed(down_cmd, env, pid))
                got = count_files(down)
            if got != (n, total):
                raise RuntimeError(f"{tool} downloaded {got}, expected {(n, total)}")
            up, dn = figs.up[tool][-1], figs.down[tool][-1]
            log(
                f"  {tool}: up {up.wall:.2f}s (cpu {up.client:.2f}/{up.server:.2f})"
                f"  down {dn.wall:.2f}s (cpu {dn.client:.2f}/{dn.server:.2f})"
            )
            if big:  # four files: deleting them does not slow the disk down
                shutil.rmtree(down, ignore_errors=True)
    return figs


def curl_ceiling(
    url: str, file: Path, work: Path, tools: dict[str, str], runs: int
) -> tuple[float, float]:
    """Median seconds for one pre-signed PUT and one GET of ``file`` with curl."""
    reset_server(url)
    bucket = new_bucket(url, "curl")
    client = bucket.client()
    puts, gets = [], []
    for i in range(runs):
        put = client.generate_presigned_url(
            "put_object", Params={"Bucket": bucket.name, "Key": f"k{i}"}, ExpiresIn=3600
        )
        get = client.generate_presigned_url(
            "get_object", Params={"Bucket": bucket.name, "Key": f"k{i}"}, ExpiresIn=3600
        )
        puts.append(
            run_timed([tools["curl"], "-sSf", "-o", "/dev/null", "-T", str(file), put], {}, 1)
        )
        target = work / f"curl-{i}.bin"
        gets.append(run_timed([tools["curl"], "-sSf", "-o", str(target), get], {}, 1))
        target.unlink()
    return median([t.wall for t in puts]), median([t.wall for t in gets])


def bench(quick: bool) -> list[Section]:
    # Five rounds: on this shared machine one run of any tool varies by ±10%, as
    # much as the differences measured, so medians of three moved with the load.
    runs = 5 if not quick else 1
    big_n, big_size = (4, 256 * MIB) if not quick else (4, 64 * MIB)
    small_n, small_size = (2_000, 64 * 1024) if not quick else (500, 64 * 1024)
    tools = ensure_tools()
    versions = tool_versions(tools)
    with temp_dir("sync") as work, moto_server() as server:
        url = server.url
        log("sync: generating data")
        make_big(work / "src-big", big_n, big_size, 7)
        make_small(work / "src-small", small_n, small_size, 8, per_folder=500)
        os.sync()
        settle(quiet=1)
        # Warm-up: code, connections, server.
        warm = work / "warm"
        make_small(warm, 50, 64 * 1024, 9, per_folder=50)
        bench_set("warm", warm, work, server, tools, 50, 50 * 64 * 1024, 1)
        big = bench_set("big", work / "src-big", work, server, tools, big_n, big_n * big_size, runs)
        small = bench_set(
            "small", work / "src-small", work, server, tools, small_n, small_n * small_size, runs
        )
        curl_put, curl_get = curl_ceiling(url, work / "src-big" / "video-00.bin", work, tools, runs)
        log("sync: resumed multipart upload")
        reset_server(url)
        one = work / "src-one"
        one.mkdir()
        os.link(work / "src-big" / "video-00.bin", one / "video-00.bin")
        import_vault(one, work / "resume-vault")
        resume = resumed_upload(work / "resume-vault", new_bucket(url, "resume"), big_size)
        log(f"  resume: {resume}")
        if not resume.verified:
            raise RuntimeError("the resumed upload did not verify")
    return report(
        big,
        small,
        curl_put,
        curl_get,
        resume,
        versions,
        runs,
        (big_n, big_size),
        (small_n, small_size),
    )


def _rows(figs: Figures, rate: Callable[[float], str], goal: str) -> list[Row]:
    rows = []
    names = {"ours": "ours", "aws": "AWS CLI", "rclone": "rclone"}
    for direction, data in (("upload", figs.up), ("download", figs.down)):
        t = {tool: median([r.wall for r in v]) for tool, v in data.items()}
        best = min(("aws", "rclone"), key=lambda tool: t[tool])
        other = "rclone" if best == "aws" else "aws"
        ratio = t[best] / t["ours"]
        rows.append(
            Row(
                direction,
                rate(t["ours"]),
                f"{rate(t[best])} {names[best]} ({names[other]} {rate(t[other])})",
                f"{ratio:.2f}× {names[best]}",
                goal,
                ratio >= 1.0,
            )
        )
    rows += _figure_rows(
        figs,
        "CPU seconds, client / server (wall)",
        lambda v: (
            f"{median([r.client for r in v]):.2f} / {median([r.server for r in v]):.2f} "
            f"({median([r.wall for r in v]):.2f})"
        ),
    )
    return rows


def _figure_rows(figs: Figures, what: str, show: Callable[[list[Timing]], str]) -> list[Row]:
    """A row per direction showing ``what`` of each tool's runs, ours next to the peers'."""
    rows = []
    for direction, data in (("upload", figs.up), ("download", figs.down)):
        shown = {tool: show(runs) for tool, runs in data.items()}
        rows.append(
            Row(
                f"{direction}: {what}",
                shown["ours"],
                f"AWS CLI {shown['aws']}; rclone {shown['rclone']}",
                "",
                "",
                None,
            )
        )
    return rows


def _server_rows(figs: Figures, n: int) -> list[Row]:
    """How busy each tool kept the server, and the rate its requests would allow if the
    server did nothing else (files per server CPU-second)."""
    return _figure_rows(
        figs,
        "server busy / files per server CPU-second",
        lambda v: (
            f"{median([r.server / r.wall for r in v]):.0%} busy, "
            f"{median([n / r.server for r in v]):,.0f} files/s"
        ),
    )


SERVER_NOTE = (
    'For small files the server is the limit: "busy" is moto\'s CPU-seconds per wall second, '
    'and "files per server CPU-second" the rate the server could reach with that tool\'s '
    "requests if it never waited for a core. A tool is faster by costing the server less "
    "per request or by leaving it more of the machine (less client CPU)."
)


CPU_NOTE = (
    "CPU seconds are medians over the runs of the timed part: the client is this process "
    "(ours) or the peer's processes, the server is moto's process. moto serves requests on "
    "Python threads under one GIL, so a server using about one CPU-second per wall second "
    "(or more, while it hashes or copies with the GIL released) is the limit; client and "
    "server share the machine's two cores, so a client's CPU also slows the server."
)


def report(
    big: Figures,
    small: Figures,
    curl_put: float,
    curl_get: float,
    resume: Resume,
    versions: dict[str, str],
    runs: int,
    big_set: tuple[int, int],
    small_set: tuple[int, int],
) -> list[Section]:
    n, size = big_set
    total = n * size
    mbps = lambda t: f"{total / t / 1e6:.0f} MB/s"  # noqa: E731
    one = lambda t: f"{size / t / 1e6:.0f} MB/s"  # noqa: E731
    peers = (
        f"Peers: {versions['aws']} (`aws s3 cp --recursive`, defaults: 8 MiB parts, 10 "
        f"requests at once) and {versions['rclone']} (`rclone copy --s3-no-head`, defaults: "
        "4 transfers, multipart from 200 MiB in 5 MiB chunks, 4 at once, MD5 of every "
        "file); `--s3-no-head` only because moto answers rclone's HEAD after an upload "
        "with 400."
    )
    sec = Section(
        f"Sync of {n} × {size // MIB} MiB files to an S3 endpoint",
        "Against moto's S3 server (a subprocess on loopback, the one the tests use), reset "
        "between runs. Upload: `Syncer.run(snapshot=False)` of a vault holding the files "
        "(a single PUT carries the file's SHA-256; from 64 MiB a file goes up in 16 MiB "
        "parts, each with a CRC32, up to 4 of a file in flight and 8 held in memory for "
        "all files together; "
        "and each file is re-hashed with SHA-256 while read; the signed checksum header "
        "stands for the body, which is sent as `UNSIGNED-PAYLOAD`; no `Expect: 100-continue` "
        "wait for bodies under 2 MiB; whether the "
        "bucket has a blob is asked with a HEAD, or with a listing page from the first blob "
        "of a batch of 16 or more, which answers for the next batches too as far as it "
        "reaches; the result is checked with a HEAD after, or with the PUT's echo of the "
        "checksum; blobs are claimed and marked completed in batches; once a first request "
        "has shown where they go, PUTs under 2 MiB and whole-blob GETs are signed and sent "
        "by botocore's signer and HTTP session without the rest of its pipeline). Download: "
        "`restore_vault(fetch_all=True)` (`mediavault restore --all`), timed from the first "
        "blob fetch to the end: every blob through `SpaceOps.fetch_many`, 4 GETs at once, each "
        "into a temp file, SHA-256 checked while it streams; per batch of up to 128 blobs "
        "(64 MiB) the data is made durable (one `syncfs`, or an fsync per file for a few), "
        "renamed into place, the directories synced, then one transaction marks the batch "
        "present. "
        + peers
        + f" Random bytes; medians of {runs} run(s) after a warm-up, the tools taking turns "
        "to go first.",
    )
    sec.rows += _rows(big, mbps, "≥ faster peer")
    sec.rows.append(
        Row(
            "server ceiling: one pre-signed PUT / GET of one file with curl",
            "",
            f"PUT {one(curl_put)} / GET {one(curl_get)}",
            "",
            "",
            None,
        )
    )
    sec.rows.append(
        Row(
            f"resumed multipart upload of {size // MIB} MiB (sync killed with SIGKILL, run again)",
            f"sent {resume.sent} of {resume.parts} parts",
            f"{resume.held} were already there",
            "",
            "only the missing parts",
            resume.sent == resume.parts - resume.held and resume.verified,
        )
    )
    sec.notes.append(CPU_NOTE)
    sec.notes.append(
        f"Restoring the catalog before the downloads took a median {median(big.catalog):.2f} s "
        f"(not in the figure above). The resumed upload took {resume.took:.2f} s and the "
        "object then downloaded and hashed to its name."
    )
    sections = [sec]

    n, size = small_set
    fps = lambda t: f"{n / t:,.0f} files/s"  # noqa: E731
    sec = Section(
        f"Sync of {n:,} × {size // 1024} KiB files to an S3 endpoint",
        "Same as above with small files (one PUT each for every tool).",
    )
    sec.rows += _rows(small, fps, "≥ faster peer")
    sec.rows += _server_rows(small, n)
    sec.notes.append(CPU_NOTE)
    sec.notes.append(SERVER_NOTE)
    sec.notes.append(
        f"Restoring the catalog before the downloads took a median {median(small.catalog):.2f} s "
        "(not in the figure above)."
    )
    sections.append(sec)
    return sections
