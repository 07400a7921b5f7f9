"""A local spool of consent records: on disk (fsync'd) now, shipped to the database later.

Layout of a spool directory, shared by every process that logs into it:

- ``<pid>-<random>.seg``: one *segment* per live process, appended to by that
  process only, which holds an exclusive ``flock`` on it for as long as it runs.
  A segment is created under a hidden name, locked, then renamed into place, so
  no other process ever sees it unlocked while its owner lives.
- ``<segment>.shipped``: how far (a byte offset) the segment has reached the
  database, rewritten by whoever holds the segment's lock after each batch.
- ``texts/``: the banner texts and registry declarations the records' hashes
  stand for, one file per hash, written once.
- ``last-error.json``: the last shipping error, for ``cookieguard consents status``.

Each entry is framed as ``magic, length, crc32, payload`` (a JSON object) and
written with one ``write`` call, then fsync'd before :meth:`Spool.append`
returns; concurrent appends share one fsync (group commit). An entry torn by a
power cut (short, or failing its checksum) can only be the last of a dead
process's segment: it is skipped with a warning, never shipped half.

A lock that can be taken means its owner is gone: the lock dies with the
process (``flock`` locks belong to the open file, not to a thread, and are
released by the kernel when the process ends, however it ends). Whoever takes
it ships what is left and deletes the segment. ``flock`` is not reliable on
network file systems: keep the spool on a local disk.
"""

from __future__ import annotations

import fcntl
import json
import os
import struct
import threading
import time
import uuid
import weakref
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..guard import logger

__all__ = ["Spool", "SpoolFull", "SpoolStatus", "spool_status"]

MAGIC = b"CGS1"
HEADER = struct.Struct(">4sII")  # magic, payload length, crc32 of the payload
MAX_ENTRY = 1 << 20  # a record is a few hundred bytes; a larger length is corruption
SEGMENT = ".seg"
SHIPPED = ".shipped"
LAST_ERROR = "last-error.json"
TEXTS = "texts"

Deliver = Callable[[list[dict[str, Any]]], None]
# fdatasync flushes the data and the size, which is all an appended entry needs.
_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


class SpoolFull(Exception):
    """The spool holds ``max_bytes`` not yet shipped: the record was not written."""


@dataclass(frozen=True)
class Scan:
    """What :func:`scan` found: entries (end offset, payload), where it stopped, damage."""

    entries: list[tuple[int, bytes]]  # JSON, parsed only by whoever needs it
    stop: int
    torn: int  # bytes of an incomplete or unreadable last entry
    skipped: list[tuple[int, int]]  # damaged ranges before the last entry


def frame(entry: dict[str, Any]) -> bytes:
    payload = json.dumps(entry, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return HEADER.pack(MAGIC, len(payload), zlib.crc32(payload)) + payload


def scan(data: bytes, start: int = 0, limit: int | None = None) -> Scan:
    """The whole entries in ``data`` from ``start``, at most ``limit`` of them."""
    entries: list[tuple[int, bytes]] = []
    skipped: list[tuple[int, int]] = []
    pos, size = start, len(data)
    while pos < size and (limit is None or len(entries) < limit):
        entry: bytes | None = None
        end = -1
        if size - pos >= HEADER.size:
            magic, length, crc = HEADER.unpack_from(data, pos)
            end = pos + HEADER.size + length
            if magic == MAGIC and length <= MAX_ENTRY and end <= size:
                payload = data[pos + HEADER.size : end]
                if zlib.crc32(payload) == crc:
                    entry = payload
        if entry is not None:
            entries.append((end, entry))
            pos = end
            continue
        resume = data.find(MAGIC, pos + 1)
        if resume == -1:  # nothing whole after it: the torn last entry
            return Scan(entries, pos, size - pos, skipped)
        skipped.append((pos, resume))
        pos = resume
    return Scan(entries, pos, 0, skipped)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomically(path: Path, text: str, *, durable: bool) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        out.write(text)
        if durable:
            out.flush()
            os.fsync(out.fileno())
    os.replace(tmp, path)
    if durable:
        _fsync_dir(path.parent)


def _shipped(segment: Path) -> int:
    """The segment's shipped offset; 0 when unknown (a replay is harmless)."""
    try:
        return int(segment.with_name(segment.name + SHIPPED).read_text() or 0)
    except (FileNotFoundError, ValueError):
        return 0


@dataclass(frozen=True)
class SpoolStatus:
    """What a spool directory holds: records not shipped, and the oldest one's time."""

    pending: int
    pending_bytes: int
    oldest: datetime | None
    last_error: dict[str, Any] | None


def _segments(directory: Path) -> Iterator[Path]:
    return iter(sorted(directory.glob("*" + SEGMENT)))


def spool_status(directory: str | os.PathLike[str]) -> SpoolStatus:
    """Count what every process's segment holds beyond its shipped offset; ships nothing."""
    root = Path(directory)
    pending = pending_bytes = 0
    oldest: float | None = None
    for segment in _segments(root):
        start = _shipped(segment)
        try:
            data = segment.read_bytes()
        except FileNotFoundError:  # shipped and deleted meanwhile
            continue
        found = scan(data, start)
        pending += len(found.entries)
        pending_bytes += max(0, found.stop - start)
        if found.entries:
            first = float(json.loads(found.entries[0][1]).get("spooled_at", time.time()))
            oldest = first if oldest is None else min(oldest, first)
    try:
        last_error = json.loads((root / LAST_ERROR).read_text("utf-8"))
    except (FileNotFoundError, ValueError):
        last_error = None
    when = None if oldest is None else datetime.fromtimestamp(oldest, timezone.utc)
    return SpoolStatus(pending, pending_bytes, when, last_error)


_SPOOLS: weakref.WeakSet[Spool] = weakref.WeakSet()


class Spool:
    """One process's writer on a spool directory, and the shipper of what it finds there."""

    def __init__(self, directory: str | os.PathLike[str], *, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError(f"spool_max_bytes must be positive, got {max_bytes!r}")
        self.directory = Path(directory)
        (self.directory / TEXTS).mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._texts: set[str] = set()
        self._reset()
        _SPOOLS.add(self)

    def _reset(self) -> None:
        """Fresh state; also in a forked child, which must not write to its parent's segment."""
        self._cond = threading.Condition()
        self._fd: int | None = None
        self._path: Path | None = None
        self._written = self._synced = self._shipped = 0
        self._syncing = False
        self._others_bytes = 0  # unshipped bytes of other segments, at the last look

    # -- writing ----------------------------------------------------------------

    def _open_segment(self) -> None:
        name = f"{os.getpid()}-{uuid.uuid4().hex[:12]}{SEGMENT}"
        hidden = self.directory / f".{name}.new"
        fd = os.open(hidden, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # before anyone can see it
        os.rename(hidden, self.directory / name)
        _fsync_dir(self.directory)
        self._fd, self._path = fd, self.directory / name
        self._written = self._synced = self._shipped = 0

    def append(self, entry: dict[str, Any]) -> None:
        """Write one entry and return once it is on disk; SpoolFull when over the bound."""
        data = frame({**entry, "spooled_at": time.time()})
        cond = self._cond
        with cond:
            if self._fd is None:
                self._open_segment()
            fd = self._fd
            assert fd is not None
            if self._written - self._shipped + self._others_bytes + len(data) > self.max_bytes:
                raise SpoolFull(self._written - self._shipped + self._others_bytes)
            offset = self._written
            try:
                written = os.write(fd, data)
                while written < len(data):  # short writes happen only on a full disk
                    written += os.write(fd, data[written:])
            except BaseException:
                os.ftruncate(fd, offset)  # leave no half entry behind a live writer
                raise
            end = self._written = offset + len(data)
            while self._synced < end:  # group commit: one fsync serves every waiter
                if self._syncing:
                    cond.wait()
                    continue
                self._syncing, target = True, self._written
                cond.release()
                try:
                    _sync(fd)
                finally:
                    cond.acquire()
                    self._syncing = False
                    cond.notify_all()
                self._synced = max(self._synced, target)

    def write_text(self, name: str, text: str) -> None:
        """Keep ``text`` as ``texts/name``, durably, once (the name carries its hash)."""
        if name in self._texts:
            return
        path = self.directory / TEXTS / name
        if not path.exists():
            _write_atomically(path, text, durable=True)
        self._texts.add(name)

    def read_text(self, name: str) -> str | None:
        try:
            return (self.directory / TEXTS / name).read_text("utf-8")
        except FileNotFoundError:
            return None

    # -- shipping ---------------------------------------------------------------

    def ship_own(self, deliver: Deliver, batch: int) -> None:
        """Deliver this process's durable entries, batch by batch, until none is left."""
        while True:
            with self._cond:
                fd, path, start, synced = self._fd, self._path, self._shipped, self._synced
            if fd is None or path is None or synced <= start:
                self._rotate_if_done()
                return
            # A window holds whole entries (each is at most MAX_ENTRY) and keeps a long
            # backlog from being read again for every batch.
            window = min(synced - start, 4 * MAX_ENTRY)
            found = scan(os.pread(fd, window, start), 0, batch)
            if found.torn and window < synced - start:  # an entry the window cut: next time
                found = Scan(found.entries, found.stop, 0, found.skipped)
            damaged = [*found.skipped, *([(found.stop, synced - start)] if found.torn else [])]
            for begin, end in damaged:  # only a disk fault damages a live segment
                logger.error(
                    "consent spool %s: bytes %d-%d are damaged", path, start + begin, start + end
                )
            if found.entries:
                deliver([json.loads(entry) for _, entry in found.entries])
            stop = start + (synced - start if found.torn else found.stop)
            with self._cond:
                self._shipped = stop
            _write_atomically(path.with_name(path.name + SHIPPED), str(stop), durable=False)

    def _rotate_if_done(self, threshold: int = 4 << 20) -> None:
        """Start a new segment once a large one is all shipped (nothing is pending in it)."""
        with self._cond:
            if self._fd is None or self._syncing or self._written < threshold:
                return
            if self._shipped < self._written:
                return
            self._drop_own()

    def _drop_own(self) -> None:
        assert self._fd is not None and self._path is not None
        self._path.unlink(missing_ok=True)
        self._path.with_name(self._path.name + SHIPPED).unlink(missing_ok=True)
        os.close(self._fd)  # releases the lock
        self._fd, self._path = None, None
        self._written = self._synced = self._shipped = 0

    def claim_others(self, deliver: Deliver, batch: int) -> None:
        """Ship and delete the segments of dead processes (those whose lock can be taken)."""
        others = 0
        for path in _segments(self.directory):
            if path == self._path:
                continue
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # a live process: it ships its own
                    others += max(0, os.fstat(fd).st_size - _shipped(path))
                    continue
                try:
                    if os.stat(path).st_ino != os.fstat(fd).st_ino:
                        continue  # shipped and deleted by another process meanwhile
                except FileNotFoundError:
                    continue
                self._drain(path, fd, deliver, batch)
            finally:
                os.close(fd)
        self._others_bytes = others
        for hidden in self.directory.glob(".*.seg.new"):  # created, never renamed: empty
            try:
                if time.time() - hidden.stat().st_mtime > 60:  # not one being created now
                    self._remove_if_unlocked(hidden)
            except FileNotFoundError:
                pass

    def _drain(self, path: Path, fd: int, deliver: Deliver, batch: int) -> None:
        start = _shipped(path)
        data = os.pread(fd, os.fstat(fd).st_size, 0)
        while True:
            found = scan(data, start, batch)
            for begin, end in found.skipped:
                logger.error("consent spool %s: bytes %d-%d are damaged, skipped", path, begin, end)
            if found.entries:
                deliver([json.loads(entry) for _, entry in found.entries])
            start = found.stop
            if found.torn or start >= len(data):
                break
            _write_atomically(path.with_name(path.name + SHIPPED), str(start), durable=False)
        if found.torn:
            logger.warning(
                "consent spool %s: its last entry (%d bytes) is torn, as a process stopped "
                "mid-write leaves it; skipped, never shipped (it was never acknowledged)",
                path,
                found.torn,
            )
        path.unlink()
        path.with_name(path.name + SHIPPED).unlink(missing_ok=True)

    def _remove_if_unlocked(self, path: Path) -> None:
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink(missing_ok=True)
        except BlockingIOError:
            pass
        finally:
            os.close(fd)

    def record_error(self, error: str) -> None:
        """Persist the last shipping error for ``cookieguard consents status``."""
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        text = json.dumps({"at": now, "pid": os.getpid(), "error": error})
        _write_atomically(self.directory / LAST_ERROR, text, durable=False)

    def close(self) -> None:
        """Let go of this process's segment: deleted if all shipped, else left for others."""
        with self._cond:
            if self._fd is None:
                return
            if self._shipped >= self._written and not self._syncing:
                self._drop_own()
            else:
                os.close(self._fd)
                self._fd, self._path = None, None


def _after_fork_in_child() -> None:
    for spool in list(_SPOOLS):
        if spool._fd is not None:
            os.close(spool._fd)  # the parent keeps its lock through its own descriptor
        spool._reset()


os.register_at_fork(after_in_child=_after_fork_in_child)
