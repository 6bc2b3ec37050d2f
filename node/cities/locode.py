"""UN/LOCODE identifiers written `CC-LLL`: an ISO 3166-1 alpha-2 country and a 3-character location.

UN/LOCODE location parts use the letters A to Z and the digits 2 to 9 (0 and 1 are left out so
they are not read as O and I).
"""

from __future__ import annotations

import re

from sdgcities.node.countries import is_country_code

LOCODE_PATTERN = r"^[A-Z]{2}-[A-Z2-9]{3}$"
_LOCODE = re.compile(LOCODE_PATTERN)


def validate_locode(locode: str) -> str:
    """Return the LOCODE if well formed, else raise ValueError with the reason."""
    if not _LOCODE.fullmatch(locode):
        raise ValueError(
            f"{locode!r} is not a UN/LOCODE written CC-LLL (for example KE-NBO): two capital "
            "letters, a hyphen, then three characters A-Z or 2-9"
        )
    if not is_country_code(locode[:2]):
        raise ValueError(f"{locode[:2]!r} is not an ISO 3166-1 country code")
    return locode
