"""Rebuild the stored vector inputs from `builders.py`: `python -m tests.vectors.regenerate`.

Everything but ES256 signatures (random nonces) comes out byte for byte the same; a case whose
builder or arguments changed gets new files, and the files of a case's former inputs go.
"""

from __future__ import annotations

from .corpus import write_corpus

if __name__ == "__main__":
    write_corpus()
