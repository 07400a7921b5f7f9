"""One bounded cache, for every memory the middleware keeps of what clients sent.

A :class:`BoundedCache` is a ``dict`` (so a hit is one C-level ``dict.get``)
whose :meth:`~BoundedCache.put` keeps it within a number of entries *and* a
number of bytes, dropping the oldest entries first. What a client sends can
fill it, never grow it: an entry larger than ``max_item_bytes`` is not stored
at all. Sizes are estimates (:func:`size_of`), made once when an entry is
stored; the bound holds for the estimate.

Threads may share a cache: reads take no lock; writes take one, so the byte
count stays exact.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any, Generic, TypeVar

__all__ = ["BoundedCache", "memoize", "size_of"]

K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

# What a small Python object costs beside its text, roughly (CPython, 64-bit).
_OVERHEAD = 64


def size_of(item: object) -> int:
    """A cheap estimate of the bytes ``item`` holds: its text, plus a fixed overhead."""
    if isinstance(item, (str, bytes, bytearray)):
        return len(item) + _OVERHEAD
    if isinstance(item, tuple):
        return _OVERHEAD + sum(size_of(i) for i in item)
    return _OVERHEAD


class BoundedCache(dict[K, V], Generic[K, V]):
    """A ``dict`` bounded in entries and bytes; write with :meth:`put`, never ``[]=``."""

    def __init__(
        self,
        max_entries: int,
        max_bytes: int,
        *,
        max_item_bytes: int | None = None,
        size: Callable[[K, V], int] | None = None,
    ) -> None:
        super().__init__()
        if max_entries <= 0 or max_bytes <= 0:
            raise ValueError("a bounded cache needs positive bounds")
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.max_item_bytes = max_bytes if max_item_bytes is None else max_item_bytes
        self._size = size or _default_size
        self._sizes: OrderedDict[K, int] = OrderedDict()  # oldest first: O(1) eviction
        self.bytes = 0
        self._lock = threading.Lock()

    def put(self, key: K, value: V) -> V:
        """Remember ``value`` for ``key`` (unless it is too big) and return it."""
        cost = self._size(key, value)
        if cost > self.max_item_bytes:
            return value
        sizes = self._sizes
        with self._lock:
            old = sizes.pop(key, None)
            if old is not None:
                self.bytes -= old
            while sizes and (len(sizes) >= self.max_entries or self.bytes + cost > self.max_bytes):
                oldest, freed = sizes.popitem(last=False)
                self.bytes -= freed
                dict.pop(self, oldest, None)
            sizes[key] = cost
            self.bytes += cost
            dict.__setitem__(self, key, value)
        return value

    def clear(self) -> None:
        with self._lock:
            super().clear()
            self._sizes.clear()
            self.bytes = 0

    def __setitem__(self, key: K, value: V) -> None:  # keep every write bounded
        self.put(key, value)


def _default_size(key: object, value: object) -> int:
    if isinstance(key, (str, bytes)):  # the common case, cheaply: a name and a small object
        size = len(key) + _OVERHEAD
    else:
        size = size_of(key)
    if isinstance(value, (str, bytes)):
        return size + len(value) + _OVERHEAD
    return size + (_OVERHEAD if not isinstance(value, tuple) else size_of(value))


def memoize(
    max_entries: int, max_bytes: int, *, max_item_bytes: int | None = None
) -> Callable[[Callable[..., R]], Callable[..., R]]:
    """``functools.lru_cache`` for pure functions of hashable arguments, bounded in bytes."""

    def decorate(function: Callable[..., R]) -> Callable[..., R]:
        cache: BoundedCache[tuple[Any, ...], R] = BoundedCache(
            max_entries, max_bytes, max_item_bytes=max_item_bytes
        )
        missing = object()

        @wraps(function)
        def memoized(*args: Any) -> R:
            found = cache.get(args, missing)
            if found is missing:
                return cache.put(args, function(*args))
            return found  # type: ignore[return-value]

        memoized.cache = cache  # type: ignore[attr-defined]
        return memoized

    return decorate
