"""`is_locode`: the one UN/LOCODE check that the verifier, federation messages and the global
registry share."""

from __future__ import annotations

import pytest

from sdgcities.credentials import is_locode


@pytest.mark.parametrize("value", ["KE-NBO", "GH-ACC", "CN-SHA", "US-2NY"])
def test_a_locode_is_accepted(value: str) -> None:
    assert is_locode(value)


@pytest.mark.parametrize(
    "value",
    ["ke-nbo", "KENBO", "KE-NB", "KE-NBOX", "KE-NB0", "KE-NB1", " KE-NBO", "KE-NBO\n", "", None, 7],
)
def test_anything_else_is_refused(value: object) -> None:
    assert not is_locode(value)
