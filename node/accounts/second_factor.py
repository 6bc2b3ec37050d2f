"""The second factor: time-based one-time codes (TOTP, RFC 6238) from an authenticator app.

Required of administrators, the secretariat and committee members on a production node, optional
for everyone else. A person enrols by scanning a secret (QR code) and confirming it with a code.
A code is accepted one step (30 s) either side of now, and never twice: the step of the last code
accepted is stored and only a later step passes, so a code seen over someone's shoulder is spent.
"""

from __future__ import annotations

import hmac
from datetime import datetime
from typing import Final

import pyotp
from sqlmodel import Session, col, update

from sdgcities.node.config import Environment, Settings

from .models import Role, User

STAFF_ROLES: Final = frozenset({Role.ADMINISTRATOR, Role.SECRETARIAT, Role.COMMITTEE_MEMBER})
_DRIFT_STEPS: Final = 1
CODE_DIGITS: Final = 6


def second_factor_required(role: Role, settings: Settings) -> bool:
    return settings.environment is Environment.PRODUCTION and role in STAFF_ROLES


def has_second_factor(user: User) -> bool:
    return user.totp_secret is not None and user.totp_enabled_at is not None


def start_enrolment(*, session: Session, user: User) -> str:
    """The secret being enrolled (a new one unless enrolment has begun already)."""
    if user.totp_pending_secret is None:
        user.totp_pending_secret = pyotp.random_base32()
        session.add(user)
        session.flush()
    return user.totp_pending_secret


def provisioning_uri(*, secret: str, email: str, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    code = code.strip().replace(" ", "")
    if len(code) != CODE_DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for step in range(current - _DRIFT_STEPS, current + _DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def confirm_enrolment(*, session: Session, user: User, code: str, now: datetime) -> bool:
    """Turns the second factor on if `code` matches the secret being enrolled."""
    if user.totp_pending_secret is None:
        return False
    step = _matching_step(user.totp_pending_secret, code, now)
    if step is None:
        return False
    user.totp_secret, user.totp_pending_secret = user.totp_pending_secret, None
    user.totp_enabled_at, user.totp_last_step = now, step
    session.add(user)
    session.flush()
    return True


def check_code(*, session: Session, user: User, code: str, now: datetime) -> bool:
    """Whether `code` is a fresh code of the user's second factor; if so it is spent."""
    if not has_second_factor(user):
        return False
    assert user.totp_secret is not None
    assert user.id is not None
    step = _matching_step(user.totp_secret, code, now)
    if step is None:
        return False
    # One conditional update: of two requests with the same code at once, only one wins.
    spent = session.exec(
        update(User)
        .where(
            col(User.id) == user.id,
            (col(User.totp_last_step).is_(None)) | (col(User.totp_last_step) < step),
        )
        .values(totp_last_step=step)
    )
    session.flush()
    if spent.rowcount != 1:
        return False
    session.refresh(user)
    return True


def turn_off(*, session: Session, user: User) -> None:
    user.totp_secret = user.totp_pending_secret = None
    user.totp_enabled_at = user.totp_last_step = None
    session.add(user)
    session.flush()
