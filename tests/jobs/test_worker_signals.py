"""A worker writing that it stopped is not cut short by one more stop signal (in process, on the main thread)."""

from __future__ import annotations

import os
import signal

import pytest

from jobs.worker import stop_signals_held


def test_a_stop_signal_is_held_while_the_worker_writes_that_it_stopped(caplog):
    def stop_now(signum, frame):
        raise SystemExit(1)  # what the library does on a second signal

    before = signal.signal(signal.SIGTERM, stop_now)
    try:
        written = []
        with stop_signals_held():
            os.kill(os.getpid(), signal.SIGTERM)
            written.append("stopped_at")  # reached: the signal did not cut the block short
        assert written == ["stopped_at"]
        assert "while the worker writes that it stopped" in caplog.text
        assert signal.getsignal(signal.SIGTERM) is stop_now  # put back after
        with pytest.raises(SystemExit):
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, before)
