"""The settings reference, `docs/settings.md`, generated from `Settings` so it cannot drift.

    python -m sdgcities.node.settings_doc > docs/settings.md

`tests/node/test_settings_doc.py` fails when the file differs from what this prints.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .config import Settings

HEADER = """\
# Node settings

<!-- Generated from `sdgcities.node.config.Settings` by
     `python -m sdgcities.node.settings_doc > docs/settings.md`; do not edit by hand. -->

A node reads its settings from the environment (prefix `SDGCITIES_`), then from `.env` in the
working folder, then from `node.env` in its data folder (written by `sdgcities node init`).
A list is written as JSON (`SDGCITIES_TRUSTED_PROXIES='["10.0.0.0/8"]'`). A setting that is
not valid stops the node with one line per problem, naming the setting. `sdgcities node serve`
also reads `SDGCITIES_HOST` and `SDGCITIES_PORT` (its `--host` and `--port`).

| setting | default | what it does |
|---|---|---|
"""


def render_markdown() -> str:
    prefix = str(Settings.model_config.get("env_prefix", ""))
    rows = [
        f"| `{prefix}{name.upper()}` | {_default(field)} | {_cell(field.description or '')} |"
        for name, field in Settings.model_fields.items()
    ]
    return HEADER + "\n".join(rows) + "\n"


def _default(field: FieldInfo) -> str:
    if field.default_factory is not None:
        value: Any = field.default_factory()  # type: ignore[call-arg]
    elif field.default is PydanticUndefined:
        return "(required)"
    else:
        value = field.default
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        return "(a development value, refused outside development)"
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, list | dict):
        value = json.dumps(value)
    return f"`{value}`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


if __name__ == "__main__":
    print(render_markdown(), end="")
