"""docs/settings.md is what `python -m sdgcities.node.settings_doc` prints, every setting in it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sdgcities.node.config import Settings
from sdgcities.node.settings_doc import render_markdown

SETTINGS_DOC = Path(__file__).parents[2] / "docs" / "settings.md"
REGENERATE = "python -m sdgcities.node.settings_doc > docs/settings.md"


def test_docs_settings_md_is_current() -> None:
    assert SETTINGS_DOC.read_text(encoding="utf-8") == render_markdown(), (
        f"docs/settings.md is stale: run `{REGENERATE}`"
    )


def test_every_setting_is_described_and_listed() -> None:
    text = render_markdown()
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"
        assert f"| `SDGCITIES_{name.upper()}` |" in text


def test_the_generator_runs_as_a_module_and_hides_the_development_passphrase() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "sdgcities.node.settings_doc"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout == render_markdown()
    assert "development-only-passphrase" not in done.stdout
    assert "| `SDGCITIES_OUTBOUND_DEADLINE_SECONDS` | `10.0` |" in done.stdout
