"""Password hashes (at the standard cost: these tests are about it) and rules, without a
database."""

from __future__ import annotations

import time

import pytest
from argon2 import PasswordHasher

from sdgcities.node.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    PasswordProblem,
    hash_password,
    needs_rehash,
    password_problem,
    verify_password,
)
from sdgcities.node.config import PasswordHashCost


def test_a_hash_is_argon2id_and_verifies_only_its_password() -> None:
    stored = hash_password("a long and good password")
    assert stored.startswith("$argon2id$")
    assert verify_password(stored, "a long and good password")
    assert not verify_password(stored, "a long and good passwore")
    assert not verify_password("not a hash", "a long and good password")
    assert not needs_rehash(stored)


def test_a_weaker_hash_is_to_be_replaced() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("x" * 12)
    assert needs_rehash(weak)
    assert verify_password(weak, "x" * 12)


def test_no_account_costs_as_much_as_a_wrong_password() -> None:
    stored = hash_password("a long and good password")

    def seconds(check: object) -> float:
        started = time.perf_counter()
        for _ in range(3):
            check()  # type: ignore[operator]
        return time.perf_counter() - started

    without = seconds(lambda: verify_password(None, "a guess of some length"))
    wrong = seconds(lambda: verify_password(stored, "a guess of some length"))
    # The same Argon2 work either way (a generous bound: the machine is shared).
    assert without > wrong / 4
    assert not verify_password(None, "a guess of some length")


def test_an_overlong_password_is_refused_without_hashing() -> None:
    assert not verify_password(hash_password("x" * 20), "x" * (MAX_PASSWORD_LENGTH + 1))


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("eleven char", PasswordProblem.TOO_SHORT),
        ("x" * (MAX_PASSWORD_LENGTH + 1), PasswordProblem.TOO_LONG),
        ("Amina.Otieno@Example.org", PasswordProblem.IS_EMAIL),
        ("amina.otieno", PasswordProblem.IS_EMAIL),
        ("Password1234", PasswordProblem.COMMON),
        ("iloveyou1234!", PasswordProblem.COMMON),
        ("abababababababab", PasswordProblem.COMMON),
        ("four unrelated words here", None),
    ],
)
def test_the_rules(password: str, problem: PasswordProblem | None) -> None:
    assert password_problem(password, email="amina.otieno@example.org") is problem


def test_each_cost_replaces_the_others_hashes() -> None:
    """A test suite's minimal-cost hash is replaced at a standard node's next sign-in, and the
    other way round: a node makes all its hashes at its own cost."""
    minimal = hash_password("a long and good password", PasswordHashCost.MINIMAL)
    standard = hash_password("a long and good password", PasswordHashCost.STANDARD)
    assert minimal != standard
    assert verify_password(minimal, "a long and good password", PasswordHashCost.STANDARD)
    assert verify_password(standard, "a long and good password", PasswordHashCost.MINIMAL)
    assert needs_rehash(minimal, PasswordHashCost.STANDARD)
    assert needs_rehash(standard, PasswordHashCost.MINIMAL)
    assert not needs_rehash(minimal, PasswordHashCost.MINIMAL)
    assert not verify_password(None, "a long and good password", PasswordHashCost.MINIMAL)
