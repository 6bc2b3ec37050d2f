"""The compose file by behaviour: its three node services, started as their containers would
start them, form a federation by the steps of docs/deploy.md.

No Docker engine runs here, so each node service's container is played by its entrypoint
(`docker/entrypoint.sh`: `node init` on the first start, then `node serve`) run as a process with
the environment the service defines: the Dockerfile's `ENV`, then the service's `environment`
interpolated with the documented `docker/.env.example`. Only what Docker's network and volumes
would provide is translated to this machine:

- a public name that Caddy routes to a service (docker/Caddyfile) -> that node's loopback URL;
- a database service's host -> a fresh database on the local PostgreSQL;
- the volume mounted at the data folder -> a temporary folder; port 8000 -> a free port;
- `production` -> `development`, the one switch for the public-address guard (a production node
  refuses to call loopback or private addresses, which is all there is here).

Then: the root key ceremony (the national nodes pin the global node's root-key.json through
ROOT_KEYS), each national node joins, the secretariat approves it, it syncs the trust list, and a
certificate its committee awards is relayed to the global registry.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlmodel import Session

from sdgcities.credentials import CertificateIssue, Decision, FrameworkRef, StatusEntry
from sdgcities.federation.event_data import CityFacts
from sdgcities.node.config import get_settings
from sdgcities.node.db import make_engine
from sdgcities.node.identity.service import load_active_key
from tests.conftest import TemporaryDatabases
from tests.integration.harness import append_award, free_port, wait_healthy

from .compose_file import (
    ENTRYPOINT,
    ENV_EXAMPLE,
    caddy_routes,
    image_environment,
    load_compose,
    node_services,
    read_env_file,
)

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SDGCITIES = BIN / "sdgcities"
RELAYED_WITHIN_SECONDS = 30.0


class ComposeNode:
    """One node service, started as its container would be."""

    def __init__(self, name: str, root: Path, port: int) -> None:
        self.name = name
        self.data_dir = root / name
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self.environment: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / f"{self.name}.log"

    def start(self, environment: dict[str, str]) -> None:
        self.environment = environment
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["sh", str(ENTRYPOINT)], env=environment, stdout=out, stderr=subprocess.STDOUT
            )
        wait_healthy(self.url, self.process, self.log)

    def first_start_output(self, label: str) -> str:
        """A value `node init` printed once in the container's log (admin token, root key)."""
        found = re.search(rf"^\s*{label}:\s+(\S+)", self.log.read_text(), flags=re.MULTILINE)
        assert found, f"{label!r} not in the log of {self.name}"
        return found.group(1)


class Deployment:
    """The compose file's node services on this machine, with the `.env` an operator wrote."""

    def __init__(self, root: Path, databases: TemporaryDatabases) -> None:
        self.root = root
        self.databases = databases
        self.variables = read_env_file(ENV_EXAMPLE)
        compose = load_compose(self.variables)
        self.nodes = {name: ComposeNode(name, root, free_port()) for name in node_services(compose)}
        self.public_urls = {
            f"https://{name}": self.nodes[service].url
            for name, (service, port) in caddy_routes(self.variables).items()
            if port == 8000
        }
        self.token_files: dict[str, Path] = {}

    def service(self, name: str) -> dict[str, Any]:
        """The service as compose would run it now (after any edit of the `.env`)."""
        compose = load_compose(self.variables)
        service: dict[str, Any] = compose["services"][name]
        return service

    def environment(self, name: str) -> dict[str, str]:
        compose = load_compose(self.variables)
        service = compose["services"][name]
        environment = image_environment() | {k: str(v) for k, v in service["environment"].items()}
        assert environment.pop("SDGCITIES_ENVIRONMENT") == "production"
        [volume] = [v for v in service["volumes"] if v.endswith(":/var/lib/sdgcities")]
        assert environment["SDGCITIES_DATA_DIR"] == "/var/lib/sdgcities"
        assert environment["SDGCITIES_PORT"] == "8000"
        node = self.nodes[name]
        for setting in ("SDGCITIES_BASE_URL", "SDGCITIES_GLOBAL_URL"):
            if setting in environment:
                environment[setting] = self.public_urls[environment[setting]]
        database = urlsplit(environment["SDGCITIES_DATABASE_URL"]).hostname
        assert database in service["depends_on"]
        assert compose["services"][database]["image"].startswith("postgres:")
        environment |= {
            "SDGCITIES_ENVIRONMENT": "development",
            "SDGCITIES_DATA_DIR": str(self.root / volume.split(":")[0]),
            "SDGCITIES_HOST": "127.0.0.1",
            "SDGCITIES_PORT": str(node.port),
            "SDGCITIES_DATABASE_URL": self.databases.create("postgresql"),
        }
        node.data_dir = Path(environment["SDGCITIES_DATA_DIR"])
        here = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
        here["PATH"] = f"{BIN}{os.pathsep}{here.get('PATH', '')}"
        return here | environment

    def up(self, name: str) -> ComposeNode:
        node = self.nodes[name]
        node.start(self.environment(name))
        token_file = self.root / f"{name}.token"
        token_file.write_text(node.first_start_output("admin token") + "\n")
        token_file.chmod(0o600)
        self.token_files[name] = token_file
        return node

    def cli(self, name: str, *args: str) -> Any:
        """An operator command against a node, as docs/deploy.md runs it; its JSON answer."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("SDGCITIES_")}
        env["SDGCITIES_NODE_URL"] = self.nodes[name].url
        done = subprocess.run(
            [str(SDGCITIES), *args, "--token-file", str(self.token_files[name]), "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return json.loads(done.stdout)

    def down(self) -> None:
        for node in self.nodes.values():
            if node.process is not None and node.process.poll() is None:
                node.process.terminate()
        for node in self.nodes.values():
            if node.process is not None:
                try:
                    node.process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait(timeout=10)


@pytest.fixture
def deployment(tmp_path: Path, databases: TemporaryDatabases) -> Any:
    deployed = Deployment(tmp_path, databases)
    try:
        yield deployed
    finally:
        deployed.down()


def award(node: ComposeNode, locode: str, city: str) -> str:
    """What the national committee's award writes to the node's log: the decision and the
    signed certificate (its relay then reports both to the global node)."""
    settings = get_settings(
        data_dir=node.data_dir, key_passphrase=node.environment["SDGCITIES_KEY_PASSPHRASE"]
    )
    engine = make_engine(settings.sqlalchemy_url)
    try:
        with Session(engine) as session:
            key = load_active_key(session=session, settings=settings)
            now = datetime.now(UTC).replace(microsecond=0)
            credential_id = f"urn:uuid:{uuid.uuid4()}"
            token = CertificateIssue(
                credential_id=credential_id,
                issuer_did=settings.did,
                issuer_name=settings.node_name,
                locode=locode,
                city_name=city,
                country=locode[:2],
                stage="qualification",
                framework=FrameworkRef("sdgcities-baseline", "1.0.0", "sha256:" + "0" * 64),
                decision=Decision("committee", "meeting 1: Q1", now),
                criteria=("Q1",),
                valid_from=now,
                valid_until=now + timedelta(days=3 * 365),
                status=StatusEntry(f"{settings.base_url}/status/1", 1),
            ).sign(key, issued_at=now)
            append_award(
                session,
                node_id=settings.node_id,
                item=1,
                locode=locode,
                credential_id=credential_id,
                token=token,
                city=CityFacts(priorities=("Housing",)),
            )
            session.commit()
            return credential_id
    finally:
        engine.dispose()


def test_the_compose_federation_forms_by_the_documented_first_start(
    deployment: Deployment,
) -> None:
    assert set(deployment.nodes) == {"global-node", "ke-node", "co-node"}
    national = ("ke-node", "co-node")
    global_base_url = deployment.service("global-node")["environment"]["SDGCITIES_BASE_URL"]
    for name in national:
        assert deployment.service(name)["environment"]["SDGCITIES_GLOBAL_URL"] == global_base_url
    # The global node keeps the root key its first start made: compose must not replace it.
    assert "SDGCITIES_ROOT_KEYS" not in deployment.service("global-node")["environment"]

    # 1. The global node's first start: node key, root key, first administrator.
    global_node = deployment.up("global-node")
    thumbprint = global_node.first_start_output("root key")

    # 2. The root key ceremony: the checked root-key.json goes into .env as ROOT_KEYS, quoted
    # as docs/deploy.md shows.
    root_jwk = json.loads((global_node.data_dir / "root-key.json").read_text())
    assert root_jwk["kid"] == thumbprint
    env_file = deployment.root / ".env"
    example = ENV_EXAMPLE.read_text(encoding="utf-8")
    assert "\nROOT_KEYS=[]\n" in example
    env_file.write_text(
        example.replace("\nROOT_KEYS=[]\n", f"\nROOT_KEYS='{json.dumps([root_jwk])}'\n"),
        encoding="utf-8",
    )
    deployment.variables = read_env_file(env_file)

    # 3. The national nodes' first start; each joins, is approved, syncs.
    for name in national:
        deployment.up(name)
    for name in national:
        sent = deployment.cli(name, "federation", "join")
        requests = deployment.cli("global-node", "federation", "requests")
        assert sent["request_id"] in {r["id"] for r in requests["data"]}, requests
        deployment.cli("global-node", "federation", "approve", str(sent["request_id"]))
        synced = deployment.cli(name, "federation", "sync")
        assert synced["sequence"] >= 1

    with httpx.Client(timeout=10) as http:
        members = deployment.cli("global-node", "federation", "members")
        statuses = {m["node_id"]: m["status"] for m in members["data"]}
        assert statuses.items() >= {("KE", "active"), ("CO", "active")}, statuses
        # The trust list the national nodes hold is the global node's, signed by the pinned key.
        for name in national:
            node = deployment.nodes[name]
            trust_list = http.get(f"{node.url}/federation/trust-list")
            assert trust_list.status_code == 200, trust_list.text
            header = json.loads(_b64(trust_list.text.split(".")[0]))
            assert header["kid"].endswith(thumbprint), header

        # 4. A certificate Kenya's committee awards reaches the global registry.
        credential_id = award(deployment.nodes["ke-node"], "KE-NBO", "Nairobi")
        deadline = time.monotonic() + RELAYED_WITHIN_SECONDS
        while time.monotonic() < deadline:
            served = http.get(f"{global_node.url}/registry/credentials/{credential_id}")
            if served.status_code == 200:
                break
            time.sleep(0.3)
        assert served.status_code == 200, f"not relayed within {RELAYED_WITHIN_SECONDS} s"
        cities = http.get(f"{global_node.url}/registry/cities", params={"country": "KE"})
        assert [c["locode"] for c in cities.json()["data"]] == ["KE-NBO"]


def _b64(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
