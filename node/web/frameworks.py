"""The secretariat's framework pages: the versions this node holds (drafts, published,
endorsed), deriving a national framework from the baseline, contextualising and translating
its criteria, publishing it, and asking the global node to endorse it.

The secretariat and administrators read every page; changes are made by administrators only,
as the API allows (`frameworks.routes` and `membership.routes` answer 403 to anyone else).
Everything is done by `frameworks.service` and `membership.service`, as the API does it; a
refusal of theirs (409 or 422) is shown on the page under a heading in the reader's language,
with the status the API would answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final, TypeVar

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlmodel import Session, col, select

from sdgcities.node.accounts.models import Role
from sdgcities.node.audit.models import AuditEntry
from sdgcities.node.deps import ReadSessionDep, SessionDep, StateDep
from sdgcities.node.errors import Conflict, InvalidRequest, NodeError
from sdgcities.node.frameworks import service
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.frameworks.schemas import (
    CriterionContextualise,
    FrameworkDerive,
    TranslationPut,
)
from sdgcities.node.frameworks.translations import in_language
from sdgcities.node.membership.service import send_endorsement_request
from sdgcities.node.state import NodeState

from .committee import FieldError
from .i18n import BY_CODE, LANGUAGES, N_, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access
from .terms import LEVEL_NAMES

router = APIRouter(include_in_schema=False)
Staff = Annotated[WebCaller, page_access(Role.SECRETARIAT, Role.ADMINISTRATOR)]
Administrator = Annotated[WebCaller, page_access(Role.ADMINISTRATOR)]
VersionId = Annotated[int, Path(ge=1, le=2**31 - 1)]
CriterionCode = Annotated[str, Path(max_length=32)]
VERSIONS_SHOWN: Final = 200
M = TypeVar("M", bound=BaseModel)
REQUESTED_ACTION: Final = "framework.request_endorsement"
DONE_NOTICES: Final = {
    "derived": N_("The national framework is derived as a draft. Contextualise it below."),
    "contextualised": N_("The criterion is reworded. Its earlier translations were removed."),
    "translated": N_("The translation is saved."),
    "published": N_("The version is published: it can no longer change."),
    "requested": N_("The endorsement request is sent to the global node."),
}
# One message per field, whatever rule of the API's schema the value broke.
FIELD_MESSAGES: Final = {
    "base_id": N_("Choose the published baseline version to start from."),
    "framework_id": N_(
        "Enter an identifier of lower-case letters, digits and single hyphens, such as "
        "sdgcities-ke (at most 64 characters)."
    ),
    "version": N_(
        "Enter a version of letters and digits, separated by dots or hyphens, such as 1 or 1.1."
    ),
    "title": N_("Enter a title of at most 500 characters."),
    "text": N_("Enter the criterion's text (at most 5,000 characters)."),
    "evidence_expected": N_(
        "List the evidence expected, one item a line: 1 to 50 items of at most 500 characters."
    ),
    "language": N_("Choose a language other than the framework's own."),
    "confirm": N_("Confirm that this version is final before publishing it."),
}
REFUSAL_HEADINGS: Final = {
    409: N_("The framework service refused this: it conflicts with the version's state"),
    422: N_("The framework service refused this: the change is not valid"),
}


def _path(language: Language, *parts: object) -> str:
    return "/".join([f"/{language.code}/frameworks", *(str(part) for part in parts)])


def _lines(raw: str) -> list[str]:
    return [line.strip() for line in raw.splitlines() if line.strip()]


def _field(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _parse(
    model: type[M], data: dict[str, Any], field_id: Callable[[str], str]
) -> tuple[M | None, list[FieldError]]:
    """The form's values as the API's request body, or an error next to each field at fault."""
    try:
        return model.model_validate(data), []
    except ValidationError as invalid:
        names = dict.fromkeys(str(error["loc"][0]) for error in invalid.errors() if error["loc"])
        return None, [FieldError(field_id(name), FIELD_MESSAGES[name]) for name in names]


def _refusal(refused: NodeError) -> dict[str, Any]:
    return {
        "heading": REFUSAL_HEADINGS.get(refused.status_code, REFUSAL_HEADINGS[409]),
        "detail": refused.message,
    }


def _page_state(
    *,
    done: str | None,
    errors: list[FieldError] | None,
    refusal: dict[str, Any] | None,
    entered: dict[str, str] | None,
) -> dict[str, Any]:
    return {
        "done_notice": DONE_NOTICES.get(done or ""),
        "errors": errors or [],
        "error_by_field": {error.field: error for error in errors or []},
        "refusal": refusal,
        "entered": entered or {},
    }


# The versions -----------------------------------------------------------------------------------


def _versions_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    is_global: bool,
    done: str | None = None,
    errors: list[FieldError] | None = None,
    refusal: dict[str, Any] | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    versions, count = service.list_versions(
        session=session, actor=caller.actor, offset=0, limit=VERSIONS_SHOWN
    )
    return render(
        request,
        "frameworks/versions.html",
        language=language,
        caller=caller,
        status_code=status_code,
        drafts=[v for v in versions if not v.is_published],
        published=[v for v in versions if v.is_published and not v.usable_for_certification],
        endorsed=[v for v in versions if v.usable_for_certification],
        count=count,
        baselines=[v for v in versions if v.is_published and v.country is None],
        may_derive=caller.actor.role is Role.ADMINISTRATOR and not is_global,
        base=_path(language),
        **_page_state(done=done, errors=errors, refusal=refusal, entered=entered),
    )


@router.get("/{lang:lang}/frameworks")
def versions_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    state: StateDep,
    done: str | None = None,
) -> Response:
    return _versions_page(
        request,
        language=language,
        caller=caller,
        session=session,
        is_global=state.settings.is_global,
        done=done,
    )


@router.post("/{lang:lang}/frameworks/derive")
async def derive(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    entered = {name: _field(form, name) for name in ("base_id", "framework_id", "version", "title")}
    body, errors = _parse(
        FrameworkDerive,
        {name: value for name, value in entered.items() if name != "base_id"},
        lambda name: f"derive-{name}",
    )
    raw_base = entered["base_id"]
    base_id = (
        int(raw_base) if raw_base.isascii() and raw_base.isdigit() and len(raw_base) < 10 else 0
    )

    def page(**shown: Any) -> Response:
        return _versions_page(
            request,
            language=language,
            caller=caller,
            session=session,
            is_global=state.settings.is_global,
            entered={f"derive-{name}": value for name, value in entered.items()},
            **shown,
        )

    def derived() -> Response:
        # Only the baselines the form offers may be chosen.
        chosen = session.get(FrameworkVersion, base_id) if base_id else None
        baseline = chosen if chosen and chosen.is_published and chosen.country is None else None
        if baseline is None:
            errors.insert(0, FieldError("derive-base_id", FIELD_MESSAGES["base_id"]))
        if errors or body is None or baseline is None:
            return page(errors=errors, status_code=400)
        try:
            version = service.derive_version(
                session=session,
                base=baseline,
                data=body,
                settings=state.settings,
                actor=caller.actor,
            )
        except (Conflict, InvalidRequest) as refused:
            return page(refusal=_refusal(refused), status_code=refused.status_code)
        return RedirectResponse(f"{_path(language, version.id)}?done=derived", 303)

    return await run_in_threadpool(derived)


# One version ------------------------------------------------------------------------------------


def _endorsement_request(session: Session, version: FrameworkVersion) -> AuditEntry | None:
    """The last time this node asked the global node to endorse `version`, as its log says."""
    return session.exec(
        select(AuditEntry)
        .where(
            AuditEntry.action == REQUESTED_ACTION,
            AuditEntry.target_type == "framework_version",
            AuditEntry.target_id == str(version.id),
        )
        .order_by(col(AuditEntry.id).desc())
    ).first()


def _version_page(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    state: NodeState,
    version_id: int,
    done: str | None = None,
    errors: list[FieldError] | None = None,
    refusal: dict[str, Any] | None = None,
    entered: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    version = service.get_version_or_raise(
        session=session, version_id=version_id, actor=caller.actor
    )
    document = service.document_of(version)
    own = BY_CODE.get(document.language)
    is_admin = caller.actor.role is Role.ADMINISTRATOR
    return render(
        request,
        "frameworks/version.html",
        language=language,
        caller=caller,
        status_code=status_code,
        version=version,
        document=document,
        framework=in_language(document, language=language.code),
        own_language_name=own.name if own else document.language,
        translation_languages=[other for other in LANGUAGES if other.code != document.language],
        language_names={other.code: other.name for other in LANGUAGES},
        level_names=LEVEL_NAMES,
        may_edit=is_admin and not version.is_published,
        may_request=is_admin
        and version.is_published
        and version.endorsement_jws is None
        and not state.settings.is_global,
        is_global=state.settings.is_global,
        requested=_endorsement_request(session, version),
        base=_path(language),
        **_page_state(done=done, errors=errors, refusal=refusal, entered=entered),
    )


@router.get("/{lang:lang}/frameworks/{version_id}")
def version_page(
    request: Request,
    language: LanguageDep,
    caller: Staff,
    session: ReadSessionDep,
    state: StateDep,
    version_id: VersionId,
    done: str | None = None,
) -> Response:
    return _version_page(
        request,
        language=language,
        caller=caller,
        session=session,
        state=state,
        version_id=version_id,
        done=done,
    )


async def _change(
    request: Request,
    *,
    language: Language,
    caller: WebCaller,
    session: Session,
    state: NodeState,
    version_id: int,
    entered: dict[str, str],
    errors: list[FieldError],
    apply: Callable[[], object] | None,
    done: str,
    anchor: str = "",
) -> Response:
    """Apply one change through the service; on a mistake or a refusal, the version's page again
    with what was entered."""

    def changed() -> Response:
        def page(**shown: Any) -> Response:
            return _version_page(
                request,
                language=language,
                caller=caller,
                session=session,
                state=state,
                version_id=version_id,
                entered=entered,
                **shown,
            )

        if errors or apply is None:
            return page(errors=errors, status_code=400)
        try:
            apply()
        except (Conflict, InvalidRequest) as refused:
            return page(refusal=_refusal(refused), status_code=refused.status_code)
        return RedirectResponse(f"{_path(language, version_id)}?done={done}{anchor}", 303)

    return await run_in_threadpool(changed)


def _criterion_text(
    form: Any, model: type[M], prefix: str
) -> tuple[M | None, list[FieldError], dict[str, str]]:
    """A criterion's text and expected evidence from the form whose fields are named `prefix`-:
    the request body or the errors, and what was entered (to show again on an error)."""
    text, evidence = _field(form, "text"), _field(form, "evidence_expected")
    body, errors = _parse(
        model,
        {"text": text, "evidence_expected": _lines(evidence)},
        lambda name: f"{prefix}-{name}",
    )
    return body, errors, {f"{prefix}-text": text, f"{prefix}-evidence_expected": evidence}


def _on_version(
    session: Session,
    caller: WebCaller,
    version_id: int,
    change: Callable[[FrameworkVersion], object],
) -> Callable[[], object]:
    """`change` applied to the version, read and locked for it, as `_change`'s `apply`."""

    def apply() -> object:
        version = service.get_version_or_raise(
            session=session, version_id=version_id, actor=caller.actor, for_update=True
        )
        return change(version)

    return apply


@router.post("/{lang:lang}/frameworks/{version_id}/criteria/{code}/text")
async def contextualise(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
    version_id: VersionId,
    code: CriterionCode,
) -> Response:
    await check_csrf(request, caller)
    body, errors, entered = _criterion_text(
        await request.form(), CriterionContextualise, f"text-{code}"
    )

    def contextualise(version: FrameworkVersion) -> object:
        assert body is not None
        return service.contextualise_criterion(
            session=session, version=version, code=code, data=body, actor=caller.actor
        )

    return await _change(
        request,
        language=language,
        caller=caller,
        session=session,
        state=state,
        version_id=version_id,
        entered=entered,
        errors=errors,
        apply=_on_version(session, caller, version_id, contextualise),
        done="contextualised",
        anchor=f"#criterion-{code}",
    )


@router.post("/{lang:lang}/frameworks/{version_id}/criteria/{code}/translation")
async def translate(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
    version_id: VersionId,
    code: CriterionCode,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    prefix = f"translation-{code}"
    into = _field(form, "language")
    body, errors, entered = _criterion_text(form, TranslationPut, prefix)
    if into not in BY_CODE:
        errors.insert(0, FieldError(f"{prefix}-language", FIELD_MESSAGES["language"]))

    def translate(version: FrameworkVersion) -> object:
        assert body is not None
        return service.add_translation(
            session=session,
            version=version,
            code=code,
            language=into,
            data=body,
            actor=caller.actor,
        )

    return await _change(
        request,
        language=language,
        caller=caller,
        session=session,
        state=state,
        version_id=version_id,
        entered={f"{prefix}-language": into, **entered},
        errors=errors,
        apply=_on_version(session, caller, version_id, translate),
        done="translated",
        anchor=f"#criterion-{code}",
    )


@router.post("/{lang:lang}/frameworks/{version_id}/publish")
async def publish(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
    version_id: VersionId,
) -> Response:
    await check_csrf(request, caller)
    form = await request.form()
    confirmed = _field(form, "confirm") == "yes"
    errors = [] if confirmed else [FieldError("publish-confirm", FIELD_MESSAGES["confirm"])]

    return await _change(
        request,
        language=language,
        caller=caller,
        session=session,
        state=state,
        version_id=version_id,
        entered={},
        errors=errors,
        apply=_on_version(
            session,
            caller,
            version_id,
            lambda version: service.publish_version(
                session=session, version=version, actor=caller.actor
            ),
        ),
        done="published",
    )


@router.post("/{lang:lang}/frameworks/{version_id}/endorsement-request")
async def request_endorsement(
    request: Request,
    language: LanguageDep,
    caller: Administrator,
    session: SessionDep,
    state: StateDep,
    version_id: VersionId,
) -> Response:
    await check_csrf(request, caller)

    def apply() -> object:
        return send_endorsement_request(
            session=session, state=state, version_id=version_id, actor=caller.actor
        )

    return await _change(
        request,
        language=language,
        caller=caller,
        session=session,
        state=state,
        version_id=version_id,
        entered={},
        errors=[],
        apply=apply,
        done="requested",
        anchor="#endorsement",
    )
