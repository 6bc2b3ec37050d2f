"""When the global node hands pushed reports to worker processes (`ingest_processes`), and
how a refusal crosses back from a worker. The workers at work: tests/integration."""

from __future__ import annotations

import logging

import pytest

from sdgcities.node.errors import InvalidRequest
from sdgcities.node.ingest.service import IngestRuntime, ReportConflict, raise_refusal
from sdgcities.node.ingest.workers import IngestPool, Refusal, ingest_pool

from ..conftest import Backend


def test_no_pool_unless_processes_are_asked_for(backend: Backend) -> None:
    assert ingest_pool(backend.settings, backend.engine) is None


def test_a_pool_on_postgresql_and_a_warning_on_sqlite(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    settings = backend.settings.model_copy(update={"ingest_processes": 2})

    with caplog.at_level(logging.WARNING):
        pool = ingest_pool(settings, backend.engine)

    if backend.name == "postgresql":
        assert isinstance(pool, IngestPool)
        pool.close()  # no worker was started: they are spawned by the first report
        assert not caplog.records
    else:
        assert pool is None
        assert "ingest_processes=2 is ignored on sqlite" in caplog.text


def test_a_national_node_has_no_pool(backend: Backend) -> None:
    settings = backend.settings.model_copy(update={"node_id": "KE", "ingest_processes": 2})

    assert ingest_pool(settings, backend.engine) is None


def test_a_gap_refused_in_a_worker_is_raised_and_pulled_in_the_server() -> None:
    runtime = IngestRuntime()
    refusal = Refusal(ReportConflict, "send events 3 to 9 first", "gap", (3, 9), "KE")

    with pytest.raises(ReportConflict) as raised:
        raise_refusal(runtime, refusal.error())

    assert (raised.value.reason_code, raised.value.missing) == ("gap", (3, 9))
    assert raised.value.message == "send events 3 to 9 first"
    assert runtime.wanted == {"KE"}
    assert runtime.wake.is_set()


def test_other_refusals_are_raised_as_their_own_error_without_a_pull() -> None:
    runtime = IngestRuntime()

    with pytest.raises(InvalidRequest, match="signature does not verify"):
        raise_refusal(runtime, Refusal(InvalidRequest, "signature does not verify").error())
    with pytest.raises(ReportConflict):
        raise_refusal(runtime, Refusal(ReportConflict, "a fork", "fork").error())

    assert runtime.wanted == set()
