"""Storing, adapting, publishing and endorsing framework versions.

A version is a draft while the node's administrators adapt it (through the pure functions of
`adapt`, so every edit leaves a valid document), then published: its document and digest are
frozen. It becomes usable for certification once it carries an endorsement, a JWS by the global
root key over its id, version and digest for this node, which the node verifies against the root
key(s) it pins (`Settings.root_keys`) before storing it. The same rule holds for the baseline on
every node, the global node included.

Who sees what: staff roles (administrator, secretariat, reviewer, committee member) see drafts;
everyone else, the public included, sees only published versions, and a draft answers 404 to them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from sdgcities.credentials import Endorsement, canonical_json
from sdgcities.credentials import Error as CredentialsError
from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import SYSTEM, Actor
from sdgcities.node.audit.service import record
from sdgcities.node.config import GLOBAL_NODE_ID, Settings
from sdgcities.node.db import page_of, transaction
from sdgcities.node.errors import Conflict, InvalidRequest, NotFound
from sdgcities.node.timeutil import utcnow
from sdgcities.node.trust.service import load_current

from . import adapt
from .baseline import load_baseline
from .document import FrameworkDocument, Indicator
from .errors import DuplicateCriterion, FrameworkError, UnknownCriterion, UnknownStage
from .models import FrameworkStatus, FrameworkVersion
from .schemas import (
    CriterionContextualise,
    CriterionCreate,
    FrameworkDerive,
    FrameworkRevise,
    IndicatorCreate,
    TranslationPut,
)

logger = logging.getLogger(__name__)

DRAFT_READERS = frozenset(
    {Role.ADMINISTRATOR, Role.SECRETARIAT, Role.REVIEWER, Role.COMMITTEE_MEMBER}
)


def canonical_text(document: FrameworkDocument) -> str:
    """The stored form of a document: its RFC 8785 canonical JSON, whose SHA-256 is its digest."""
    return canonical_json(document.to_json_dict()).decode("utf-8")


def document_of(version: FrameworkVersion) -> FrameworkDocument:
    return FrameworkDocument.from_json(version.document)


def document_json(version: FrameworkVersion) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(version.document)
    return data


# Reading ----------------------------------------------------------------------------------------


def sees_drafts(actor: Actor) -> bool:
    return actor.role in DRAFT_READERS


def get_version_or_raise(
    *, session: Session, version_id: int, actor: Actor, for_update: bool = False
) -> FrameworkVersion:
    query = select(FrameworkVersion).where(FrameworkVersion.id == version_id)
    if for_update:
        # Edits read, change and write the whole document: two at once must not lose one.
        query = query.with_for_update()
    version = session.exec(query).first()
    if version is None or (not version.is_published and not sees_drafts(actor)):
        raise NotFound(f"no framework version {version_id}")
    return version


def list_versions(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    framework_id: str | None = None,
    status: FrameworkStatus | None = None,
) -> tuple[list[FrameworkVersion], int]:
    conditions = []
    if framework_id is not None:
        conditions.append(col(FrameworkVersion.framework_id) == framework_id)
    if status is not None:
        conditions.append(col(FrameworkVersion.status) == status)
    if not sees_drafts(actor):
        conditions.append(col(FrameworkVersion.status) == FrameworkStatus.PUBLISHED)
    return page_of(
        session,
        FrameworkVersion,
        conditions=conditions,
        order_by=[col(FrameworkVersion.framework_id), col(FrameworkVersion.id)],
        offset=offset,
        limit=limit,
    )


def find_version(*, session: Session, framework_id: str, version: str) -> FrameworkVersion | None:
    return session.exec(
        select(FrameworkVersion).where(
            FrameworkVersion.framework_id == framework_id, FrameworkVersion.version == version
        )
    ).first()


def check_usable(version: FrameworkVersion) -> None:
    """Raise `Conflict`, with the reason, unless `version` may be used for certification."""
    if not version.is_published:
        raise Conflict(
            f"{version.label} is a draft: applications use a published framework version that "
            "the global root key has endorsed"
        )
    if version.endorsement_jws is None:
        raise Conflict(
            f"{version.label} is not endorsed by the global root key, so it cannot be used for "
            "certification yet"
        )


# The baseline -----------------------------------------------------------------------------------


def ensure_baseline(*, session: Session) -> FrameworkVersion:
    """The packaged global baseline as a published version, stored on first use."""
    baseline = load_baseline()
    existing = find_version(session=session, framework_id=baseline.id, version=baseline.version)
    if existing is not None:
        if existing.digest != baseline.digest:
            # The stored version is what certificates name; the package must not replace it.
            logger.warning(
                "the packaged %s has digest %s but the node published %s; keeping the published",
                baseline.label,
                baseline.digest,
                existing.digest,
            )
        return existing
    now = utcnow()
    version = FrameworkVersion(
        framework_id=baseline.id,
        version=baseline.version,
        title=baseline.title,
        country=None,
        status=FrameworkStatus.PUBLISHED,
        document=canonical_text(baseline),
        digest=baseline.digest,
        created_at=now,
        published_at=now,
    )
    try:
        # Two processes starting at once both try; the loser finds the winner's row.
        with session.begin_nested():
            session.add(version)
    except IntegrityError:
        found = find_version(session=session, framework_id=baseline.id, version=baseline.version)
        assert found is not None
        return found
    record(
        session=session,
        actor=SYSTEM,
        action="framework.seed",
        target_type="framework_version",
        target_id=version.id,
        detail={"framework": baseline.id, "version": baseline.version, "digest": baseline.digest},
    )
    return version


def install_baseline(engine: Engine) -> None:
    """Store the baseline when the node starts, in a transaction of its own."""
    with transaction(engine) as session:
        ensure_baseline(session=session)


# Drafts -----------------------------------------------------------------------------------------


@contextmanager
def _framework_errors() -> Iterator[None]:
    try:
        yield
    except (UnknownCriterion, UnknownStage) as exc:
        raise NotFound(str(exc)) from exc
    except DuplicateCriterion as exc:
        raise Conflict(str(exc)) from exc
    except FrameworkError as exc:
        raise InvalidRequest(str(exc)) from exc


def _add_draft(
    *,
    session: Session,
    document: FrameworkDocument,
    based_on_id: int | None,
    actor: Actor,
    action: str,
    detail: dict[str, Any],
) -> FrameworkVersion:
    if find_version(session=session, framework_id=document.id, version=document.version):
        raise Conflict(f"framework {document.id} version {document.version} already exists")
    version = FrameworkVersion(
        framework_id=document.id,
        version=document.version,
        title=document.title,
        country=document.country,
        status=FrameworkStatus.DRAFT,
        document=canonical_text(document),
        based_on_id=based_on_id,
        created_by=actor.user_id,
    )
    session.add(version)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=action,
        target_type="framework_version",
        target_id=version.id,
        detail=detail,
    )
    return version


def derive_version(
    *,
    session: Session,
    base: FrameworkVersion,
    data: FrameworkDerive,
    settings: Settings,
    actor: Actor,
) -> FrameworkVersion:
    """A national draft for this node's country, copied from the published baseline `base`."""
    if settings.is_global:
        raise InvalidRequest(
            "the global node certifies under the baseline; national frameworks are derived on "
            "national nodes"
        )
    if not base.is_published:
        raise Conflict(
            f"{base.label} is a draft: derive from a published version, whose digest the new "
            "framework names"
        )
    with _framework_errors():
        document = adapt.derive_national(
            document_of(base),
            country=settings.node_id,
            framework_id=data.framework_id,
            version=data.version,
            title=data.title,
        )
    return _add_draft(
        session=session,
        document=document,
        based_on_id=base.id,
        actor=actor,
        action="framework.derive",
        detail={"based_on": base.id},
    )


def revise_version(
    *,
    session: Session,
    base: FrameworkVersion,
    data: FrameworkRevise,
    settings: Settings,
    actor: Actor,
) -> FrameworkVersion:
    """A new draft version of one of this node's published frameworks, to change it."""
    if not base.is_published:
        raise Conflict(f"{base.label} is still a draft: edit it instead of revising it")
    publisher = base.country or GLOBAL_NODE_ID
    if publisher != settings.node_id:
        raise InvalidRequest(
            f"{base.label} is published by {publisher}; this node revises only its own "
            "frameworks (derive a national framework from a baseline instead)"
        )
    with _framework_errors():
        document = adapt.with_version(document_of(base), data.version)
    return _add_draft(
        session=session,
        document=document,
        based_on_id=base.based_on_id,
        actor=actor,
        action="framework.revise",
        detail={"revised_from": base.id},
    )


def _edit(
    *,
    session: Session,
    version: FrameworkVersion,
    actor: Actor,
    action: str,
    change: Callable[[FrameworkDocument], FrameworkDocument],
    detail: dict[str, Any],
) -> FrameworkVersion:
    if version.is_published:
        raise Conflict(
            f"{version.label} is published and can no longer change; revise it into a new "
            "draft version to change it"
        )
    with _framework_errors():
        document = change(document_of(version))
    version.document = canonical_text(document)
    session.add(version)
    session.flush()
    record(
        session=session,
        actor=actor,
        action=action,
        target_type="framework_version",
        target_id=version.id,
        detail=detail,
    )
    return version


def contextualise_criterion(
    *,
    session: Session,
    version: FrameworkVersion,
    code: str,
    data: CriterionContextualise,
    actor: Actor,
) -> FrameworkVersion:
    return _edit(
        session=session,
        version=version,
        actor=actor,
        action="framework.contextualise",
        change=lambda doc: adapt.contextualise(
            doc, code=code, text=data.text, evidence_expected=data.evidence_expected
        ),
        detail={"criterion": code},
    )


def _indicator(data: IndicatorCreate) -> Indicator:
    return Indicator(code=data.code, name=data.name, source=data.source)


def add_criterion(
    *, session: Session, version: FrameworkVersion, data: CriterionCreate, actor: Actor
) -> FrameworkVersion:
    return _edit(
        session=session,
        version=version,
        actor=actor,
        action="framework.add_criterion",
        change=lambda doc: adapt.add_criterion(
            doc,
            stage_key=data.stage,
            code=data.code,
            text=data.text,
            evidence_expected=data.evidence_expected,
            indicators=[_indicator(indicator) for indicator in data.indicators],
            source=data.source,
        ),
        detail={"criterion": data.code, "stage": data.stage},
    )


def add_indicator(
    *,
    session: Session,
    version: FrameworkVersion,
    code: str,
    data: IndicatorCreate,
    actor: Actor,
) -> FrameworkVersion:
    return _edit(
        session=session,
        version=version,
        actor=actor,
        action="framework.add_indicator",
        change=lambda doc: adapt.add_indicator(
            doc, code_of_criterion=code, indicator=_indicator(data)
        ),
        detail={"criterion": code, "indicator": data.code},
    )


def add_translation(
    *,
    session: Session,
    version: FrameworkVersion,
    code: str,
    language: str,
    data: TranslationPut,
    actor: Actor,
) -> FrameworkVersion:
    return _edit(
        session=session,
        version=version,
        actor=actor,
        action="framework.add_translation",
        change=lambda doc: adapt.add_translation(
            doc,
            code=code,
            language=language,
            text=data.text,
            evidence_expected=data.evidence_expected,
        ),
        detail={"criterion": code, "language": language},
    )


# Publishing and endorsement ---------------------------------------------------------------------


def publish_version(
    *, session: Session, version: FrameworkVersion, actor: Actor
) -> FrameworkVersion:
    if version.is_published:
        raise Conflict(f"{version.label} is already published (digest {version.digest})")
    document = document_of(version)
    version.digest = document.digest
    version.status = FrameworkStatus.PUBLISHED
    version.published_at = utcnow()
    session.add(version)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="framework.publish",
        target_type="framework_version",
        target_id=version.id,
        detail={"digest": version.digest},
    )
    return version


def endorse_version(
    *,
    session: Session,
    version: FrameworkVersion,
    token: str,
    settings: Settings,
    actor: Actor,
) -> FrameworkVersion:
    """Verify the global root key's endorsement of `version` for this node and store it.

    Posting the stored endorsement again changes nothing; a different one is refused.
    """
    if not version.is_published:
        raise Conflict(
            f"{version.label} is a draft: publish it first, since an endorsement covers the "
            "published digest"
        )
    if version.endorsement_jws is not None:
        if version.endorsement_jws == token:
            return version
        raise Conflict(f"{version.label} is already endorsed (since {version.endorsed_at})")
    root_keys = settings.pinned_root_keys
    if not root_keys:
        raise Conflict(
            "this node pins no global root key (SDGCITIES_ROOT_KEYS), so it cannot verify "
            "an endorsement"
        )
    try:
        endorsement = Endorsement.verify(
            token, root_keys=root_keys, root_did=_root_did(session=session, settings=settings)
        )
    except CredentialsError as exc:
        raise InvalidRequest(f"endorsement refused: {exc}") from exc
    endorsed = endorsement.framework
    if (endorsed.id, endorsed.version, endorsed.digest) != (
        version.framework_id,
        version.version,
        version.digest,
    ):
        raise InvalidRequest(
            f"endorsement refused: it endorses {endorsed.id} version {endorsed.version} "
            f"({endorsed.digest}), not {version.label} ({version.digest})"
        )
    if endorsement.node_id != settings.node_id:
        raise InvalidRequest(
            f"endorsement refused: it is for node {endorsement.node_id}, and this is node "
            f"{settings.node_id}"
        )
    version.endorsement_jws = token
    version.endorsed_at = endorsement.endorsed_at
    session.add(version)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="framework.endorse",
        target_type="framework_version",
        target_id=version.id,
        detail={"digest": version.digest, "endorsed_at": endorsement.endorsed_at.isoformat()},
    )
    return version


def _root_did(*, session: Session, settings: Settings) -> str | None:
    """The DID of the node holding the root key (the global node), when this node knows it: its
    own, or the issuer of the trust list it holds. Without one, the endorsement's kid is checked
    against its own `iss` only."""
    if settings.is_global:
        return settings.did
    trust_list = load_current(session=session, settings=settings)
    return trust_list.issuer if trust_list is not None else None


def versions_in_use(*, session: Session) -> list[FrameworkVersion]:
    """The published versions this node certifies against, the one to show first first:
    those endorsed for certification (all published ones while none is), national before the
    baseline, newest first."""
    published = session.exec(
        select(FrameworkVersion).where(col(FrameworkVersion.status) == FrameworkStatus.PUBLISHED)
    ).all()
    usable = [version for version in published if version.usable_for_certification]
    chosen = usable or list(published)
    return sorted(chosen, key=lambda version: (version.country is None, -(version.id or 0)))
