"""Spot-check HTTP API: `global_router` on the global node, `national_router` on the others."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Response
from fastapi.responses import FileResponse

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import Anyone, ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.schemas import Id, Limit, Offset

from . import dossiers, rounds
from .models import SpotCheckRound
from .schemas import (
    CheckDetail,
    CheckPublic,
    ChecksPublic,
    OutcomeCreate,
    OutcomeReceived,
    RoundCreate,
    RoundPublic,
    RoundsPublic,
    RoundSummary,
    SignedMessage,
)

global_router = APIRouter(tags=["spot-checks"])
national_router = APIRouter(tags=["spot-checks"])

Drawers = Annotated[Actor, access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Reviewers = Annotated[Actor, access(Role.REVIEWER, Role.SECRETARIAT)]
Readers = Annotated[Actor, access(Role.REVIEWER, Role.SECRETARIAT, Role.ADMINISTRATOR)]

# A file from another node is shown to a person: never sniffed, never run, never cached.
_FILE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "sandbox",
    "Cache-Control": "private, no-store",
}


def _round_public(drawn: SpotCheckRound) -> RoundPublic:
    return RoundPublic.model_validate(
        {**RoundSummary.model_validate(drawn).model_dump(), "document": rounds.document_of(drawn)}
    )


# Global node ------------------------------------------------------------------------------------


@global_router.post("/federation/spot-checks/rounds", status_code=201)
def post_round(
    session: SessionDep, state: StateDep, actor: Drawers, body: RoundCreate
) -> RoundPublic:
    """Draw a round among the awards reported to the global node, and publish it."""
    drawn = rounds.draw_round(
        session=session,
        state=state,
        rate=body.rate,
        window_from=body.window_from,
        window_until=body.window_until,
        actor=actor,
    )
    return _round_public(drawn)


@global_router.get("/federation/spot-checks/rounds")
def get_rounds(
    session: ReadSessionDep,
    _actor: Anyone,
    offset: Offset = 0,
    limit: Limit = 100,
) -> RoundsPublic:
    rows, count = rounds.list_rounds(session=session, offset=offset, limit=limit)
    return RoundsPublic(data=[RoundSummary.model_validate(r) for r in rows], count=count)


@global_router.get("/federation/spot-checks/rounds/{round_id}")
def get_round(session: ReadSessionDep, _actor: Anyone, round_id: Id) -> RoundPublic:
    """A published round: anyone can recompute its selection from its document."""
    return _round_public(rounds.get_round_or_raise(session=session, round_id=round_id))


@global_router.get("/federation/spot-checks/rounds/{round_id}/checks")
def get_round_checks(session: ReadSessionDep, _actor: Readers, round_id: Id) -> ChecksPublic:
    rounds.get_round_or_raise(session=session, round_id=round_id)
    checks = rounds.checks_of(session=session, round_id=round_id)
    return ChecksPublic(data=[CheckPublic.model_validate(c) for c in checks], count=len(checks))


@global_router.get("/federation/spot-checks/checks/{check_id}")
def get_check(session: ReadSessionDep, _actor: Readers, check_id: Id) -> CheckDetail:
    """A selected application, with its dossier once fetched."""
    return CheckDetail.model_validate(rounds.get_check_or_raise(session=session, check_id=check_id))


@global_router.post("/federation/spot-checks/checks/{check_id}/dossier")
def post_fetch_dossier(
    session: SessionDep, state: StateDep, actor: Reviewers, check_id: Id
) -> CheckDetail:
    """Fetch the dossier from the awarding node (a request signed by this node's key)."""
    check = rounds.fetch_dossier(session=session, state=state, check_id=check_id, actor=actor)
    return CheckDetail.model_validate(check)


@global_router.get("/federation/spot-checks/checks/{check_id}/evidence/{digest}")
def get_check_evidence(
    session: ReadSessionDep, state: StateDep, _actor: Reviewers, check_id: Id, digest: str
) -> Response:
    """One evidence file of the dossier, fetched from the awarding node and checked."""
    content, media_type = rounds.fetch_evidence(
        session=session, state=state, check_id=check_id, digest=digest
    )
    name = digest.removeprefix("sha256:")[:16]
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"', **_FILE_HEADERS},
    )


@global_router.post("/federation/spot-checks/checks/{check_id}/outcome")
def post_outcome(
    session: SessionDep, state: StateDep, actor: Reviewers, check_id: Id, body: OutcomeCreate
) -> CheckPublic:
    """Record the re-review's outcome and send it, signed, to the awarding node."""
    check = rounds.record_outcome(
        session=session, state=state, check_id=check_id, data=body, actor=actor
    )
    return CheckPublic.model_validate(check)


@global_router.post("/federation/spot-checks/checks/{check_id}/deliver")
def post_deliver(
    session: SessionDep, state: StateDep, _actor: Drawers, check_id: Id
) -> CheckPublic:
    """Send a recorded outcome again, after its delivery failed."""
    check = rounds.get_check_or_raise(session=session, check_id=check_id, lock=True)
    return CheckPublic.model_validate(rounds.deliver(session=session, state=state, check=check))


# National node ----------------------------------------------------------------------------------


@national_router.post("/federation/dossiers")
def post_dossier_request(
    session: SessionDep, state: StateDep, _actor: Anyone, body: SignedMessage
) -> dict[str, Any]:
    """The dossier of a certified application, for the global node's signed request."""
    return dossiers.dossier_for(session=session, state=state, token=body.token)


@national_router.post("/federation/dossiers/evidence", response_class=FileResponse)
def post_evidence_request(
    session: SessionDep, state: StateDep, _actor: Anyone, body: SignedMessage
) -> FileResponse:
    """One evidence file of a certified application, named by digest in the signed request."""
    path, media_type = dossiers.evidence_for(session=session, state=state, token=body.token)
    return FileResponse(path, media_type=media_type, headers=_FILE_HEADERS)


@national_router.post("/federation/spot-check-outcomes", status_code=201)
def post_spot_check_outcome(
    session: SessionDep, state: StateDep, response: Response, _actor: Anyone, body: SignedMessage
) -> OutcomeReceived:
    """The global node's signed outcome; a negative one puts a suspension proposal on the
    committee's agenda. A re-delivery of an outcome already taken answers 200."""
    received, new = dossiers.receive_outcome(session=session, state=state, token=body.token)
    if not new:
        response.status_code = 200
    return OutcomeReceived.model_validate(received)
