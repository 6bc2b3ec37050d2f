"""No Docker engine runs here, so the compose file is checked for structure and for agreement
with what the node actually reads (its settings and the CLI's environment variables)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from sdgcities.node.config import Settings

ROOT = Path(__file__).parents[2]
# Read by `sdgcities node serve` / `node init` options rather than by Settings.
CLI_VARIABLES = {"SDGCITIES_DATA_DIR", "SDGCITIES_HOST", "SDGCITIES_PORT"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _node_services(compose: dict[str, Any]) -> dict[str, Any]:
    return {name: s for name, s in compose["services"].items() if name.endswith("-node")}


def test_three_nodes_each_with_its_own_database_and_volume(compose: dict[str, Any]) -> None:
    nodes = _node_services(compose)
    assert set(nodes) == {"global-node", "ke-node", "co-node"}
    ids = {s["environment"]["SDGCITIES_NODE_ID"] for s in nodes.values()}
    assert ids == {"global", "KE", "CO"}
    databases = set()
    for name, service in nodes.items():
        database = next(iter(service["depends_on"]))
        assert compose["services"][database]["image"].startswith("postgres:")
        assert service["depends_on"][database]["condition"] == "service_healthy"
        assert f"@{database}/" in service["environment"]["SDGCITIES_DATABASE_URL"]
        databases.add(database)
        volume = service["volumes"][0].split(":")
        assert volume[1] == "/var/lib/sdgcities", name
        assert volume[0] in compose["volumes"]
        assert "/healthz" in " ".join(service["healthcheck"]["test"])
    assert len(databases) == 3


def test_every_variable_is_one_the_node_reads(compose: dict[str, Any]) -> None:
    settings_variables = {f"SDGCITIES_{name.upper()}" for name in Settings.model_fields}
    known = settings_variables | CLI_VARIABLES
    for service in _node_services(compose).values():
        unknown = set(service["environment"]) - known
        assert unknown == set()
        assert service["environment"]["SDGCITIES_ENVIRONMENT"] == "production"


def test_dockerfile_and_entrypoint_use_real_commands() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    for path in re.findall(r"^COPY (\S+)", dockerfile, flags=re.MULTILINE):
        assert (ROOT / path).exists(), path
    assert "sdgcities node init --data-dir" in entrypoint
    assert "exec sdgcities node serve" in entrypoint
    env_defaults = dict(re.findall(r"(SDGCITIES_\w+)=(\S+)", dockerfile))
    assert set(env_defaults) <= CLI_VARIABLES | {
        f"SDGCITIES_{n.upper()}" for n in Settings.model_fields
    }
