"""What a verifier remembers about status lists between verifications.

`StatusListHistory` is the rule of DESIGN §4 that a status list only moves forward: the newest
`validFrom` accepted for each list URL. A list signed earlier than one already accepted is a
replay (a mirror, a cache or whoever hands over an offline bundle hiding a revocation), and the
honest answer to it is "cannot decide". A node never signs two versions of one list with the same
`validFrom` (it moves the second one on by a second), so an equal `validFrom` is the same list.

`StatusListCache` keeps the lists a verifier has checked, within a byte budget: a certificate may
point at any list of its issuer, and without a budget a few dozen distinct lists of a few MiB each
would hold a gigabyte. The lists stored longest ago go first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from .errors import StatusListRollback
from .vc import isoformat

# A list URL is at most a few hundred bytes and its date a float: 100,000 lists (far more than a
# federation of 200 nodes publishes) stay within a few tens of MiB.
DEFAULT_HISTORY_URLS = 100_000
DEFAULT_CACHE_BYTES = 64 * 1024 * 1024


class StatusListHistory:
    """The newest `validFrom` accepted per status-list URL; it never goes back.

    Thread-safe. `snapshot()` and the constructor let a caller keep it across runs (the CLI writes
    it next to its bundle; a node keeps one for its lifetime). When more than `max_urls` lists are
    remembered, the one accepted longest ago is forgotten first: a list needs a valid signature of
    a trusted node to be remembered at all, so only the federation's own lists fill it.
    """

    def __init__(
        self,
        newest: Mapping[str, datetime] | None = None,
        *,
        max_urls: int = DEFAULT_HISTORY_URLS,
    ) -> None:
        if max_urls < 1:
            raise ValueError("max_urls must be positive")
        self._max_urls = max_urls
        self._newest: OrderedDict[str, float] = OrderedDict(
            (url, moment.timestamp()) for url, moment in (newest or {}).items()
        )
        self._lock = threading.Lock()
        self._trim()

    def check(self, url: str, valid_from: datetime) -> None:
        """Raise `StatusListRollback` when a list newer than `valid_from` was accepted for `url`."""
        newest = self._newest.get(url)
        if newest is not None and valid_from.timestamp() < newest:
            raise StatusListRollback(
                f"status list {url} was signed at {isoformat(valid_from)}, before the one already "
                f"accepted ({isoformat(datetime.fromtimestamp(newest, UTC))}): it may hide a "
                "revocation; get the current list"
            )

    def accept(self, url: str, valid_from: datetime, *, timestamp: float | None = None) -> bool:
        """Check, then remember `valid_from` for `url`; True when it moved the history forward.
        `timestamp`, when given, is `valid_from.timestamp()` already computed."""
        moment = valid_from.timestamp() if timestamp is None else timestamp
        if self._newest.get(url) == moment:  # the usual case, without the lock
            return False
        with self._lock:
            self.check(url, valid_from)
            if self._newest.get(url) == moment:
                return False
            self._newest[url] = moment
            self._newest.move_to_end(url)
            self._trim()
            return True

    def newest(self, url: str) -> datetime | None:
        moment = self._newest.get(url)
        return None if moment is None else datetime.fromtimestamp(moment, UTC)

    def snapshot(self) -> dict[str, datetime]:
        with self._lock:
            return {url: datetime.fromtimestamp(m, UTC) for url, m in self._newest.items()}

    def __len__(self) -> int:
        return len(self._newest)

    def __iter__(self) -> Iterator[str]:
        return iter(self.snapshot())

    def _trim(self) -> None:
        while len(self._newest) > self._max_urls:
            self._newest.popitem(last=False)


V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class _Held(Generic[V]):
    value: V
    cost: int


class StatusListCache(Generic[V]):
    """A map from list URL to what was kept of it, within a byte budget; the list least recently
    stored goes first.

    The caller says what an entry costs (the token's length plus the inflated bitstring). An entry
    dearer than the whole budget is not kept at all. Thread-safe: writes take the lock, and a
    read is one dictionary lookup.
    """

    def __init__(self, *, max_bytes: int = DEFAULT_CACHE_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, _Held[V]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, url: str) -> V | None:
        # Without the lock and without reordering: a verification reads on every call, and an
        # entry moves to the end when it is put again (refetched), so what goes first is the list
        # least recently fetched, close enough to least recently used for a budget.
        held = self._entries.get(url)
        return None if held is None else held.value

    def put(self, url: str, value: V, *, cost: int) -> None:
        with self._lock:
            old = self._entries.pop(url, None)
            if old is not None:
                self._bytes -= old.cost
            if cost > self.max_bytes:
                return
            self._entries[url] = _Held(value, cost)
            self._bytes += cost
            while self._bytes > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self._bytes -= evicted.cost

    def pop(self, url: str) -> None:
        with self._lock:
            old = self._entries.pop(url, None)
            if old is not None:
                self._bytes -= old.cost

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    @property
    def bytes_held(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)
