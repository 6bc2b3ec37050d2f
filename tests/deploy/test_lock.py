"""The dependency locks (requirements/*.txt, made by `make lock`) agree with pyproject.toml: each
lock pins, with hashes, exactly the direct requirements of its part, at versions inside their
ranges. A dependency added or a range changed without `make lock` fails here, naming the command.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).parents[2]
# Each lock and the extras it holds: what the Docker image and CI install.
LOCKS = {
    "base.txt": (),
    "node.txt": ("node",),
    "dev.txt": ("node", "dev"),
}
DIRECT = "sdgcities (pyproject.toml)"
REGENERATE = "run `make lock` and commit requirements/"


@dataclass
class Pin:
    version: str
    hashes: int
    direct: bool


def read_lock(path: Path) -> dict[str, Pin]:
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        pinned = re.match(r"^([A-Za-z0-9._-]+)==(\S+)", line)
        if pinned:
            current = Pin(pinned.group(2), 0, False)
            pins[canonicalize_name(pinned.group(1))] = current
        elif current is not None and "--hash=sha256:" in line:
            current.hashes += 1
        elif current is not None and DIRECT in line:
            current.direct = True
    return pins


def requirements(extras: tuple[str, ...]) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = [Requirement(r) for r in project["dependencies"]]
    for extra in extras:
        wanted += [Requirement(r) for r in project["optional-dependencies"][extra]]
    return [r for r in wanted if r.marker is None or r.marker.evaluate()]


def lock_problems(pins: dict[str, Pin], wanted: list[Requirement]) -> list[str]:
    problems = []
    for requirement in wanted:
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement.name}=={pin.version} is outside {requirement}")
    names = {canonicalize_name(r.name) for r in wanted}
    stale = sorted(name for name, pin in pins.items() if pin.direct and name not in names)
    problems += [f"{name} is pinned but no longer required" for name in stale]
    return problems


@pytest.mark.parametrize(("lock", "extras"), LOCKS.items())
def test_the_lock_matches_pyproject(lock: str, extras: tuple[str, ...]) -> None:
    problems = lock_problems(read_lock(ROOT / "requirements" / lock), requirements(extras))
    assert not problems, f"requirements/{lock} is stale ({'; '.join(problems)}): {REGENERATE}"


@pytest.mark.parametrize("lock", LOCKS)
def test_every_pin_carries_its_hashes(lock: str) -> None:
    pins = read_lock(ROOT / "requirements" / lock)
    assert pins
    unhashed = sorted(name for name, pin in pins.items() if pin.hashes == 0)
    assert unhashed == [], f"requirements/{lock}: no hash for {unhashed}: {REGENERATE}"


def test_a_stale_lock_is_found(tmp_path: Path) -> None:
    lock = (ROOT / "requirements" / "base.txt").read_text(encoding="utf-8")
    without_typer = re.sub(r"(?ms)^typer==.*?(?=^\S)", "", lock)
    (tmp_path / "base.txt").write_text(without_typer, encoding="utf-8")
    pins = read_lock(tmp_path / "base.txt")
    wanted = [*requirements(()), Requirement("rich>=999"), Requirement("segno>=1.6")]
    wanted = [r for r in wanted if r.name != "httpx"]
    assert lock_problems(pins, wanted) == [
        "typer>=0.12 is not pinned",
        f"rich=={pins['rich'].version} is outside rich>=999",
        "segno>=1.6 is not pinned",
        "httpx is pinned but no longer required",
    ]


# What `sdgcities.credentials` and the investor commands import; anything else the project needs
# belongs to an extra (the node's in `node`), or `pip install sdgcities` grows for investors.
VERIFIER_DEPENDENCIES = {
    "cryptography",
    "httpx",
    "orjson",
    "pybase64",
    "pyjwt",
    "rfc8785",
    "rich",
    "typer",
}


def test_the_base_install_holds_only_the_verifiers_dependencies() -> None:
    base = {canonicalize_name(r.name) for r in requirements(())}
    changed = sorted(base ^ VERIFIER_DEPENDENCIES)
    assert not changed, (
        f"pyproject.toml's [project] dependencies changed ({changed}): "
        "a dependency of the node goes in [project.optional-dependencies] node"
    )
