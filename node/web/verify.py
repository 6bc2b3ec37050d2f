"""The verify page: anyone pastes a certificate, uploads its file or opens a link to one, and
reads the node's answer in words.

The answer is the verifier's (`verification.service.verify_token`, as `POST /verify` and
`sdgcities verify` give it); this page only explains each `Reason` in the page's language, for
an investor deciding whether to rely on the certificate. The form posts the token (it may be
64 KiB, too long for an address); a certificate link is a plain `GET` that anyone can share.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Final
from urllib.parse import unquote, urlsplit

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from sdgcities.credentials import Reason, VerificationResult
from sdgcities.credentials.jws import MAX_TOKEN_BYTES
from sdgcities.node.accounts.models import Role
from sdgcities.node.db import SessionOpener
from sdgcities.node.deps import ReadSessionOpenerDep, StateDep
from sdgcities.node.errors import NotFound
from sdgcities.node.registry import service as registry
from sdgcities.node.state import NodeState
from sdgcities.node.verification.service import verify_token

from .i18n import N_, Language
from .pages import render
from .routes import LanguageDep
from .session import WebCaller, check_csrf, page_access
from .terms import LEVEL_NAMES, STAGE_NAMES

router = APIRouter(include_in_schema=False)
VERIFY_PAGE_PATH: Final = "/{lang:lang}/verify"
TEMPLATE: Final = "verify/verify.html"
Visitor = Annotated[WebCaller, page_access(Role.PUBLIC)]

# A compact JWS: three base64url parts. Anything else is not worth the verifier's time, and the
# person learns next to the field that what they pasted is not a certificate at all.
_COMPACT_JWS: Final = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
# A certificate id or a link to one; longer than any link this node makes.
MAX_LINK_CHARS: Final = 2000
MAX_UPLOAD_KIB: Final = MAX_TOKEN_BYTES // 1024


@dataclass(frozen=True)
class Explanation:
    """What a verifier's `Reason` says, in words: the check that failed, and what it means for
    someone who would rely on the certificate."""

    check: str
    meaning: str


EXPLANATIONS: Final[dict[Reason, Explanation]] = {
    Reason.MALFORMED: Explanation(
        N_("The text is not a readable SDG Cities certificate."),
        N_(
            "It may have been cut short when it was copied, or it is another kind of document. "
            "Ask the city or the issuing node for the certificate file and try again; do not "
            "rely on it until it verifies."
        ),
    ),
    Reason.BAD_SIGNATURE: Explanation(
        N_("The signature does not match the certificate's content."),
        N_(
            "The certificate has been changed since it was signed, or was never signed by its "
            "issuer. Do not rely on it."
        ),
    ),
    Reason.UNKNOWN_ISSUER: Explanation(
        N_("The issuer is not on the federation's list of trusted nodes."),
        N_(
            "Nobody the federation vouches for signed this certificate: it may be forged. Do "
            "not rely on it."
        ),
    ),
    Reason.OUTSIDE_JURISDICTION: Explanation(
        N_("The city lies outside the country its issuer may certify."),
        N_(
            "Each node certifies only cities of its own country. This certificate was issued "
            "by a node that had no authority over this city, so it is not valid."
        ),
    ),
    Reason.ISSUER_SUSPENDED: Explanation(
        N_("The issuing node is suspended from the federation."),
        N_(
            "Certificates from a suspended node are not valid while the suspension lasts. "
            "Check again later, or ask the federation's secretariat."
        ),
    ),
    Reason.ISSUER_WITHDRAWN: Explanation(
        N_("The issuing node has left the federation."),
        N_(
            "Its certificates are no longer vouched for, apart from those the global node "
            "recorded before it left. Do not rely on this one."
        ),
    ),
    Reason.KEY_RETIRED: Explanation(
        N_("The certificate was signed with a key its issuer had already retired."),
        N_(
            "A retired key may no longer sign certificates, so this one was not issued in the "
            "proper way. Do not rely on it."
        ),
    ),
    Reason.KEY_COMPROMISED: Explanation(
        N_("The issuer's signing key has been reported as compromised."),
        N_(
            "Someone else may have used the key, so a certificate it signed cannot be trusted "
            "unless the global node recorded it before the compromise. Do not rely on it."
        ),
    ),
    Reason.NOT_RECEIVED_BEFORE_CUTOFF: Explanation(
        N_(
            "The certificate was not recorded by the global node before its issuer or key "
            "stopped being trusted."
        ),
        N_(
            "Nothing proves that it was issued while its issuer was still trusted: it could "
            "have been back-dated. Do not rely on it."
        ),
    ),
    Reason.NOT_YET_VALID: Explanation(
        N_("The certificate's validity has not begun yet."),
        N_("It cannot be relied on before the date it gives as its start. Check again then."),
    ),
    Reason.EXPIRED: Explanation(
        N_("The certificate has expired."),
        N_(
            "It shows what the city had achieved, but it no longer certifies it. Ask the city "
            "for its current certificate."
        ),
    ),
    Reason.SUSPENDED: Explanation(
        N_("The certificate is suspended by its issuer's certification committee."),
        N_(
            "The city's certification is under review; while it is suspended, the certificate "
            "is not valid. It may be reinstated or revoked later."
        ),
    ),
    Reason.REVOKED: Explanation(
        N_("The certificate has been revoked by its issuer's certification committee."),
        N_("The city no longer holds this certification. Do not rely on it."),
    ),
    Reason.FRAMEWORK_NOT_ENDORSED: Explanation(
        N_("The certificate was assessed against criteria the federation has not endorsed."),
        N_(
            "Every certificate must follow a criteria framework endorsed by the global node. "
            "This one does not, so it is not a valid SDG Cities certificate."
        ),
    ),
    Reason.STATUS_UNAVAILABLE: Explanation(
        N_("The certificate's current status could not be checked."),
        N_(
            "Its signature may be sound, but this node could not read whether it has been "
            "suspended or revoked. This is not a verdict: try again later."
        ),
    ),
    Reason.TRUST_LIST_STALE: Explanation(
        N_("This node's list of trusted nodes is out of date, or it has none yet."),
        N_(
            "This node cannot tell whom to trust until it receives a current list from the "
            "global node. This is not a verdict on the certificate: try again later."
        ),
    ),
    Reason.TRUST_LIST_ROLLBACK: Explanation(
        N_("This node was offered an older list of trusted nodes than one it already holds."),
        N_(
            "Someone may be trying to bring back trust that was withdrawn. This is not a "
            "verdict on the certificate: try again later."
        ),
    ),
    Reason.STATUS_LIST_ROLLBACK: Explanation(
        N_("The issuer's status list is older than one already seen."),
        N_(
            "An older status list could hide a suspension or revocation, so the certificate's "
            "status cannot be decided now. This is not a verdict: try again later."
        ),
    ),
}


def explanation_of(reason: Reason) -> Explanation:
    return EXPLANATIONS[reason]


@dataclass(frozen=True)
class CertificateFacts:
    """What a decoded certificate states, for the page (dates as dates, names as signed)."""

    city: str
    locode: str
    country: str
    stage: str | None
    level: str | None
    issuer: str
    framework: str | None
    valid_from: datetime | None
    valid_until: datetime | None
    decided_at: datetime | None
    credential_id: str


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def facts_of(result: VerificationResult) -> CertificateFacts | None:
    """The facts the certificate states; None when it could not be decoded at all."""
    credential = result.credential
    if not isinstance(credential, dict):
        return None
    subject = _object(credential.get("credentialSubject"))
    city = _object(subject.get("city"))
    issuer = _object(credential.get("issuer"))
    framework = _object(subject.get("framework"))
    decision = _object(subject.get("decision"))
    stage, level = _text(subject.get("stage")), _text(subject.get("level"))
    framework_id, version = _text(framework.get("id")), _text(framework.get("version"))
    # The trust list's name for the issuer is the one the federation vouches for.
    issuer_name = result.issuer.name if result.issuer else _text(issuer.get("name"))
    return CertificateFacts(
        city=_text(city.get("name")),
        locode=_text(city.get("locode")),
        country=_text(city.get("country")),
        stage=stage if stage in STAGE_NAMES else None,
        level=level if level in LEVEL_NAMES else None,
        issuer=issuer_name,
        framework=f"{framework_id} {version}".strip() or None,
        valid_from=_moment(credential.get("validFrom")),
        valid_until=_moment(credential.get("validUntil")),
        decided_at=_moment(decision.get("decidedAt")),
        credential_id=_text(credential.get("id")),
    )


@dataclass(frozen=True)
class FieldError:
    field: str  # the id of the field the error is next to
    message: str  # a message id, translated by the template
    values: dict[str, Any] | None = None


class NotAToken(Exception):
    def __init__(self, error: FieldError) -> None:
        super().__init__(error.message)
        self.error = error


def _check_shape(token: str, *, field: str) -> str:
    if len(token.encode()) > MAX_TOKEN_BYTES:
        raise NotAToken(
            FieldError(
                field,
                N_("This is longer than any certificate (at most %(kib)s KiB)."),
                {"kib": MAX_UPLOAD_KIB},
            )
        )
    if not _COMPACT_JWS.fullmatch(token):
        raise NotAToken(
            FieldError(
                field,
                N_(
                    "This is not a certificate token. A token is a long line of letters and "
                    "digits in three parts separated by dots."
                ),
            )
        )
    return token


def token_from_file(content: bytes) -> str:
    """The token in an uploaded file: the token itself, or the registry's JSON record of it."""
    try:
        text = content.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise NotAToken(
            FieldError("certificate-file", N_("This file is not a certificate: it is not text."))
        ) from exc
    if text.startswith("{"):
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        jwt = record.get("jwt") if isinstance(record, dict) else None
        if not isinstance(jwt, str):
            raise NotAToken(
                FieldError(
                    "certificate-file",
                    N_("This file is not a certificate: it holds no certificate token."),
                )
            )
        text = jwt.strip()
    if not text:
        raise NotAToken(FieldError("certificate-file", N_("The file is empty.")))
    return _check_shape(text, field="certificate-file")


def credential_id_of(link: str, *, base_url: str) -> str:
    """The certificate id a link names: an id (`urn:uuid:...`), or an address of this node's
    (`<base>/registry/credentials/<id>`, or a page whose last segment is the id)."""
    link = link.strip()
    if not link:
        raise NotAToken(FieldError("certificate-link", N_("Enter a certificate link or id.")))
    if len(link) > MAX_LINK_CHARS:
        raise NotAToken(FieldError("certificate-link", N_("This is not a certificate link or id.")))
    if "://" not in link:
        return link
    if not (link == base_url or link.startswith(f"{base_url}/")):
        raise NotAToken(
            FieldError(
                "certificate-link",
                N_(
                    "This link is not to this node. Open the verify page of the node that "
                    "issued the certificate, or paste the certificate itself."
                ),
            )
        )
    last = unquote(urlsplit(link).path.rstrip("/").rpartition("/")[2])
    if not last:
        raise NotAToken(FieldError("certificate-link", N_("This is not a certificate link or id.")))
    return last


def _stored_token(open_session: SessionOpener, state: NodeState, credential_id: str) -> str:
    with open_session() as session:
        return registry.get_token_or_raise(
            session=session, credential_id=credential_id, source=state.registry.source
        )


def _page(
    request: Request,
    *,
    language: Language,
    caller: Visitor,
    status_code: int = 200,
    result: VerificationResult | None = None,
    errors: list[FieldError] | None = None,
    token: str = "",
    link: str = "",
) -> Response:
    return render(
        request,
        TEMPLATE,
        language=language,
        caller=caller,
        status_code=status_code,
        result=result,
        verdict=None if result is None else result.outcome.value,
        explanation=None
        if result is None or result.reason is None
        else explanation_of(result.reason),
        facts=None if result is None else facts_of(result),
        errors=errors or [],
        error_by_field={error.field: error for error in errors or []},
        token=token,
        link=link,
        max_upload_kib=MAX_UPLOAD_KIB,
        stage_names=STAGE_NAMES,
        level_names=LEVEL_NAMES,
    )


@router.get(VERIFY_PAGE_PATH)
async def verify_page(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    state: StateDep,
    open_session: ReadSessionOpenerDep,
    # Lengths are checked by the page, so that an error shows next to its field.
    certificate: Annotated[str | None, Query()] = None,
    token: Annotated[str | None, Query()] = None,
) -> Response:
    """The form; with `?certificate=<id or link>` or `?token=<token>`, also its answer."""
    if certificate is None and token is None:
        return _page(request, language=language, caller=caller)
    try:
        if token is not None:
            found = _check_shape(token.strip(), field="certificate-token")
        else:
            assert certificate is not None
            credential_id = credential_id_of(certificate, base_url=state.settings.base_url)
            try:
                found = await run_in_threadpool(_stored_token, open_session, state, credential_id)
            except NotFound:
                return _page(
                    request,
                    language=language,
                    caller=caller,
                    status_code=404,
                    link=certificate,
                    errors=[
                        FieldError(
                            "certificate-link", N_("This node holds no certificate with this id.")
                        )
                    ],
                )
    except NotAToken as refused:
        return _page(
            request,
            language=language,
            caller=caller,
            status_code=400,
            errors=[refused.error],
            token=token or "",
            link=certificate or "",
        )
    result = await verify_token(verifiers=state.verifiers, token=found, open_session=open_session)
    return _page(
        request,
        language=language,
        caller=caller,
        result=result,
        link=certificate or "",
    )


@router.post(VERIFY_PAGE_PATH)
async def verify_posted(
    request: Request,
    language: LanguageDep,
    caller: Visitor,
    state: StateDep,
    open_session: ReadSessionOpenerDep,
) -> Response:
    """A pasted token or an uploaded file, verified. The answer is shown, not redirected to:
    nothing changed, and the token would not fit in an address."""
    await check_csrf(request, caller)
    form = await request.form()
    try:
        pasted = form.get("token")
        pasted = pasted.strip() if isinstance(pasted, str) else ""
        upload = form.get("file")
        content = b""
        # A browser sends an empty part, without a file name, when no file was chosen.
        chose_file = isinstance(upload, UploadFile) and bool(upload.filename)
        if isinstance(upload, UploadFile) and chose_file:
            # One byte past the cap tells a file that is too large from one that just fits.
            content = await upload.read(MAX_TOKEN_BYTES + 1)
    finally:
        await form.close()
    errors: list[FieldError] = []
    found = ""
    if pasted and chose_file:
        errors.append(
            FieldError(
                "certificate-token",
                N_("Paste a certificate or choose a file, not both."),
            )
        )
    elif not pasted and not chose_file:
        errors.append(
            FieldError(
                "certificate-token", N_("Paste a certificate, or choose a file that holds one.")
            )
        )
    elif len(content) > MAX_TOKEN_BYTES:
        errors.append(
            FieldError(
                "certificate-file",
                N_("The file is larger than %(kib)s KiB: it is not a certificate."),
                {"kib": MAX_UPLOAD_KIB},
            )
        )
    else:
        try:
            found = (
                _check_shape(pasted, field="certificate-token")
                if pasted
                else token_from_file(content)
            )
        except NotAToken as refused:
            errors.append(refused.error)
    if errors:
        return _page(
            request,
            language=language,
            caller=caller,
            status_code=400,
            errors=errors,
            token=pasted[:MAX_TOKEN_BYTES],
        )
    result = await verify_token(verifiers=state.verifiers, token=found, open_session=open_session)
    return _page(request, language=language, caller=caller, result=result)
