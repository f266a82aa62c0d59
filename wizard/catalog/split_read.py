"""Run a snapshot's catalog queries over one or more sessions and build objects as rows arrive.

The queries are cut into units (a query, or one part of a split query) and handed out
heaviest first: each session prefers its own part of the split queries, so it opens and
caches only its own tables, and takes any unit left when it has none. Sessions run in
threads (psycopg releases the GIL while it waits on the server); the calling thread turns
rows into objects as soon as a read's queries are complete, while the server works on the rest.
"""

from __future__ import annotations

import gc
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row, tuple_row

from wizard.catalog import scope
from wizard.catalog.model import SchemaObject
from wizard.catalog.reads import Query, Read, Rows
from wizard.catalog.sessions import Connect, helper


@dataclass(frozen=True)
class Unit:
    """One query, or one part of a split query, run on one session."""

    query: Query
    part: int
    parts: int

    @property
    def weight(self) -> float:
        return self.query.weight / self.parts


def units(queries: Sequence[Query], parts: int) -> list[Unit]:
    """Every unit of work, heaviest first; split queries cut into ``parts`` parts."""
    cut = [Unit(q, i, parts) for q in queries if q.split and parts > 1 for i in range(parts)]
    whole = [Unit(q, 0, 1) for q in queries if not (q.split and parts > 1)]
    return sorted(cut + whole, key=lambda u: -u.weight)


class _Work:
    """The units not yet taken, shared by the session threads."""

    def __init__(self, todo: list[Unit]) -> None:
        self._todo = todo
        self._lock = threading.Lock()
        self.stopped = threading.Event()
        self.sessions: list[psycopg.Connection] = []

    def cancel(self) -> None:
        """Stop handing out units and cancel the queries running now."""
        self.stopped.set()
        for conn in list(self.sessions):
            with suppress(Exception):
                conn.cancel_safe()

    def take(self, session: int) -> Unit | None:
        """The heaviest unit for ``session``: its own part or a whole query first, else any."""
        with self._lock:
            if self.stopped.is_set() or not self._todo:
                return None
            for i, unit in enumerate(self._todo):
                if unit.parts == 1 or unit.part == session % unit.parts:
                    return self._todo.pop(i)
            return self._todo.pop(0)


_DONE = object()

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector paused while the block runs (in any thread; re-entrant).

    A snapshot allocates hundreds of thousands of acyclic rows and objects; each allocation
    burst would otherwise trigger full collections that scan them all again, and again.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


def _serve(conn: psycopg.Connection, session: int, work: _Work, results: queue.Queue) -> None:
    """Run units on ``conn`` until none is left; rows, errors and the end go to ``results``."""
    work.sessions.append(conn)
    try:
        while (unit := work.take(session)) is not None:
            params = {**scope.params(), "parts": unit.parts, "part": unit.part}
            with conn.cursor(row_factory=tuple_row if unit.query.tuples else dict_row) as cur:
                cur.execute(unit.query.sql, params)
                results.put((unit, cur.fetchall()))
    except BaseException as exc:  # handed to the calling thread, which raises it
        work.stopped.set()
        results.put(exc)
    finally:
        results.put(_DONE)


def _serve_helper(connect: Connect, snapshot_id: str, session: int, work: _Work, results: queue.Queue) -> None:
    conn = helper(connect, snapshot_id)
    if conn is None:
        results.put(_DONE)
        return
    with conn:
        _serve(conn, session, work, results)


def read(
    conn: psycopg.Connection,
    queries: Sequence[Query],
    reads: Sequence[Read],
    *,
    sessions: int = 1,
    connect: Connect | None = None,
    snapshot_id: str | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[SchemaObject]:
    """Run ``queries`` on ``conn`` (and ``sessions - 1`` helpers reading ``snapshot_id``) and build ``reads``.

    Objects come back in the order of ``reads``, whatever order the queries finish in.
    Helpers are opened only with both ``connect`` and ``snapshot_id``.
    """
    if connect is None or snapshot_id is None:
        sessions = 1
    todo = units(queries, sessions)
    expected = {q.name: (sessions if q.split and sessions > 1 else 1) for q in queries}
    work = _Work(list(todo))
    results: queue.Queue = queue.Queue()
    threads = [threading.Thread(target=_serve, args=(conn, 0, work, results), name="catalog-0", daemon=True)]
    for i in range(1, sessions):
        args = (connect, snapshot_id, i, work, results)
        threads.append(threading.Thread(target=_serve_helper, args=args, name=f"catalog-{i}", daemon=True))
    with gc_paused():
        for thread in threads:
            thread.start()
        try:
            return _build(results, len(threads), expected, reads, progress)
        except BaseException:
            work.cancel()
            raise
        finally:
            for thread in threads:
                thread.join()


def _build(
    results: queue.Queue,
    threads: int,
    expected: dict[str, int],
    reads: Sequence[Read],
    progress: Callable[[str], None] | None,
) -> list[SchemaObject]:
    """Take rows from ``results`` until every query is complete, building each read once its rows are in."""
    parts: dict[str, dict[int, Rows]] = {name: {} for name in expected}
    built: dict[str, list[SchemaObject]] = {}
    pending = list(reads)
    running = threads
    while pending:
        if running == 0:
            raise RuntimeError("the catalog sessions ended before every query ran")
        item: Any = results.get()
        if item is _DONE:
            running -= 1
            continue
        if isinstance(item, BaseException):
            raise item
        unit, rows = item
        parts[unit.query.name][unit.part] = rows
        ready = [r for r in pending if all(len(parts[q]) == expected[q] for q in r.queries)]
        for r in ready:
            pending.remove(r)
            args = [_joined(parts[q]) for q in r.queries]
            built[r.label] = r.build(*args)
            if progress is not None:
                progress(r.label)
    return [obj for r in reads for obj in built[r.label]]


def _joined(parts: dict[int, Rows]) -> Rows:
    if len(parts) == 1:
        return next(iter(parts.values()))
    return [row for i in sorted(parts) for row in parts[i]]
