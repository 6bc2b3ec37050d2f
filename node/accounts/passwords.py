"""Passwords: Argon2id hashes, and the rules a new password must meet.

- Hashes use argon2-cffi's defaults (RFC 9106's second recommended profile, Argon2id); a hash
  made with other parameters is replaced at the next sign-in. A test suite's node may ask for
  the least cost Argon2id allows (`PasswordHashCost.MINIMAL`, setting `password_hash_cost`):
  a full-cost hash takes a quarter of a CPU second, and most tests are not about it.
- An unknown address is checked against a dummy hash, so the answer takes as long as for a
  real account: the time does not tell whether an address has an account.
- Rules (NIST SP 800-63B): at least 12 characters, not the account's address, not in a list of
  commonly chosen passwords; no composition rules, which only make passwords harder to recall.
"""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sdgcities.node.config import PasswordHashCost

MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 1024


_HASHERS: Final = {
    PasswordHashCost.STANDARD: PasswordHasher(),
    PasswordHashCost.MINIMAL: PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}


class PasswordProblem(StrEnum):
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    IS_EMAIL = "is_email"
    COMMON = "common"


def hash_password(password: str, cost: PasswordHashCost = PasswordHashCost.STANDARD) -> str:
    return _HASHERS[cost].hash(password)


@cache
def _dummy_hash(cost: PasswordHashCost) -> str:
    return hash_password("not a password anyone has", cost)


def verify_password(
    password_hash: str | None, password: str, cost: PasswordHashCost = PasswordHashCost.STANDARD
) -> bool:
    """Whether `password` matches; with no hash (no account, or no password yet) it never does,
    after as much work as a real check at `cost`."""
    if len(password) > MAX_PASSWORD_LENGTH:
        return False
    hasher = _HASHERS[cost]
    try:
        if password_hash is None:
            hasher.verify(_dummy_hash(cost), password)
            return False
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, cost: PasswordHashCost = PasswordHashCost.STANDARD) -> bool:
    return _HASHERS[cost].check_needs_rehash(password_hash)


@cache
def _common_passwords() -> frozenset[str]:
    text = (resources.files(__package__) / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def password_problem(password: str, *, email: str) -> PasswordProblem | None:
    """What is wrong with `password` as a new password for `email`, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return PasswordProblem.TOO_SHORT
    if len(password) > MAX_PASSWORD_LENGTH:
        return PasswordProblem.TOO_LONG
    folded = password.strip().casefold()
    local_part = email.partition("@")[0].casefold()
    if folded in (email.casefold(), local_part):
        return PasswordProblem.IS_EMAIL
    # One character repeated, or a well-known choice (also with a year or digits appended).
    if (
        len(set(folded)) <= 2
        or folded in _common_passwords()
        or folded.rstrip("0123456789!") in _common_passwords()
    ):
        return PasswordProblem.COMMON
    return None
