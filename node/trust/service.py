from __future__ import annotations

from collections.abc import Callable
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine
from sqlmodel import Session, col, select

from sdgcities.credentials import Error as CredentialsError
from sdgcities.credentials import RootNotPinned, TrustAnchor, TrustList
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.coherence import TRUST_LIST, announce
from sdgcities.node.config import Settings
from sdgcities.node.db import after_commit
from sdgcities.node.errors import Conflict, InvalidRequest
from sdgcities.node.timeutil import utcnow

from .models import TrustListCopy

_accept_listeners: WeakKeyDictionary[Engine, list[Callable[[], None]]] = WeakKeyDictionary()


def on_trust_list_accepted(engine: Engine, listener: Callable[[], None]) -> None:
    """Call `listener` whenever a new trust list is kept in `engine`'s database by this process:
    at once, and again when that transaction commits, so that nothing read in between (the old
    list) outlives it. Whoever keeps it (a national sync, an operator's upload, the global
    node's own publishing) need not know who caches it."""
    _accept_listeners.setdefault(engine, []).append(listener)


def current_copy(*, session: Session) -> TrustListCopy | None:
    return session.exec(
        select(TrustListCopy).order_by(col(TrustListCopy.sequence).desc()).limit(1)
    ).first()


def anchor_for(*, session: Session, settings: Settings) -> TrustAnchor:
    latest = current_copy(session=session)
    return TrustAnchor(
        [key.kid for key in settings.pinned_root_keys],
        highest_seen=latest.sequence if latest else -1,
        seen_token=latest.token if latest else None,
    )


def accept_trust_list(
    *, session: Session, settings: Settings, token: str, actor: Actor
) -> tuple[TrustListCopy, bool]:
    """Verify `token` against the pinned root keys and keep it; `False` if it was already kept."""
    if not settings.root_keys:
        raise Conflict("this node pins no global root key (SDGCITIES_ROOT_KEYS)")
    try:
        trust_list = anchor_for(session=session, settings=settings).accept(token, now=utcnow())
    except RootNotPinned as exc:
        raise InvalidRequest(
            f"trust list refused: {exc}; check the root key this node pins "
            "(SDGCITIES_ROOT_KEYS, written by `node init --root-thumbprint`)"
        ) from exc
    except CredentialsError as exc:
        raise InvalidRequest(f"trust list refused: {exc}") from exc
    existing = session.get(TrustListCopy, trust_list.sequence)
    if existing is not None:
        return existing, False
    copy = TrustListCopy(
        sequence=trust_list.sequence,
        token=token,
        issued_at=trust_list.issued_at,
        next_update=trust_list.next_update,
    )
    session.add(copy)
    session.flush()
    for listener in _accept_listeners.get(_engine_of(session), ()):
        listener()
        after_commit(session, listener)
    announce(session, topic=TRUST_LIST, subject=str(trust_list.sequence))
    record(
        session=session,
        actor=actor,
        action="trust_list.accept",
        target_type="trust_list",
        target_id=trust_list.sequence,
    )
    return copy, True


def load_current(*, session: Session, settings: Settings) -> TrustList | None:
    """The current trust list, re-verified (signature and pin) but not refused for staleness:
    the verifier answers "cannot decide" for a stale list, which is more useful than nothing."""
    copy = current_copy(session=session)
    if copy is None:
        return None
    return TrustList.from_jws(
        copy.token,
        pinned_thumbprints=[key.kid for key in settings.pinned_root_keys],
        check_freshness=False,
    )


def _engine_of(session: Session) -> Engine:
    bind = session.get_bind()
    return bind.engine if isinstance(bind, Connection) else bind
