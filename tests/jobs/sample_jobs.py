"""Jobs for the tests: each leaves a trace in files, so that a test sees what ran where, and how often."""

from __future__ import annotations

import os
import time
from pathlib import Path

from jobs.queue import job


def _note(folder: str, line: str) -> None:
    with open(Path(folder) / "trace", "a") as f:
        f.write(f"{line}\n")
        f.flush()
        os.fsync(f.fileno())


@job(attempts=3, backoff=0)
def wait_for_go(folder: str) -> int:
    """Starts, waits until the test creates `go` (it may kill this worker meanwhile), then is done."""
    _note(folder, f"start {os.getpid()}")
    deadline = time.monotonic() + 120
    while not (Path(folder) / "go").exists():
        if time.monotonic() > deadline:
            raise TimeoutError("nobody said go")
        time.sleep(0.05)
    _note(folder, f"done {os.getpid()}")
    return os.getpid()


@job(attempts=3, backoff=60)
def fails_until(folder: str, failures: int) -> str:
    """Raises on its first `failures` runs, then succeeds."""
    runs = len((Path(folder) / "trace").read_text().splitlines()) if (Path(folder) / "trace").exists() else 0
    _note(folder, f"run {runs + 1}")
    if runs < failures:
        raise RuntimeError(f"failure number {runs + 1}")
    return f"succeeded on run {runs + 1}"


@job(attempts=2, backoff=0)
def always_fails() -> None:
    raise ValueError("this job always fails")


@job()
def add(a: int, b: int) -> int:
    return a + b
