"""Issue 16 across real processes: a national node's assistance requests and renewal links
reach the global node through its signed, relayed log; what its own key signs for another
country's city, or for a certificate that is not its own, is refused there."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from sdgcities.federation import EventType
from sdgcities.federation.event_data import AssistanceClosed, AssistanceRequested, FrameworkKey
from sdgcities.node.db import make_engine, transaction
from sdgcities.node.events.service import append_event

from .harness import Node, federation
from .test_global_registry import issue

pytestmark = pytest.mark.slow

WITHIN_SECONDS = 20.0


def ask(
    node: Node, request: int, locode: str, criterion: str, *, closure: str | None = None
) -> None:
    """What `node/assistance/service.py` appends when a city asks (and the secretariat closes)."""
    engine = make_engine(f"sqlite:///{node.database}")
    try:
        with transaction(engine) as session:
            subject: dict[str, str | int] = {"locode": locode, "request": request}
            append_event(
                session=session,
                node_id=node.node_id,
                type=EventType.ASSISTANCE_REQUESTED,
                subject=subject,
                data=AssistanceRequested(
                    criterion=criterion,
                    national=False,
                    stage="evidence-based-processes",
                    kind="consultation",
                    framework=FrameworkKey(id="sdgcities-baseline", version="1"),
                ),
            )
            if closure is not None:
                append_event(
                    session=session,
                    node_id=node.node_id,
                    type=EventType.ASSISTANCE_CLOSED,
                    subject=subject,
                    data=AssistanceClosed(closure=closure),
                )
    finally:
        engine.dispose()


def wait_for(read: Callable[[], Any], done: Callable[[Any], bool]) -> Any:
    started = time.monotonic()
    while True:
        value = read()
        if done(value) or time.monotonic() - started > WITHIN_SECONDS:
            return value
        time.sleep(0.2)


def test_requests_by_gap_and_renewal_links_reach_the_global_node(
    tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    global_node, (ke, gh) = federation(tmp_path, processes, ("KE", "GH"))
    accra = issue(gh, "GH-ACC", "Accra", 1, [])
    first = issue(ke, "KE-NBO", "Nairobi", 1, [])
    second = issue(ke, "KE-NBO", "Nairobi", 2, [], renews=first)
    ask(ke, 1, "KE-NBO", "B.c", closure="resolved")
    ask(ke, 2, "KE-MBA", "B.c")
    ask(gh, 1, "GH-ACC", "B.c")
    ask(ke, 3, "GH-ACC", "B.d")  # Kenya reports for a Ghanaian city: refused

    with httpx.Client(timeout=10) as http:
        # Once the global node holds Ghana's certificate, Kenya's key signs a renewal of it:
        # listed, without the link.
        wait_for(
            lambda: http.get(f"{global_node.url}/registry/cities/GH-ACC").status_code,
            lambda status: status == 200,
        )
        third = issue(ke, "KE-MBA", "Mombasa", 3, [], renews=accra)

        def assistance() -> dict[str, Any]:
            answer = http.get(f"{global_node.url}/federation/assistance", headers=global_node.admin)
            assert answer.status_code == 200, answer.text
            return dict(answer.json())

        gaps = wait_for(assistance, lambda body: body["requests"] >= 3)
        assert gaps["requests"] == 3
        (gap,) = gaps["data"]
        assert (gap["criterion"], gap["national"], gap["countries"], gap["cities"]) == (
            "B.c",
            False,
            2,
            3,
        )
        assert (gap["open"], gap["resolved"]) == (2, 1)

        def chain() -> dict[str, Any]:
            answer = http.get(f"{global_node.url}/registry/cities/KE-NBO")
            return dict(answer.json()) if answer.status_code == 200 else {"certificates": []}

        record = wait_for(chain, lambda body: len(body["certificates"]) == 2)
        links = {c["id"]: (c["renews"], c["renewedBy"]) for c in record["certificates"]}
        assert links == {first: (None, second), second: (first, None)}
        mombasa = wait_for(
            lambda: http.get(f"{global_node.url}/registry/cities/KE-MBA").json(),
            lambda body: "certificates" in body,
        )
        assert [(c["id"], c["renews"]) for c in mombasa["certificates"]] == [(third, None)]

        monitoring = wait_for(
            lambda: http.get(
                f"{global_node.url}/federation/monitoring/KE", headers=global_node.admin
            ).json(),
            lambda body: len(body["recent_anomalies"]) >= 2,
        )
        kinds = sorted(a["kind"] for a in monitoring["recent_anomalies"])
        assert kinds == ["invalid_assistance", "invalid_renewal"]
        details = " ".join(a["detail"] for a in monitoring["recent_anomalies"])
        assert "GH-ACC is not in node KE's jurisdiction" in details
        assert f"{accra} is node GH's" in details
