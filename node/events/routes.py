from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from sdgcities.federation import MAX_REPORT_EVENTS, MAX_SEQUENCE, REPORT_MEDIA_TYPE
from sdgcities.node.deps import Anyone, ReadSessionDep, StateDep

from .schemas import ChainHeadPublic, FederationEventsPublic
from .service import report_after

router = APIRouter(prefix="/federation", tags=["federation"])

DEFAULT_LIMIT = 500


@router.get(
    "/events",
    responses={
        200: {
            "model": FederationEventsPublic,
            "content": {REPORT_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        404: {"description": "`after` is beyond the end of this node's log"},
    },
)
def read_events(
    request: Request,
    session: ReadSessionDep,
    state: StateDep,
    _actor: Anyone,
    after: Annotated[
        int, Query(ge=0, le=MAX_SEQUENCE, description="The last sequence the caller holds")
    ] = 0,
    limit: Annotated[
        int, Query(ge=1, le=MAX_REPORT_EVENTS, description="The most events to return")
    ] = DEFAULT_LIMIT,
) -> Response:
    """The node's signed event log from sequence `after + 1` (DESIGN §6).

    The events travel in a signed `federation-report+jwt`, the same report the node pushes to
    the global node. By default the answer is JSON: `report` (the signed JWS), `events` (its
    events decoded, for reading only), `head` (the node's last event) and `next` (the URL of the
    following page, or null). With `Accept: application/federation-report+jwt` the body is the
    report alone, and the next page is in a `Link: <...>; rel="next"` header.

    A page holds at most `limit` events, fewer when they would make a report over 4 MiB; an
    empty report (`first` = `after` + 1, `last` = `after`) says that nothing follows `after`.
    An `after` beyond the node's last event answers 404: the caller holds events this node does
    not have.
    """
    page = report_after(session=session, state=state, after=after, limit=limit)
    last = page.events[-1].sequence if page.events else after
    next_url = (
        f"{state.settings.base_url}/federation/events?after={last}&limit={limit}"
        if page.more
        else None
    )
    headers = {"Cache-Control": "no-cache", "Vary": "Accept"}
    if _accepts(request.headers.get("accept", ""), REPORT_MEDIA_TYPE):
        if next_url is not None:
            headers["Link"] = f'<{next_url}>; rel="next"'
        return Response(page.report, media_type=REPORT_MEDIA_TYPE, headers=headers)
    body = FederationEventsPublic(
        report=page.report,
        events=[event.to_json() for event in page.events],
        head=ChainHeadPublic(sequence=page.head.sequence, hash=page.head.hash),
        next=next_url,
    )
    return JSONResponse(body.model_dump(mode="json"), headers=headers)


def _accepts(accept: str, media_type: str) -> bool:
    """Whether the Accept header names `media_type` itself (wildcards get the JSON default)."""
    for item in accept.split(","):
        name, _, parameters = item.partition(";")
        if name.strip().lower() != media_type:
            continue
        for parameter in parameters.split(";"):
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False
