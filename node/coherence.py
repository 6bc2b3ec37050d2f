"""Keeping each process's caches true when another process of the node changes what they hold.

A node's caches live in its process: the verifier's trust list and this node's status lists
(`node.verification`), the ingest's pull wishes (`node.ingest`). With several worker processes
(`node serve --workers N`, PostgreSQL only) a change made in one must reach the others. The
transaction that changes something announces it with `pg_notify`, which PostgreSQL delivers to
every listening session when (and only if) that transaction commits; each process listens on a
connection of its own (`ChangeListener`) and forgets what the change made stale.

Fallbacks, for what a notification can miss: a listener that (re)connects forgets everything it
may have missed; this node's own status lists are also re-read after `OWN_STATUS_MAX_AGE`
(two seconds); the registry and the ingest compare a head or sequence number on every read, so
they need no notice. On SQLite a node is one process and nothing is announced.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any, Final

from sqlalchemy import Engine, text
from sqlmodel import Session

logger = logging.getLogger(__name__)

CHANNEL: Final = "sdgcities_changes"
TRUST_LIST: Final = "trust_list"
"""A trust list was accepted (subject: its sequence)."""
STATUS_LIST: Final = "status_list"
"""One of this node's status lists was re-signed (subject: its id)."""
INGEST_PULL: Final = "ingest_pull"
"""A report showed a gap in a node's log (subject: the node): the leader's pull task pulls it."""

LISTEN_WAIT_SECONDS: Final = 0.5

Handler = Callable[[str | None], None]
"""Called with the changed thing's subject, or None when anything may have changed."""


def dedicated_connection(engine: Engine) -> Any:
    """A psycopg connection (autocommit) of its own: made by the engine's pool, so with its
    settings, and detached from it, so it neither counts against the pool nor returns to it."""
    proxied = engine.raw_connection()
    connection: Any = proxied.driver_connection
    proxied.detach()
    try:
        connection.autocommit = True
    except Exception:
        connection.close()
        raise
    return connection


def this_process() -> str:
    """Who announces: the process (its own announcements are not for it)."""
    return str(os.getpid())


def _payload(topic: str, subject: str, origin: str) -> str:
    return json.dumps({"topic": topic, "subject": subject, "origin": origin})


def announce(session: Session, *, topic: str, subject: str) -> None:
    """Tell the node's other processes, when this transaction commits, that `subject` changed."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text("SELECT pg_notify(:channel, :payload)"),
        {
            "channel": CHANNEL,
            "payload": _payload(topic, subject, this_process()),
        },
    )


class ChangeListener:
    """A thread that listens for the other processes' announcements and calls the handlers.

    Announcements of this process are skipped (it already acted on its own changes). When the
    listening connection is (re)established every handler is called with None: whatever was
    announced while nobody listened is forgotten as if announced.
    """

    def __init__(
        self, engine: Engine, *, wait: float = LISTEN_WAIT_SECONDS, origin: str | None = None
    ) -> None:
        self._engine, self._wait = engine, wait
        self._origin = origin or this_process()
        self._handlers: dict[str, list[Handler]] = {}
        self._outgoing: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()
        # A channel of this listener alone: `stop` notifies it, so the thread leaves its wait at
        # once instead of after up to `wait` seconds (every app shutdown, every test's client).
        self._wake_channel = f"sdgcities_wake_{uuid.uuid4().hex}"

    def on(self, topic: str, handler: Handler) -> None:
        self._handlers.setdefault(topic, []).append(handler)

    def announce_soon(self, *, topic: str, subject: str) -> None:
        """`announce` outside any transaction, without waiting (sent by the listening thread
        within `wait` seconds): for a wish, where there is no change to commit with."""
        if self._engine.dialect.name == "postgresql":
            self._outgoing.put(_payload(topic, subject, self._origin))

    def announcer(self, topic: str) -> Callable[[str], None]:
        """`announce_soon` of `topic`, for a caller that knows only the subject."""

        def announce_subject(subject: str) -> None:
            self.announce_soon(topic=topic, subject=subject)

        return announce_subject

    def start(self) -> None:
        """Listen in a daemon thread (on PostgreSQL; elsewhere there is nobody to hear)."""
        if self._engine.dialect.name != "postgresql" or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="change-listener", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            if self.connected.is_set():
                self._wake()
            self._thread.join(timeout=10)
            self._thread = None

    def _wake(self) -> None:
        """Best effort: without it the thread still stops, after its wait."""
        with suppress(Exception):
            connection = dedicated_connection(self._engine)
            try:
                connection.execute("SELECT pg_notify(%s, '')", (self._wake_channel,))
            finally:
                connection.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            connection: Any = None
            try:
                connection = dedicated_connection(self._engine)
                connection.execute(f"LISTEN {CHANNEL}")
                connection.execute(f"LISTEN {self._wake_channel}")
                self._dispatch_all()
                self.connected.set()
                while not self._stop.is_set():
                    for notice in connection.notifies(timeout=self._wait):
                        if notice.channel == self._wake_channel:
                            break
                        self._dispatch(notice.payload)
                    while not self._outgoing.empty():
                        connection.execute(
                            "SELECT pg_notify(%s, %s)", (CHANNEL, self._outgoing.get())
                        )
            except Exception as exc:  # the database went away: listen again when it is back
                logger.warning("change listener: %s; listening again in %s s", exc, self._wait)
                self.connected.clear()
                self._stop.wait(self._wait)
            finally:
                if connection is not None:
                    with suppress(Exception):
                        connection.close()

    def _dispatch_all(self) -> None:
        for handlers in self._handlers.values():
            for handler in handlers:
                self._call(handler, None)

    def _dispatch(self, payload: str) -> None:
        try:
            notice = json.loads(payload)
            topic, subject, origin = notice["topic"], notice["subject"], notice["origin"]
        except (ValueError, KeyError, TypeError):
            logger.warning("change listener: an announcement it cannot read: %r", payload)
            return
        if origin == self._origin:
            return
        for handler in self._handlers.get(topic, ()):
            self._call(handler, str(subject))

    @staticmethod
    def _call(handler: Handler, subject: str | None) -> None:
        try:
            handler(subject)
        except Exception:
            logger.exception("change listener: a handler failed")
