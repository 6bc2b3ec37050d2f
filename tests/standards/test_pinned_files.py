"""The pinned standards files are byte for byte the published ones named in README.md."""

from __future__ import annotations

import hashlib
import re

import pytest

from .conformance import STANDARDS_DIR

PINNED_SHA256 = {
    "credentials-v2.jsonld": "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734",
    "undefined-terms-v2.jsonld": "82dab514ba44eb18f5d1b0f638c5e140c6a556fbfb5089601bdc0fa5eb8b2581",
    "ob-context-3.0.3.json": "ef2fa9c7846dce233cc166b43639027278be4ee44f00bb1d45c75de2dd0cd761",
    "ob_v3p0_achievementcredential_schema.json": (
        "5753fb3ecf7d024ed273dd364bd683f483eb47257e718e6618832cf89eb2083a"
    ),
}


@pytest.mark.parametrize(("name", "digest"), sorted(PINNED_SHA256.items()))
def test_pinned_file_has_its_published_digest(name, digest):
    assert hashlib.sha256((STANDARDS_DIR / name).read_bytes()).hexdigest() == digest


def test_every_data_file_is_pinned_and_in_the_readme():
    data_files = {p.name for p in STANDARDS_DIR.iterdir() if p.suffix in (".json", ".jsonld")}
    readme = (STANDARDS_DIR / "README.md").read_text()
    readme_rows = dict(re.findall(r"^\| `([^`]+)` \|.*\| ([0-9a-f]{64}) \|$", readme, re.M))

    assert data_files == set(PINNED_SHA256)
    assert readme_rows == PINNED_SHA256
