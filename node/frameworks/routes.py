"""`/frameworks`: framework versions, national adaptation, publication and endorsement.

Published versions are public (anyone may read them, as certificates name them); drafts are
visible to staff roles only and answer 404 to everyone else. Only administrators change anything.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from sdgcities.node.accounts.models import Role
from sdgcities.node.actor import Actor
from sdgcities.node.deps import Admin, ReadSessionDep, SessionDep, StateDep, access
from sdgcities.node.members.publish import publish_trust_list
from sdgcities.node.schemas import Id, Limit, Offset

from . import service
from .models import FrameworkStatus, FrameworkVersion
from .schemas import (
    CriterionContextualise,
    CriterionCreate,
    EndorsementSubmit,
    FrameworkDerive,
    FrameworkRevise,
    FrameworkVersionDetail,
    FrameworkVersionPublic,
    FrameworkVersionsPublic,
    IndicatorCreate,
    TranslationPut,
)

router = APIRouter(prefix="/frameworks", tags=["frameworks"])

# Everyone may call; the caller is still identified, because staff also see drafts.
Reader = Annotated[
    Actor,
    access(
        Role.PUBLIC,
        Role.ADMINISTRATOR,
        Role.SECRETARIAT,
        Role.REVIEWER,
        Role.COMMITTEE_MEMBER,
        Role.CITY_APPLICANT,
    ),
]
Code = Annotated[str, Path(max_length=32)]


def _detail(version: FrameworkVersion) -> FrameworkVersionDetail:
    public = FrameworkVersionPublic.model_validate(version)
    return FrameworkVersionDetail(
        **public.model_dump(),
        document=service.document_json(version),
        endorsement_jws=version.endorsement_jws,
    )


@router.get("")
def list_framework_versions(
    session: ReadSessionDep,
    actor: Reader,
    framework_id: Annotated[str | None, Query(max_length=64)] = None,
    status: FrameworkStatus | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> FrameworkVersionsPublic:
    """Framework versions, by framework id then age; drafts only for staff."""
    versions, count = service.list_versions(
        session=session,
        actor=actor,
        offset=offset,
        limit=limit,
        framework_id=framework_id,
        status=status,
    )
    return FrameworkVersionsPublic(
        data=[FrameworkVersionPublic.model_validate(v) for v in versions], count=count
    )


@router.get("/{version_id}")
def get_framework_version(
    session: ReadSessionDep, actor: Reader, version_id: Id
) -> FrameworkVersionDetail:
    """A version with its document and, once endorsed, the endorsement."""
    return _detail(
        service.get_version_or_raise(session=session, version_id=version_id, actor=actor)
    )


@router.get("/{version_id}/document", response_class=Response)
def get_framework_document(session: ReadSessionDep, actor: Reader, version_id: Id) -> Response:
    """The document exactly as stored: RFC 8785 canonical JSON, whose SHA-256 is the digest."""
    version = service.get_version_or_raise(session=session, version_id=version_id, actor=actor)
    headers = {"ETag": f'"{version.digest}"'} if version.digest else {}
    return Response(version.document, media_type="application/json", headers=headers)


@router.post("/{version_id}/derive", status_code=status.HTTP_201_CREATED)
def derive_national_framework(
    session: SessionDep, state: StateDep, actor: Admin, version_id: Id, body: FrameworkDerive
) -> FrameworkVersionDetail:
    """A national draft for this node's country, copied from a published baseline version."""
    base = service.get_version_or_raise(session=session, version_id=version_id, actor=actor)
    return _detail(
        service.derive_version(
            session=session, base=base, data=body, settings=state.settings, actor=actor
        )
    )


@router.post("/{version_id}/revise", status_code=status.HTTP_201_CREATED)
def revise_framework(
    session: SessionDep, state: StateDep, actor: Admin, version_id: Id, body: FrameworkRevise
) -> FrameworkVersionDetail:
    """A new draft version of a published framework of this node, to change it."""
    base = service.get_version_or_raise(session=session, version_id=version_id, actor=actor)
    return _detail(
        service.revise_version(
            session=session, base=base, data=body, settings=state.settings, actor=actor
        )
    )


@router.patch("/{version_id}/criteria/{code}")
def contextualise_criterion(
    session: SessionDep, actor: Admin, version_id: Id, code: Code, body: CriterionContextualise
) -> FrameworkVersionDetail:
    """Reword a criterion for the national context (drops its now stale translations)."""
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=actor, for_update=True
    )
    return _detail(
        service.contextualise_criterion(
            session=session, version=version, code=code, data=body, actor=actor
        )
    )


@router.post("/{version_id}/criteria", status_code=status.HTTP_201_CREATED)
def add_criterion(
    session: SessionDep, actor: Admin, version_id: Id, body: CriterionCreate
) -> FrameworkVersionDetail:
    """Add a national criterion at the end of a stage."""
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=actor, for_update=True
    )
    return _detail(service.add_criterion(session=session, version=version, data=body, actor=actor))


@router.post("/{version_id}/criteria/{code}/indicators", status_code=status.HTTP_201_CREATED)
def add_indicator(
    session: SessionDep, actor: Admin, version_id: Id, code: Code, body: IndicatorCreate
) -> FrameworkVersionDetail:
    """Add a (national) indicator to a criterion."""
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=actor, for_update=True
    )
    return _detail(
        service.add_indicator(session=session, version=version, code=code, data=body, actor=actor)
    )


@router.put("/{version_id}/criteria/{code}/translations/{language}")
def put_translation(
    session: SessionDep,
    actor: Admin,
    version_id: Id,
    code: Code,
    language: Annotated[str, Path(max_length=16)],
    body: TranslationPut,
) -> FrameworkVersionDetail:
    """Translate a criterion into `language` (replacing an earlier translation)."""
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=actor, for_update=True
    )
    return _detail(
        service.add_translation(
            session=session, version=version, code=code, language=language, data=body, actor=actor
        )
    )


@router.post("/{version_id}/publish")
def publish_framework_version(
    session: SessionDep, actor: Admin, version_id: Id
) -> FrameworkVersionDetail:
    """Freeze a draft: its document never changes again, and its digest is computed."""
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=actor, for_update=True
    )
    return _detail(service.publish_version(session=session, version=version, actor=actor))


@router.put("/{version_id}/endorsement")
def endorse_framework_version(
    session: SessionDep, state: StateDep, actor: Admin, version_id: Id, body: EndorsementSubmit
) -> FrameworkVersionDetail:
    """Store the global root key's endorsement of a published version, after verifying it."""
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=actor, for_update=True
    )
    already_endorsed = version.endorsement_jws is not None
    endorsed = service.endorse_version(
        session=session, version=version, token=body.jws, settings=state.settings, actor=actor
    )
    if state.root_key is not None and not already_endorsed:
        # The trust list names the global node's own endorsed frameworks: publish it now,
        # as every other change to what it says is published.
        publish_trust_list(session=session, settings=state.settings, root_key=state.root_key)
    return _detail(endorsed)
