"""Reading form fields, and the words for a password's problems."""

from __future__ import annotations

from typing import Final

from starlette.datastructures import FormData

from sdgcities.node.accounts.passwords import PasswordProblem

from ..i18n import N_

MAX_FIELD_CHARS: Final = 4000

PASSWORD_MESSAGES: Final = {
    PasswordProblem.TOO_SHORT: N_("Your password must have at least 12 characters"),
    PasswordProblem.TOO_LONG: N_("Your password must have at most 1,024 characters"),
    PasswordProblem.IS_EMAIL: N_("Your password must not be your email address"),
    PasswordProblem.COMMON: N_("This password is too common: choose one that is harder to guess"),
}


def form_text(form: FormData, name: str, *, strip: bool = True) -> str:
    """A text field's value ('' when absent or a file); trimmed unless it is a password."""
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    value = value[:MAX_FIELD_CHARS]
    return value.strip() if strip else value
