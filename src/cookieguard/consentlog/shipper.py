"""The background thread that ships a spool to the database, backing off while it is away."""

from __future__ import annotations

import threading
import time

from ..guard import logger
from .spool import Deliver, Spool, spool_status

__all__ = ["Shipper"]

BATCH = 500  # records per transaction
IDLE = 1.0  # seconds between looks for segments that dead processes left
FIRST_RETRY, LAST_RETRY = 0.1, 5.0  # seconds; the wait doubles from one to the other


class Shipper:
    """Ships this process's spooled records and the leftovers of dead processes.

    Woken by every append; while the database fails it retries with a doubling
    wait, woken early only by :meth:`flush`, so a busy site does not hammer a
    database that is down. Every failure is persisted in the spool directory.
    """

    def __init__(self, spool: Spool, deliver: Deliver, *, where: str) -> None:
        self.spool = spool
        self._deliver = deliver
        self._where = where
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._progress = threading.Condition()
        self._failing = False
        self._claimed_at = 0.0  # when the segments of other processes were last looked at
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def ensure_running(self) -> None:
        """Start the thread (again, in a forked child whose parent's thread is not there)."""
        thread = self._thread
        if thread is not None and thread.is_alive() or self._stop.is_set():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="cookieguard-consent-shipper", daemon=True
                )
                self._thread.start()

    def wake(self) -> None:
        """A record was spooled: ship soon, unless the database is being waited for."""
        if not self._failing:
            self._wake.set()

    def _run(self) -> None:
        delay = 0.0
        while not self._stop.is_set():
            self._wake.clear()
            if self.ship_once():
                delay = 0.0
                self._wake.wait(IDLE)
            else:
                delay = min(max(delay * 2, FIRST_RETRY), LAST_RETRY)
                self._wake.wait(delay)

    def ship_once(self) -> bool:
        """One round over the spool; False when the database refused (the error is kept)."""
        try:
            self.spool.ship_own(self._deliver, BATCH)
            if time.monotonic() - self._claimed_at >= IDLE / 2:  # not at every append
                self.spool.claim_others(self._deliver, BATCH)
                self._claimed_at = time.monotonic()
        except Exception as exc:
            if not self._failing:
                logger.warning(
                    "consent log (%s): cannot ship spooled consents (%s); they wait in %s, "
                    "retrying",
                    self._where,
                    exc,
                    self.spool.directory,
                )
            self._failing = True
            try:
                self.spool.record_error(f"{type(exc).__name__}: {exc}")
            except OSError:  # pragma: no cover - a spool that cannot be written to
                logger.exception(
                    "consent spool %s: cannot keep the last error", self.spool.directory
                )
            return False
        finally:
            with self._progress:
                self._progress.notify_all()
        if self._failing:
            logger.warning("consent log (%s): shipping spooled consents again", self._where)
            self._failing = False
        return True

    def flush(self, timeout: float | None) -> bool:
        """Wait until no record in the spool directory is unshipped; False at the deadline."""
        deadline = None if timeout is None else time.monotonic() + timeout
        self.ensure_running()
        while True:
            if spool_status(self.spool.directory).pending == 0:
                return True
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            self._wake.set()  # now, even while backing off
            with self._progress:  # other processes' progress is seen by looking again
                self._progress.wait(0.05 if remaining is None else min(0.05, remaining))

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the thread after one last round; False if it is stuck in the database."""
        self._stop.set()
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout)
            if thread.is_alive():
                return False
        self.ship_once()
        return True
