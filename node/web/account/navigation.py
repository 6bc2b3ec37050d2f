"""Where a person goes after signing in: `next` when it is a path on this site, else home.

`next` comes from the address bar, so anyone can write it: only a local path is followed
(`/fr/city`), never a URL or a scheme-relative `//host` (an open redirect would lend this site's
name to a phishing page).
"""

from __future__ import annotations

from typing import Final
from urllib.parse import urlsplit

from sdgcities.node.accounts.models import Role

from ..i18n import Language

_MAX_NEXT_CHARS: Final = 2000


def safe_next(candidate: str | None) -> str | None:
    """`candidate` if it is a path on this site, else None."""
    if not candidate or len(candidate) > _MAX_NEXT_CHARS:
        return None
    if not candidate.startswith("/") or candidate.startswith("//"):
        return None
    # Browsers read a backslash as a slash (`/\\evil.example`), and no control character
    # belongs in a path.
    if "\\" in candidate or any(ord(char) < 0x20 or ord(char) == 0x7F for char in candidate):
        return None
    parts = urlsplit(candidate)
    if parts.scheme or parts.netloc:
        return None
    return candidate


def home_of(role: Role, language: Language) -> str:
    """A city applicant's home is the city's dashboard; everyone else's, their account."""
    if role is Role.CITY_APPLICANT:
        return f"/{language.code}/city"
    return f"/{language.code}/account"


def after_sign_in(role: Role, language: Language, candidate: str | None) -> str:
    return safe_next(candidate) or home_of(role, language)
