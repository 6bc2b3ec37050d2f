"""`db.after_commit`: what in-memory caches use to forget what a transaction changed."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from sdgcities.node.db import after_commit, make_engine, session_scope


def test_the_callback_runs_once_the_transaction_commits() -> None:
    engine = make_engine("sqlite://")
    calls: list[str] = []
    scope = session_scope(engine)
    session = next(scope)
    after_commit(session, lambda: calls.append("committed"))
    session.execute(text("SELECT 1"))
    assert calls == []
    with pytest.raises(StopIteration):
        next(scope)
    assert calls == ["committed"]


def test_the_callback_does_not_run_when_the_transaction_rolls_back() -> None:
    engine = make_engine("sqlite://")
    calls: list[str] = []
    scope = session_scope(engine)
    session = next(scope)
    after_commit(session, lambda: calls.append("committed"))
    with pytest.raises(RuntimeError):
        scope.throw(RuntimeError("the request failed"))
    assert calls == []
