"""The error tree of `sdgcities.node.frameworks`.

Framework documents are built and adapted through an API, so each error names the thing that
is wrong in words an API client can act on; the HTTP layer maps them to 4xx responses
(unknown → 404, duplicate → 409, invalid → 422). They subclass `ValueError` because each one is
a bad value handed in by the caller, never a fault of the node.

    FrameworkError (ValueError)
    ├── InvalidFramework      a document, or the change asked for, breaks a rule of the format
    ├── UnknownStage          no stage has that key
    ├── UnknownCriterion      no criterion has that code
    └── DuplicateCriterion    a criterion with that code already exists
"""

from __future__ import annotations


class FrameworkError(ValueError):
    """Root of every error raised by `sdgcities.node.frameworks`."""


class InvalidFramework(FrameworkError):
    """The document, or the document a change would produce, is not a valid framework.

    `problems` lists each rule broken, as `location: message` when the location is known.
    """

    def __init__(self, message: str, *, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems or (message,)


class UnknownStage(FrameworkError):
    """No stage of the framework has the key asked for."""

    def __init__(self, key: str, *, framework: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"framework {framework} has no stage {key!r}; the stages are {', '.join(known)}"
        )
        self.key = key


class UnknownCriterion(FrameworkError):
    """No criterion of the framework has the code asked for."""

    def __init__(self, code: str, *, framework: str) -> None:
        super().__init__(f"framework {framework} has no criterion {code!r}")
        self.code = code


class DuplicateCriterion(FrameworkError):
    """A criterion with that code (compared without regard to case) is already in the framework."""

    def __init__(self, code: str, *, framework: str, existing: str | None = None) -> None:
        existing = existing or code
        message = f"framework {framework} already has a criterion {existing!r}"
        if existing != code:
            message += f", and codes are compared without regard to case, so {code!r} is taken"
        super().__init__(message)
        self.code = code
