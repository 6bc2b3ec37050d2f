"""No Docker engine runs here, so the compose file is checked for structure and for agreement
with what the node actually reads (its settings and the CLI's environment variables)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from sdgcities.node.config import Settings

from .compose_file import (
    ENV_EXAMPLE,
    MissingVariable,
    caddy_routes,
    interpolate,
    load_compose,
    node_services,
    read_env_file,
)

ROOT = Path(__file__).parents[2]
# Read by `sdgcities node serve` / `node init` options rather than by Settings.
CLI_VARIABLES = {"SDGCITIES_DATA_DIR", "SDGCITIES_HOST", "SDGCITIES_PORT"}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose(read_env_file(ENV_EXAMPLE))


def test_three_nodes_each_with_its_own_database_and_volume(compose: dict[str, Any]) -> None:
    nodes = node_services(compose)
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
    for service in node_services(compose).values():
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


def test_caddy_terminates_tls_for_every_node_and_the_nodes_publish_no_port() -> None:
    variables = read_env_file(ENV_EXAMPLE)
    compose = load_compose(variables)
    caddy = compose["services"]["caddy"]
    assert caddy["image"].startswith("caddy:")
    assert {"80:80", "443:443"} <= set(caddy["ports"])
    assert "./docker/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]
    routes = caddy_routes(variables)
    nodes = node_services(compose)
    # Each node's public base URL is a name Caddy serves, forwarded to that node's port.
    assert {
        service["environment"]["SDGCITIES_BASE_URL"]: name for name, service in nodes.items()
    } == {f"https://{domain}": service for domain, (service, _) in routes.items()}
    assert {port for _, port in routes.values()} == {8000}
    for service in nodes.values():
        assert "ports" not in service
        proxies = json.loads(service["environment"]["SDGCITIES_TRUSTED_PROXIES"])
        assert proxies == [f"{caddy['networks']['federation']['ipv4_address']}/32"]


def test_national_nodes_know_the_global_node_and_pin_its_root_key() -> None:
    compose = load_compose(read_env_file(ENV_EXAMPLE))
    nodes = node_services(compose)
    global_environment = nodes.pop("global-node")["environment"]
    # The global node's own root key (node.env, from its first start) must not be replaced.
    assert "SDGCITIES_ROOT_KEYS" not in global_environment
    assert "SDGCITIES_GLOBAL_URL" not in global_environment
    for service in nodes.values():
        environment = service["environment"]
        assert environment["SDGCITIES_GLOBAL_URL"] == global_environment["SDGCITIES_BASE_URL"]
        assert json.loads(environment["SDGCITIES_ROOT_KEYS"]) == []  # until the ceremony


def test_the_env_example_sets_every_required_variable() -> None:
    variables = read_env_file(ENV_EXAMPLE)
    load_compose(variables)  # raises MissingVariable for a `${NAME:?...}` left unset
    used = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    assert used <= set(variables), used - set(variables)
    for name in ("GLOBAL_KEY_PASSPHRASE", "GLOBAL_DB_PASSWORD", "ACME_EMAIL"):
        with pytest.raises(MissingVariable, match=name):
            load_compose({k: v for k, v in variables.items() if k != name})


def test_interpolation_follows_compose() -> None:
    assert interpolate("${A:-x}/${B-y}/$${C}", {"B": ""}) == "x//${C}"
    assert interpolate("${A}", {}) == ""
    with pytest.raises(MissingVariable, match="A: set A"):
        interpolate("${A:?set A}", {"A": ""})
