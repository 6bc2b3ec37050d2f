"""The global baseline criteria framework, shipped with the package as data.

The baseline (`data/baseline-v1.json`) is the framework the global node publishes (DESIGN §2):
the four stages and sixteen criteria of §20 to §23 of the source report. It is package data, not
code, so that it can be reviewed as a document and its digest compared with the published one;
a new baseline version is a new file, never an edit of this one (certificates name its digest).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Final

from .document import FrameworkDocument

BASELINE_FILE: Final = "baseline-v1.json"
_PACKAGE: Final = __name__.rpartition(".")[0]


@cache
def load_baseline() -> FrameworkDocument:
    """The global baseline framework, version 1.

    Cached: a document is immutable, so every caller can share the one instance.
    """
    data = (resources.files(_PACKAGE) / "data" / BASELINE_FILE).read_bytes()
    return FrameworkDocument.from_json(data)
