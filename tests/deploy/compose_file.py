"""Reading the deployment as Docker Compose would: the compose file with the documented `.env`
example interpolated into it, the image's environment defaults, and Caddy's routing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "docker" / ".env.example"
CADDYFILE = ROOT / "docker" / "Caddyfile"
DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a dollar.
_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(Exception):
    """A `${NAME:?message}` whose variable is unset (or empty): compose refuses to start."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines as compose reads them: comments and blank lines skipped, quotes removed."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition("=")
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def interpolate(text: str, variables: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name", "op", "arg")
        value = variables.get(name)
        unset = value is None or (value == "" and op is not None and op.startswith(":"))
        if op in (":-", "-") and unset:
            return arg or ""
        if op in (":?", "?") and unset:
            raise MissingVariable(f"{name}: {arg}")
        return value or ""

    return _VARIABLE.sub(substitute, text)


def _interpolated(node: Any, variables: dict[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, variables)
    if isinstance(node, dict):
        return {key: _interpolated(value, variables) for key, value in node.items()}
    if isinstance(node, list):
        return [_interpolated(value, variables) for value in node]
    return node


def load_compose(variables: dict[str, str]) -> dict[str, Any]:
    """The compose file after YAML merge keys (`<<`) and interpolation with `variables`."""
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    interpolated: dict[str, Any] = _interpolated(document, variables)
    return interpolated


def node_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: s for name, s in compose["services"].items() if name.endswith("-node")}


def image_environment() -> dict[str, str]:
    """The `ENV` defaults of the Dockerfile: what a container has before compose adds its own."""
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    values: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            values.update(re.findall(r"(\w+)=(\S+)", line))
    return values


def caddy_routes(variables: dict[str, str]) -> dict[str, tuple[str, int]]:
    """Caddy's site blocks: each public name -> the (service, port) it forwards to."""
    text = CADDYFILE.read_text(encoding="utf-8")
    routes: dict[str, tuple[str, int]] = {}
    for site, upstream, port in re.findall(
        r"^(\S+) \{\s*\n\s*reverse_proxy (\S+):(\d+)\s*\n\s*\}", text, flags=re.MULTILINE
    ):
        name = re.sub(r"\{\$(\w+)\}", lambda m: variables[m.group(1)], site)
        routes[name] = (upstream, int(port))
    return routes
