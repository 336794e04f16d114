"""Worker threads: claim due jobs and do them, in the server process or on their own.

Each worker loops: claim a few due jobs, do each in its own transaction, and when the
queue is empty sleep until woken (a commit that queued work wakes the workers of its
process at once) or until the poll interval passes (jobs queued by other processes,
retries coming due, leases expiring).
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from ..db import connection_context
from .runs import Engine

log = logging.getLogger(__name__)


def worker_name(index: int) -> str:
    """A lease owner name unique across hosts, processes and threads."""
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


class WorkerPool:
    """A number of worker threads doing the engine's jobs until stopped."""

    def __init__(self, engine: Engine, count: int, *, poll_seconds: float = 1.0) -> None:
        self.engine = engine
        self.count = count
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._wake = threading.Condition()
        self._threads: list[threading.Thread] = []

    def wake(self) -> None:
        """New work was committed: wake the idle workers."""
        with self._wake:
            self._wake.notify_all()

    def start(self) -> None:
        """Start the threads (daemons: they end with the process)."""
        for index in range(self.count):
            thread = threading.Thread(
                target=self._loop, args=(worker_name(index),), name=f"stageflow-worker-{index}",
                daemon=True,
            )  # fmt: skip
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the workers to finish their current job and stop; wait for them."""
        self._stop.set()
        self.wake()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    @property
    def alive(self) -> int:
        """How many worker threads are running."""
        return sum(thread.is_alive() for thread in self._threads)

    def _loop(self, owner: str) -> None:
        while not self._stop.is_set():
            try:
                with connection_context():
                    done = self.engine.work(owner)
            except Exception:  # the database went away: wait, then try again
                log.exception("worker %s: cannot reach the database", owner)
                done = 0
            if not done:
                with self._wake:
                    if not self._stop.is_set():
                        self._wake.wait(self.poll_seconds)
