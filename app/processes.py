"""Helper processes that must not outlive the process that started them."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

_PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int) -> None:
    """End this process when ``parent`` (its parent's pid) ends, even if it is killed.

    Pool workers otherwise block forever on their task queue once a killed
    parent can no longer close it. Linux has a kernel signal for this; elsewhere
    a daemon thread watches the parent id. ``parent`` is passed in rather than
    read here, because a parent killed while this process was starting has
    already been replaced by init.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
                if os.getppid() != parent:  # the parent died before prctl took effect
                    os._exit(1)
                return
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def limit_resources(memory_limit: int) -> None:
    """Bound this (worker) process: address space, no file writes, no core dumps."""
    try:
        import resource
    except ImportError:  # Windows: the parent's time-out is the only bound
        return
    limits = [
        (resource.RLIMIT_AS, memory_limit),
        (resource.RLIMIT_FSIZE, 0),  # a parser has no business writing files
        (resource.RLIMIT_CORE, 0),  # a crash on a hostile file needs no core dump
    ]
    for which, value in limits:
        try:
            _, hard = resource.getrlimit(which)
            if hard != resource.RLIM_INFINITY:
                value = min(value, hard)
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass  # unsupported here (e.g. RLIMIT_AS on macOS); best effort


def allow_cpu(seconds: int) -> None:
    """Let this (worker) process use ``seconds`` more CPU time before it is stopped."""
    # RLIMIT_CPU counts the process's whole life, and this process serves many
    # files; so the soft limit moves forward by a budget before each request.
    try:
        import resource
    except ImportError:
        return
    try:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        soft = int(usage.ru_utime + usage.ru_stime) + seconds
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def brief(exc: BaseException) -> str:
    """An exception's first line, short enough for a message."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
