"""The project's own JSON-LD context: one fixed URL, its document shipped in this package.

A certificate lists three contexts, in this order: the VCDM 2.0 context, the Open Badges 3.0.3
context, then this one, which defines every term the certificate uses that the first two do not
(`SDGCitiesCertificate`, `city`, `stage`, `level`, `framework`, `decision` and their members,
and the JWT claim `jti`), so that a JSON-LD processor drops nothing from it (DESIGN §4). Every
node serves the document at the URL's path, byte for byte this file (DESIGN §6); a verifier
never needs to fetch it: checking a `vc+jwt` certificate does not expand JSON-LD, and a tool
that does can load the copy installed with this package.
"""

from __future__ import annotations

from functools import cache
from typing import Final
from urllib.parse import urlsplit

SDGCITIES_CONTEXT: Final = "https://w3id.org/sdgcities/v1"
# Where every node serves the document: the URL's own path, so that w3id.org can redirect
# the URL to any node's base URL plus this path.
SDGCITIES_CONTEXT_PATH: Final = urlsplit(SDGCITIES_CONTEXT).path
JSON_LD_MEDIA_TYPE: Final = "application/ld+json"


@cache
def sdgcities_context_document() -> bytes:
    """The context document exactly as shipped (`contexts/sdgcities-v1.jsonld`)."""
    # Imported here: importlib.resources pulls in tempfile and its own imports, a sixth of the
    # credentials library's import time, and a verifier never reads the document.
    from importlib.resources import files

    return files(__package__).joinpath("contexts", "sdgcities-v1.jsonld").read_bytes()
