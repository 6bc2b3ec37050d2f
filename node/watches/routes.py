"""`/watches`: anyone may ask to watch a city, a country or a certificate (DESIGN §7, issue 14).

The caller is anonymous: what protects others is that nothing is sent before the owner follows
the link mailed to the address given (`POST /watches/confirm`), that one address may hold only a
few unconfirmed watches, and the per-client rate limit on `POST /watches` (node.app). Cancelling
takes the secret every notice carries.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from sdgcities.node.deps import Anyone, SessionDep, StateDep
from sdgcities.node.errors import InvalidRequest
from sdgcities.node.rate_limit import client_key
from sdgcities.node.timeutil import utcnow

from . import service
from .models import Watch
from .schemas import WatchCreate, WatchLink, WatchPublic

WATCHES_PATH = "/watches"
MAX_WATCH_REQUEST_BYTES = 8 * 1024
WATCH_REQUEST_TOO_LARGE = f"a watch request is at most {MAX_WATCH_REQUEST_BYTES} bytes"
router = APIRouter(tags=["watches"])


def _public(watch: Watch) -> WatchPublic:
    return WatchPublic.model_validate(watch.model_dump())


@router.post(
    WATCHES_PATH,
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"description": "No such city or certificate on this node"}},
)
def create_watch(
    data: WatchCreate, request: Request, session: SessionDep, state: StateDep, _caller: Anyone
) -> WatchPublic:
    """Stores the watch and mails its owner a confirmation link; nothing is sent before that.

    Exactly one of `city`, `country`, `certificate`; a `webhook` watch needs `webhook_url`.
    """
    target = data.target()
    if target is None:
        raise InvalidRequest("name exactly one of city, country or certificate")
    watch = service.create_watch(
        session=session,
        settings=state.settings,
        request=service.WatchRequest(
            email=str(data.email),
            language=data.language,
            target_kind=target[0],
            target=target[1],
            channel=data.channel,
            webhook_url=data.webhook_url,
        ),
        client=client_key(request.scope, state.settings.trusted_proxies),
        now=utcnow(),
    )
    return _public(watch)


@router.post(
    f"{WATCHES_PATH}/confirm",
    responses={404: {"description": "The link is unknown, expired or already used"}},
)
def confirm_watch(data: WatchLink, session: SessionDep, _caller: Anyone) -> WatchPublic:
    """Spends the mailed confirmation link: notices of later events are sent from now on."""
    return _public(service.confirm_watch(session=session, secret=data.token, now=utcnow()))


@router.post(
    f"{WATCHES_PATH}/cancel",
    responses={404: {"description": "The link is unknown"}},
)
def cancel_watch(data: WatchLink, session: SessionDep, _caller: Anyone) -> WatchPublic:
    """Cancels the watch whose cancel link (in every notice) this is."""
    return _public(service.cancel_watch(session=session, secret=data.token, now=utcnow()))
