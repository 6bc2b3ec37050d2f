"""Small builders for framework tests: a national adaptation and raw JSON data to break."""

from __future__ import annotations

from typing import Any

from sdgcities.node.frameworks import FrameworkDocument, derive_national, load_baseline


def make_national(country: str = "KE", **overrides: str) -> FrameworkDocument:
    """A national framework derived from the baseline, as a ministry's first step would make."""
    fields = {
        "framework_id": f"sdgcities-{country.lower()}",
        "version": "1",
        "title": f"SDG Cities certification: national framework of {country}",
    }
    fields.update(overrides)
    return derive_national(load_baseline(), country=country, **fields)


def baseline_data() -> dict[str, Any]:
    """The baseline as fresh JSON data, for tests that break it on purpose."""
    return load_baseline().to_json_dict()
