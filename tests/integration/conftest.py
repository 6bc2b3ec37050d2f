"""Fixtures of the multi-process tests (see harness.py)."""

from .harness import processes  # noqa: F401 - the fixture
