from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from sdgcities.credentials import StatusEntry
from sdgcities.node.app import create_app
from sdgcities.node.db import transaction
from sdgcities.node.identity.service import create_signing_key
from sdgcities.node.state import NodeState
from sdgcities.node.status import tasks
from sdgcities.node.status.models import StatusListRecord
from sdgcities.node.status.service import allocate_status_entry
from sdgcities.node.timeutil import utcnow

from ...conftest import TemporaryDatabases
from ..conftest import Backend
from ..fresh_database import fresh_state

WAIT_SECONDS = 10


def allocate_long_ago(state: NodeState) -> StatusEntry:
    """A committed pair whose lists were signed three quarters of their validity ago: due."""
    with transaction(state.engine) as session:
        signed_at = utcnow() - state.settings.status_list_validity * 3 / 4
        return allocate_status_entry(session=session, state=state, now=signed_at).entry


def valid_from(state: NodeState, entry: StatusEntry) -> datetime:
    with Session(state.engine) as session:
        record = session.get(StatusListRecord, entry.list_url.rsplit("/", 1)[1])
        assert record is not None
        return record.valid_from


def test_refresh_once_commits_its_own_transaction(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    with fresh_state(backend, databases) as state:
        entry = allocate_long_ago(state)
        before = valid_from(state, entry)
        refreshed = tasks.refresh_once(state)
        assert refreshed == [entry.list_url.rsplit("/", 1)[1]]
        assert valid_from(state, entry) > before
        assert tasks.refresh_once(state) == []


def test_the_loop_re_signs_due_lists_and_stops(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    with fresh_state(backend, databases) as state:
        entry = allocate_long_ago(state)
        before = valid_from(state, entry)

        async def run() -> None:
            async with tasks.status_refresh(state, interval=0.02):
                deadline = time.monotonic() + WAIT_SECONDS
                while await asyncio.to_thread(valid_from, state, entry) == before:
                    assert time.monotonic() < deadline, "the loop never re-signed the list"
                    await asyncio.sleep(0.02)

        asyncio.run(run())
        assert valid_from(state, entry) > before


def test_the_loop_logs_a_failed_round_and_keeps_going(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def flaky(_state: NodeState) -> list[str]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database is locked")
        return ["revocation-1"]

    monkeypatch.setattr(tasks, "refresh_once", flaky)

    async def run() -> None:
        async with tasks.status_refresh(object(), interval=0.01):  # type: ignore[arg-type]
            deadline = time.monotonic() + WAIT_SECONDS
            while len(calls) < 3:
                assert time.monotonic() < deadline, "the loop stopped after an error"
                await asyncio.sleep(0.01)

    with caplog.at_level(logging.INFO, logger=tasks.__name__):
        asyncio.run(run())
    failures = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(failures) == 1
    assert "re-signing the status lists failed" in failures[0].getMessage()
    assert failures[0].exc_info is not None
    assert any("re-signed status lists revocation-1" in r.getMessage() for r in caplog.records)


def test_shutdown_does_not_wait_for_the_next_round(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []

    def counted(_state: NodeState) -> list[str]:
        calls.append(1)
        return []

    monkeypatch.setattr(tasks, "refresh_once", counted)

    async def run() -> None:
        async with tasks.status_refresh(object(), interval=3600):  # type: ignore[arg-type]
            await asyncio.sleep(0)

    started = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - started < 5
    assert calls == []


def test_the_app_re_signs_lapsed_lists_at_start_and_runs_the_loop(
    backend: Backend, databases: TemporaryDatabases
) -> None:
    with fresh_state(backend, databases) as state:
        with transaction(state.engine) as session:
            create_signing_key(session=session, settings=state.settings)
        entry = allocate_long_ago(state)
        before = valid_from(state, entry)
        app = create_app(state.settings, engine=state.engine)
        # A node that was down past half a list's validity re-signs it before serving it.
        assert valid_from(state, entry) > before
        with TestClient(app) as client:
            response = client.get("/status/" + entry.list_url.rsplit("/", 1)[1])
            assert response.status_code == 200
            assert response.headers["cache-control"] == "public, max-age=300"
        app.state.node.http.close()
