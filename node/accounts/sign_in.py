"""Signing a person in with an address and a password, throttled.

Failed attempts (wrong password, wrong second-factor code) are stored, so every server process
counts the same ones. An account with `sign_in_failures_per_account` failures in the last
`sign_in_window_minutes`, or a client address with `sign_in_failures_per_client`, must wait until
the oldest of them leaves the window; while it waits, even the right password is refused, so a
guesser learns nothing. Unknown addresses are counted the same way and checked against a dummy
hash (`passwords.verify_password`).

SignInError
├── SignInRefused    the address and password do not match an active account
└── SignInLocked     too many failures: `retry_after` seconds to wait
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlmodel import Session, col, delete, func, select

from sdgcities.node.config import Settings
from sdgcities.node.timeutil import as_utc

from .models import SignInFailure, User
from .passwords import hash_password, needs_rehash, verify_password


class SignInError(Exception):
    """A sign-in that did not succeed."""


class SignInRefused(SignInError):
    pass


class SignInLocked(SignInError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed sign-ins: try again in {retry_after} s")
        self.retry_after = retry_after


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(*, session: Session, email: str) -> User | None:
    return session.exec(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).first()


def check_not_locked(
    *, session: Session, email: str, client: str, settings: Settings, now: datetime
) -> None:
    """Raises `SignInLocked` when the account or the client address must wait."""
    since = now - timedelta(minutes=settings.sign_in_window_minutes)
    waits = [
        _wait(
            session,
            col(SignInFailure.email) == normalise_email(email),
            since,
            settings.sign_in_failures_per_account,
            settings,
            now,
        ),
        _wait(
            session,
            col(SignInFailure.client) == client[:64],
            since,
            settings.sign_in_failures_per_client,
            settings,
            now,
        ),
    ]
    longest = max(waits)
    if longest > 0:
        raise SignInLocked(longest)


def _wait(
    session: Session, which: object, since: datetime, limit: int, settings: Settings, now: datetime
) -> int:
    times = session.exec(
        select(SignInFailure.failed_at)
        .where(which, col(SignInFailure.failed_at) > since)  # type: ignore[arg-type]
        .order_by(col(SignInFailure.failed_at).desc())
        .limit(limit)
    ).all()
    if len(times) < limit:
        return 0
    # The oldest of the last `limit` failures: once it leaves the window, one more try is allowed.
    free_at = as_utc(times[-1]) + timedelta(minutes=settings.sign_in_window_minutes)
    return max(1, math.ceil((free_at - now).total_seconds()))


def record_failure(*, session: Session, email: str, client: str, now: datetime) -> None:
    session.add(
        SignInFailure(email=normalise_email(email)[:254], client=client[:64], failed_at=now)
    )
    session.flush()


def authenticate(
    *, session: Session, email: str, password: str, client: str, settings: Settings, now: datetime
) -> User:
    """The active account with this address and password; raises `SignInError` otherwise.

    A failure is recorded in `session`: the caller commits it even though sign-in failed.
    """
    check_not_locked(session=session, email=email, client=client, settings=settings, now=now)
    user = find_user_by_email(session=session, email=email)
    cost = settings.password_hash_cost
    matches = verify_password(user.password_hash if user else None, password, cost)
    if user is None or not matches or not user.active:
        record_failure(session=session, email=email, client=client, now=now)
        raise SignInRefused("the address and password do not match an account")
    assert user.password_hash is not None
    if needs_rehash(user.password_hash, cost):
        user.password_hash = hash_password(password, cost)
        session.add(user)
    # Failures are forgotten only when sign-in is complete (`forget_failures`), after the
    # second factor if any: the right password must not reset the count of wrong codes.
    return user


def forget_failures(*, session: Session, email: str) -> None:
    """After a complete sign-in the account starts afresh (the client address does not)."""
    session.exec(delete(SignInFailure).where(col(SignInFailure.email) == normalise_email(email)))
    session.flush()
