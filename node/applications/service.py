"""Applications: creating one, answering its criteria, evidence, submission and withdrawal.

    draft ──submit──▶ submitted            (the review states follow in node/review)
      └──────withdraw──────┴──▶ withdrawn

A city applies for one stage at a time, in order, under a framework version usable for
certification, and has at most one open application. Only a draft can be changed, except that
while the reviewers' clarification requests are open the city may change the answers of the
criteria they name and add evidence to them; submission needs every criterion of the stage
answered with a narrative.

On the global node (§26b) an application is only for a city of a country without a national node
(`cities.referral`), and carries the UN language whose technical team reviews it
(`language_for`; re-routed with `set_language` before reviewers are assigned).

Who sees what: a city applicant sees its own city's applications only (any other answers 404,
as if it did not exist); administrators and the secretariat see every application, a reviewer
only those assigned to them (`visible_to`, which every read goes through). Administrators act on
a city's behalf; other staff roles only read.
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from sdgcities.federation import EventType
from sdgcities.federation.event_data import ApplicationChanged
from sdgcities.node.accounts.models import Role
from sdgcities.node.accounts.teams import UN_LANGUAGES, first_un_language
from sdgcities.node.actor import Actor
from sdgcities.node.audit.service import record
from sdgcities.node.certificates.service import holds_valid_certificate
from sdgcities.node.cities.models import City
from sdgcities.node.cities.referral import check_certified_here
from sdgcities.node.cities.service import visible_to as city_visible_to
from sdgcities.node.config import GLOBAL_NODE_ID
from sdgcities.node.db import equal_when_given, page_of
from sdgcities.node.errors import (
    Conflict,
    InvalidRequest,
    NodeError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from sdgcities.node.events.service import append_event
from sdgcities.node.evidence import (
    EvidenceEmpty,
    EvidenceError,
    EvidenceTooLarge,
    EvidenceTypeNotAllowed,
    QuotaExceeded,
    StoredEvidence,
)
from sdgcities.node.fees import service as fees
from sdgcities.node.frameworks import STAGE_ORDER
from sdgcities.node.frameworks import service as frameworks
from sdgcities.node.frameworks.models import FrameworkVersion
from sdgcities.node.review.access import (
    assigned_application_ids,
    is_assigned,
    open_clarification_criteria,
)
from sdgcities.node.timeutil import utcnow

from .models import OPEN_STATES, Application, ApplicationState, CriterionAnswer, Evidence
from .schemas import AnswerUpdate, ApplicationCreate

# Roles that see every application of the node; a reviewer sees those assigned to them.
ALL_APPLICATIONS_READERS = frozenset({Role.ADMINISTRATOR, Role.SECRETARIAT})


def visible_to(
    actor: Actor,
    application: Application,
    *,
    session: Session,
    readers: frozenset[Role] = ALL_APPLICATIONS_READERS,
) -> bool:
    """The one access rule of an application: its city's applicants, its assigned reviewers,
    and the roles of `readers` (what reads the stage reports adds the committee members)."""
    if actor.role is Role.CITY_APPLICANT:
        return actor.city_locode == application.city_locode
    if actor.role is Role.REVIEWER:
        return is_assigned(
            session=session, application_id=application.id, reviewer_id=actor.user_id
        )
    return actor.role in readers


def get_application_or_raise(
    *,
    session: Session,
    application_id: int,
    actor: Actor,
    for_update: bool = False,
    readers: frozenset[Role] = ALL_APPLICATIONS_READERS,
) -> Application:
    """The application, if `actor` may see it (`visible_to`); 404 alike for one that does not
    exist and one hidden from the caller."""
    query = select(Application).where(Application.id == application_id)
    if for_update:
        # State changes (and a report's next version number) read then write; concurrent ones
        # must see each other (PostgreSQL).
        query = query.with_for_update()
    application = session.exec(query).first()
    if application is None or not visible_to(actor, application, session=session, readers=readers):
        raise NotFound(f"no application {application_id}")
    return application


def list_applications(
    *,
    session: Session,
    actor: Actor,
    offset: int,
    limit: int,
    city_locode: str | None = None,
    state: ApplicationState | None = None,
    stage: str | None = None,
    team: str | None = None,
) -> tuple[list[Application], int]:
    conditions = []
    if actor.role is Role.CITY_APPLICANT:
        conditions.append(col(Application.city_locode) == actor.city_locode)
    elif actor.role is Role.REVIEWER:
        conditions.append(col(Application.id).in_(assigned_application_ids(actor.user_id)))
    elif actor.role not in ALL_APPLICATIONS_READERS:
        return [], 0
    conditions += equal_when_given(
        (Application.city_locode, city_locode),
        (Application.state, state),
        (Application.stage, stage),
        (Application.language, team),
    )
    return page_of(
        session,
        Application,
        conditions=conditions,
        order_by=[col(Application.id).desc()],
        offset=offset,
        limit=limit,
    )


# Creating ---------------------------------------------------------------------------------------


def previous_stage_certified(*, session: Session, city_locode: str, stage: str) -> bool:
    """Whether the city may apply for `stage`: the first stage always, a later stage only while
    the city holds a valid certificate of the stage before (active: not suspended or revoked,
    and not expired). A renewal of the same stage follows the same rule."""
    index = STAGE_ORDER.index(stage)
    if index == 0:
        return True
    return holds_valid_certificate(
        session=session, city_locode=city_locode, stage=STAGE_ORDER[index - 1]
    )


def check_stage_order(*, session: Session, city_locode: str, stage: str) -> None:
    if previous_stage_certified(session=session, city_locode=city_locode, stage=stage):
        return
    previous = STAGE_ORDER[STAGE_ORDER.index(stage) - 1]
    raise Conflict(
        f"stage {stage} needs a valid certificate for stage {previous}, and city {city_locode} "
        "holds none that is active and unexpired"
    )


def open_application(*, session: Session, city_locode: str) -> Application | None:
    return session.exec(
        select(Application).where(
            Application.city_locode == city_locode, col(Application.state).in_(OPEN_STATES)
        )
    ).first()


def language_for(*, data: ApplicationCreate, city: City, node_id: str) -> str | None:
    """The application's UN language: as given; on the global node, which must route it to a
    team, else the first UN language among the city's languages."""
    if data.language is not None:
        return data.language
    if node_id != GLOBAL_NODE_ID:
        return None
    language = first_un_language(city.languages)
    if language is None:
        raise InvalidRequest(
            f"name the application's language, one of {', '.join(UN_LANGUAGES)}: the global "
            "node routes it to that language's technical team, and city "
            f"{city.locode} lists none of them among its languages "
            f"({', '.join(city.languages) or 'none recorded'})"
        )
    return language


def create_application(
    *, session: Session, data: ApplicationCreate, actor: Actor, node_id: str
) -> Application:
    locode = data.city_locode or actor.city_locode
    if locode is None:
        raise InvalidRequest("city_locode is required: name the city you apply on behalf of")
    # Locked, so that two applications of one city cannot both pass the one-open check.
    city = (
        session.exec(select(City).where(City.locode == locode).with_for_update()).first()
        if city_visible_to(actor, locode)
        else None
    )
    if city is None:
        raise NotFound(f"no city {locode}")
    # A national node may have joined since the city registered with the global node.
    check_certified_here(session=session, node_id=node_id, locode=locode)
    language = language_for(data=data, city=city, node_id=node_id)
    framework = frameworks.get_version_or_raise(
        session=session, version_id=data.framework_version_id, actor=actor
    )
    frameworks.check_usable(framework)
    if framework.country is not None and framework.country != city.country:
        raise InvalidRequest(
            f"{framework.label} is the national framework of {framework.country}, and city "
            f"{locode} is in {city.country}"
        )
    existing = open_application(session=session, city_locode=locode)
    if existing is not None:
        raise Conflict(
            f"city {locode} already has an open application ({existing.id}, "
            f"{existing.state.value} for stage {existing.stage}); a city has one at a time"
        )
    check_stage_order(session=session, city_locode=locode, stage=data.stage)
    application = Application(
        city_locode=locode,
        stage=data.stage,
        framework_version_id=data.framework_version_id,
        language=language,
        created_by=actor.user_id,
    )
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="application.create",
        target_type="application",
        target_id=application.id,
        detail={
            "city": locode,
            "stage": data.stage,
            "framework_version": framework.id,
            "language": language,
        },
    )
    return application


# Routing before review: the team is chosen before reviewers are assigned from it.
ROUTABLE_STATES = frozenset({ApplicationState.DRAFT, ApplicationState.SUBMITTED})


def set_language(
    *, session: Session, application: Application, language: str, actor: Actor
) -> Application:
    """Route an application to another UN language team (`application` locked by the caller)."""
    if application.state not in ROUTABLE_STATES:
        raise Conflict(
            f"application {application.id} is {application.state.value}: its language is "
            "changed only before reviewers are assigned (draft or submitted)"
        )
    previous = application.language
    application.language = language
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="application.language",
        target_type="application",
        target_id=application.id,
        detail={"from": previous, "to": language},
    )
    return application


# The self-assessment ----------------------------------------------------------------------------


def framework_of(*, session: Session, application: Application) -> FrameworkVersion:
    framework = session.get(FrameworkVersion, application.framework_version_id)
    assert framework is not None  # a foreign key, and versions are never deleted
    return framework


def stage_criteria(*, session: Session, application: Application) -> tuple[str, ...]:
    framework = framework_of(session=session, application=application)
    return frameworks.document_of(framework).criteria_codes(application.stage)


def _check_criterion(*, session: Session, application: Application, code: str) -> None:
    codes = stage_criteria(session=session, application=application)
    if code not in codes:
        raise NotFound(
            f"stage {application.stage} has no criterion {code!r}; its criteria are "
            f"{', '.join(codes)}"
        )


def _check_editable(
    application: Application, *, session: Session | None = None, code: str | None = None
) -> None:
    """A draft may change; during a clarification, only the criteria the reviewers asked about
    (given `code`), and evidence may be added but not removed: the reviewers may cite it."""
    if application.state is ApplicationState.DRAFT:
        return
    if application.state is ApplicationState.CLARIFICATION_REQUESTED and session is not None:
        asked = open_clarification_criteria(session=session, application_id=application.id)
        if code is not None and code in asked:
            return
        what = f"criterion {code}" if code is not None else "evidence removal"
        raise Conflict(
            f"application {application.id} is clarification_requested: only the criteria the "
            f"reviewers asked about ({', '.join(sorted(asked))}) may change, and evidence may be "
            f"added but not removed; {what} is not open"
        )
    raise Conflict(
        f"application {application.id} is {application.state.value}: its self-assessment "
        "can no longer be changed"
    )


def answers_of(*, session: Session, application: Application) -> list[CriterionAnswer]:
    return list(
        session.exec(
            select(CriterionAnswer).where(CriterionAnswer.application_id == application.id)
        ).all()
    )


def missing_criteria(codes: tuple[str, ...], answers: list[CriterionAnswer]) -> list[str]:
    answered = {answer.criterion_code for answer in answers if answer.narrative.strip()}
    return [code for code in codes if code not in answered]


def unconfirmed_criteria(answers: list[CriterionAnswer]) -> list[str]:
    """A renewal's carried-over answers the city has not yet confirmed or updated."""
    return sorted(answer.criterion_code for answer in answers if answer.to_confirm)


def save_answer(
    *,
    session: Session,
    application: Application,
    code: str,
    data: AnswerUpdate,
    actor: Actor,
) -> CriterionAnswer:
    _check_editable(application, session=session, code=code)
    _check_criterion(session=session, application=application, code=code)
    if application.state is not ApplicationState.DRAFT and not data.narrative.strip():
        raise InvalidRequest(
            f"criterion {code} is under review: its answer keeps a narrative (send the "
            "clarified one)"
        )
    answer = session.exec(
        select(CriterionAnswer).where(
            CriterionAnswer.application_id == application.id,
            CriterionAnswer.criterion_code == code,
        )
    ).first()
    if answer is None:
        assert application.id is not None
        answer = CriterionAnswer(application_id=application.id, criterion_code=code)
    answer.narrative = data.narrative
    answer.indicator_values = [
        value.model_dump(mode="json", exclude_none=True) for value in data.indicator_values
    ]
    # Updating a renewal's carried-over answer confirms it.
    answer.to_confirm = False
    answer.updated_by = actor.user_id
    answer.updated_at = utcnow()
    session.add(answer)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="application.answer",
        target_type="application",
        target_id=application.id,
        detail={"criterion": code, "indicator_values": len(data.indicator_values)},
    )
    return answer


def submit_application(
    *,
    session: Session,
    application: Application,
    actor: Actor,
    node_id: str,
    fee_required: bool = False,
) -> Application:
    if application.state is not ApplicationState.DRAFT:
        raise Conflict(
            f"application {application.id} is {application.state.value}: only a draft can be "
            "submitted"
        )
    if fee_required:
        fees.require_settled(session=session, application=application)
    codes = stage_criteria(session=session, application=application)
    answers = answers_of(session=session, application=application)
    missing = missing_criteria(codes, answers)
    if missing:
        raise InvalidRequest(
            f"every criterion of stage {application.stage} needs an answer with a narrative "
            f"before submission; missing: {', '.join(missing)}"
        )
    unconfirmed = unconfirmed_criteria(answers)
    if unconfirmed:
        raise InvalidRequest(
            "a renewal's carried-over answers are confirmed or updated before submission; "
            f"still to confirm: {', '.join(unconfirmed)}"
        )
    application.state = ApplicationState.SUBMITTED
    application.submitted_at = utcnow()
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="application.submit",
        target_type="application",
        target_id=application.id,
    )
    _append_application_event(
        session=session,
        node_id=node_id,
        application=application,
        type=EventType.APPLICATION_SUBMITTED,
    )
    return application


def withdraw_application(
    *, session: Session, application: Application, actor: Actor, node_id: str
) -> Application:
    if application.state is ApplicationState.WITHDRAWN:
        raise Conflict(f"application {application.id} is already withdrawn")
    if application.state not in OPEN_STATES:
        raise Conflict(
            f"application {application.id} is {application.state.value} and can no longer be "
            "withdrawn"
        )
    previous = application.state
    application.state = ApplicationState.WITHDRAWN
    application.withdrawn_at = utcnow()
    session.add(application)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="application.withdraw",
        target_type="application",
        target_id=application.id,
        detail={"from": previous.value},
    )
    _append_application_event(
        session=session,
        node_id=node_id,
        application=application,
        type=EventType.APPLICATION_WITHDRAWN,
    )
    return application


def _append_application_event(
    *, session: Session, node_id: str, application: Application, type: EventType
) -> None:
    assert application.id is not None
    append_event(
        session=session,
        node_id=node_id,
        type=type,
        subject={"locode": application.city_locode, "application": application.id},
        data=ApplicationChanged(stage=application.stage),
    )


# Evidence ---------------------------------------------------------------------------------------


def evidence_of(*, session: Session, application: Application) -> list[Evidence]:
    return list(
        session.exec(
            select(Evidence)
            .where(Evidence.application_id == application.id)
            .order_by(col(Evidence.id))
        ).all()
    )


def quota_remaining(*, session: Session, city_locode: str, quota: int) -> int:
    """What the city may still store. Each evidence row counts, even when files are shared."""
    used = session.exec(
        select(func.coalesce(func.sum(Evidence.size), 0)).where(Evidence.city_locode == city_locode)
    ).one()
    return quota - int(used)


def check_upload(
    *, session: Session, application_id: int, code: str, actor: Actor, quota: int
) -> int:
    """Whether `actor` may add evidence to criterion `code` now; returns the quota remaining.

    Checked before the body is read, so a refused upload costs the node no bytes.
    """
    application = get_application_or_raise(
        session=session, application_id=application_id, actor=actor
    )
    _check_editable(application, session=session, code=code)
    _check_criterion(session=session, application=application, code=code)
    remaining = quota_remaining(session=session, city_locode=application.city_locode, quota=quota)
    if remaining <= 0:
        raise Conflict(str(QuotaExceeded(quota_remaining=0)))
    return remaining


def add_evidence(
    *,
    session: Session,
    application_id: int,
    code: str,
    stored: StoredEvidence,
    filename: str,
    actor: Actor,
    quota: int,
) -> Evidence:
    """Attach a stored file to criterion `code`, checking again what may have changed while it
    streamed in (the application's state, the city's quota)."""
    application = get_application_or_raise(
        session=session, application_id=application_id, actor=actor, for_update=True
    )
    _check_editable(application, session=session, code=code)
    remaining = quota_remaining(session=session, city_locode=application.city_locode, quota=quota)
    if stored.size > remaining:
        raise Conflict(str(QuotaExceeded(quota_remaining=max(remaining, 0))))
    assert application.id is not None
    evidence = Evidence(
        application_id=application.id,
        city_locode=application.city_locode,
        criterion_code=code,
        digest=stored.digest,
        size=stored.size,
        media_type=stored.media_type,
        filename=filename,
        uploaded_by=actor.user_id,
    )
    session.add(evidence)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="evidence.upload",
        target_type="application",
        target_id=application.id,
        detail={
            "evidence": evidence.id,
            "criterion": code,
            "digest": stored.digest,
            "size": stored.size,
            "media_type": stored.media_type.value,
        },
    )
    return evidence


def get_evidence_or_raise(
    *, session: Session, application: Application, evidence_id: int
) -> Evidence:
    evidence = session.get(Evidence, evidence_id)
    if evidence is None or evidence.application_id != application.id:
        raise NotFound(f"application {application.id} has no evidence {evidence_id}")
    return evidence


def delete_evidence(
    *, session: Session, application: Application, evidence: Evidence, actor: Actor
) -> None:
    """Detach a file from a draft. The stored file stays: other rows may share its digest."""
    _check_editable(application, session=session)
    session.delete(evidence)
    session.flush()
    record(
        session=session,
        actor=actor,
        action="evidence.delete",
        target_type="application",
        target_id=application.id,
        detail={"evidence": evidence.id, "digest": evidence.digest},
    )


def record_integrity_failure(
    *, session: Session, evidence: Evidence, actor: Actor, reason: str
) -> None:
    record(
        session=session,
        actor=actor,
        action="evidence.integrity_failure",
        target_type="application",
        target_id=evidence.application_id,
        detail={"evidence": evidence.id, "digest": evidence.digest, "reason": reason},
    )


def node_error_for(exc: EvidenceError) -> NodeError:
    """The HTTP answer to a refused upload. Quota is a 409: the city's state, not the file, is
    what refuses it, and the same file is accepted once space is freed."""
    message = str(exc)
    if isinstance(exc, EvidenceTooLarge):
        return PayloadTooLarge(message)
    if isinstance(exc, EvidenceTypeNotAllowed):
        return UnsupportedMediaType(message)
    if isinstance(exc, QuotaExceeded):
        return Conflict(message)
    if isinstance(exc, EvidenceEmpty):
        return InvalidRequest(message)
    return Conflict(message)
