"""The `desk` fixture: a committee, its secretariat and two cities (see `..certification`)."""

from ..certification import Desk, desk

__all__ = ["Desk", "desk"]
