"""Source rows in chunks of bounded size, and the next chunk prepared while this one is written.

Flat registries: consecutive rows. Nested registries (one row per item; the rows of one natural
key make one record): a record is never split between chunks, and its rows need not be
adjacent in the file. A nested source of more than `spill_after` rows is first read once for
its keys: when each record's rows are adjacent (as a clerk usually lists a person's
qualifications) it is then read as it comes; otherwise it is copied once to a temporary SQLite
file (deleted on close) and read back record by record — records in the order of their first
row, their rows in file order. Either way memory holds a chunk, not the file.
"""

from __future__ import annotations

import pickle
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

Row = tuple[int, Any]  # (file row, cells or RowIssue)
KeyOf = Callable[[Any], "str | None"]  # a row's record key; None: a record of its own
T = TypeVar("T")

SPILL_AFTER = 5000  # nested rows kept in memory before the source is copied to disk
_INSERT_ROWS = 2000


class Chunks:
    """`chunks(size)` → lists of at most `size` records' rows; may be called again (the
    loader's check pass, then its write pass) without reading a spilled source again."""

    def __init__(self, rows: Iterable[Row], key_of: KeyOf | None = None,
                 spill_after: int = SPILL_AFTER) -> None:
        self.rows, self.key_of, self.spill_after = rows, key_of, spill_after
        self.spilled: sqlite3.Connection | None = None
        self.adjacent: bool | None = None  # each record's rows next to each other

    def __call__(self, size: int | None) -> Iterator[list[Row]]:
        if self.key_of is None:
            return _consecutive(self.rows, size)
        return _cut(self._grouped(), size)

    def _grouped(self) -> Iterator[tuple[str, Row]]:
        """(record key, row): the rows of one record together."""
        if self.spilled is not None:
            yield from self._read_back()
            return
        key_of = self.key_of
        assert key_of is not None
        it = iter(self.rows)
        head = list(islice(it, self.spill_after + 1))
        if len(head) <= self.spill_after:  # small: grouped in memory
            first: dict[str, int] = {}
            keyed = []
            for i, (number, raw) in enumerate(head):
                key = _own(key_of(raw), number)
                keyed.append((first.setdefault(key, i), i, key, (number, raw)))
            keyed.sort(key=lambda k: (k[0], k[1]))
            for _, _, key, row in keyed:
                yield key, row
            return
        del head, it
        if self.adjacent is None:
            self.adjacent = self._adjacent()
        if self.adjacent:
            for number, raw in self.rows:
                yield _own(key_of(raw), number), (number, raw)
            return
        self._spill(iter(self.rows))
        yield from self._read_back()

    def _adjacent(self) -> bool:
        """One pass over the keys: does every record's rows come one after another?"""
        key_of = self.key_of
        assert key_of is not None
        seen = SeenKeys()  # keys of the records before this batch
        try:
            current, batch = None, {}  # hash → row: records begun in this batch
            for number, raw in self.rows:
                key = _own(key_of(raw), number)
                if key == current:
                    continue
                h = hash(key)
                if h in batch:
                    return False
                batch[h] = number
                current = key
                if len(batch) >= _INSERT_ROWS:
                    if seen.firsts(list(batch)):
                        return False
                    seen.add(list(batch.items()))
                    batch = {}
            return not seen.firsts(list(batch))
        finally:
            seen.close()

    def _spill(self, rows: Iterator[Row]) -> None:
        key_of = self.key_of
        assert key_of is not None
        # "": a private on-disk database SQLite deletes when it is closed
        db = sqlite3.connect("", check_same_thread=False)
        db.execute("PRAGMA cache_size = -8000")  # KiB
        db.execute("CREATE TABLE r (k TEXT NOT NULL, n INTEGER NOT NULL, v BLOB NOT NULL)")
        while batch := list(islice(rows, _INSERT_ROWS)):
            db.executemany("INSERT INTO r VALUES (?, ?, ?)", [
                (_own(key_of(raw), number), number, pickle.dumps(raw, pickle.HIGHEST_PROTOCOL))
                for number, raw in batch])
        db.execute("CREATE INDEX r_k ON r (k, n)")
        db.commit()
        self.spilled = db

    def _read_back(self) -> Iterator[tuple[str, Row]]:
        assert self.spilled is not None
        cursor = self.spilled.execute(
            "SELECT r.k, r.n, r.v FROM r JOIN (SELECT k, min(n) AS f FROM r GROUP BY k) g "
            "ON g.k = r.k ORDER BY g.f, r.n")
        for k, number, v in cursor:
            yield k, (number, pickle.loads(v))  # our own temporary file

    def close(self) -> None:
        if self.spilled is not None:
            self.spilled.close()
            self.spilled = None


class SeenKeys:
    """The natural keys of the records read so far (a hash → the file row of its record), to
    report a key repeated in a later chunk: a dict up to `in_memory` keys, then a temporary
    SQLite file (deleted on close), so a file of millions of keys does not grow memory."""

    def __init__(self, in_memory: int = 100_000) -> None:
        self.in_memory = in_memory
        self.recent: dict[int, int] = {}
        self.spilled: sqlite3.Connection | None = None

    def firsts(self, keys: list[int]) -> dict[int, int]:
        """The file row of each of `keys` seen before (keys not seen are left out)."""
        found = {k: self.recent[k] for k in keys if k in self.recent}
        if self.spilled is not None:
            for i in range(0, len(keys), 5000):
                part = keys[i:i + 5000]
                found.update(self.spilled.execute(
                    f"SELECT h, n FROM seen WHERE h IN ({','.join('?' * len(part))})", part))
        return found

    def add(self, pairs: list[tuple[int, int]]) -> None:
        self.recent.update(pairs)
        if len(self.recent) > self.in_memory:
            if self.spilled is None:
                self.spilled = sqlite3.connect("", check_same_thread=False)
                self.spilled.execute("PRAGMA cache_size = -8000")
                self.spilled.execute("CREATE TABLE seen (h INTEGER PRIMARY KEY, n INTEGER)")
            self.spilled.executemany("INSERT INTO seen VALUES (?, ?)", self.recent.items())
            self.recent.clear()

    def close(self) -> None:
        if self.spilled is not None:
            self.spilled.close()
            self.spilled = None


def _consecutive(rows: Iterable[Row], size: int | None) -> Iterator[list[Row]]:
    it = iter(rows)
    while True:
        chunk = list(islice(it, size)) if size else list(it)
        if not chunk:
            return
        yield chunk
        if not size:
            return


def _own(key: str | None, number: int) -> str:
    return f"\x00{number}" if key is None else key  # no key: a record of its own


def _cut(keyed: Iterator[tuple[str, Row]], size: int | None) -> Iterator[list[Row]]:
    """Chunks of at most `size` records (None: one chunk), each record whole."""
    chunk: list[Row] = []
    records = 0
    last: str | None = None
    for key, row in keyed:
        if key != last:
            if size and records == size:
                yield chunk
                chunk, records = [], 0
            records += 1
            last = key
        chunk.append(row)
    if chunk:
        yield chunk


def ahead(items: Iterator[T]) -> Iterator[T]:
    """The items of `items`, each computed in a thread while the caller works on the one
    before: the next chunk is read and validated while Neo4j writes this one (the caller's
    wait on the server releases the GIL). At most two items exist at once besides the
    caller's; an exception of `items` is raised here."""
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        q.put(("item", item), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            q.put(("end", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer
            q.put(("error", exc))

    worker = threading.Thread(target=produce, name="loader-ahead", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = q.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        while worker.is_alive():  # unblock a producer waiting to put
            try:
                q.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()
